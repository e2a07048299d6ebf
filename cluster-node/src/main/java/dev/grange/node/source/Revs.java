package dev.grange.node.source;

import dev.grange.node.source.SourceException.Kind;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Checks the rev of a submission before it reaches JGit: only the characters that branch names,
 * tags, shas and the {@code ^}/{@code ~} ancestry suffixes use, so no reflog ({@code @{...}}),
 * path ({@code rev:path}) or search ({@code :/text}) syntax gets through.
 */
final class Revs {

  static final int MAX_LENGTH = 200;

  private static final Pattern ALLOWED = Pattern.compile("[A-Za-z0-9._/@^~-]+");
  private static final Pattern FULL_SHA = Pattern.compile("[0-9a-fA-F]{40}");

  private Revs() {}

  /** Returns {@code rev} if it may be given to the resolver, else throws {@code BAD_REV}. */
  static String check(String rev, RepoLocation repo) throws SourceException {
    if (rev == null || rev.isEmpty()) {
      throw new SourceException(
          Kind.BAD_REV,
          "No rev given for " + repo.display() + ": name a commit sha, a branch, a tag or HEAD");
    }
    if (rev.length() > MAX_LENGTH) {
      throw new SourceException(
          Kind.BAD_REV,
          "Rev '" + rev.substring(0, 40) + "...' for " + repo.display() + " is " + rev.length()
              + " characters long; the limit is " + MAX_LENGTH);
    }
    if (!ALLOWED.matcher(rev).matches()) {
      throw new SourceException(
          Kind.BAD_REV,
          "Rev '" + printable(rev) + "' for " + repo.display() + " may only contain letters,"
              + " digits and . _ / @ ^ ~ -: name a commit sha, a branch, a tag or HEAD");
    }
    return rev;
  }

  /** Returns the lower-case form of a full 40-hex sha, else throws {@code BAD_REV}. */
  static String checkFullSha(String sha, RepoLocation repo) throws SourceException {
    if (sha == null || !FULL_SHA.matcher(sha).matches()) {
      throw new SourceException(
          Kind.BAD_REV,
          "Commit '" + (sha == null ? "" : printable(sha.length() > 60 ? sha.substring(0, 60) : sha))
              + "' for " + repo.display() + " is not a full 40-digit hexadecimal sha; resolve"
              + " the rev first");
    }
    return sha.toLowerCase(Locale.ROOT);
  }

  static boolean isFullSha(String rev) {
    return FULL_SHA.matcher(rev).matches();
  }

  /** The rev with control characters escaped, so a message cannot forge log lines. */
  private static String printable(String s) {
    StringBuilder b = new StringBuilder(s.length());
    s.codePoints()
        .forEach(
            c -> {
              if (Character.isISOControl(c)) {
                b.append(String.format("\\u%04x", c));
              } else {
                b.appendCodePoint(c);
              }
            });
    return b.toString();
  }
}
