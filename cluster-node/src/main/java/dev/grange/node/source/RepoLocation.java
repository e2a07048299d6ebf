package dev.grange.node.source;

import dev.grange.node.source.SourceException.Kind;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.jgit.lib.RepositoryCache.FileKey;
import org.eclipse.jgit.util.FS;

/**
 * Where the source of a build lives, parsed from the repo string of a submission: a remote URL
 * (or an scp-style ssh address, {@code git@host:path}) that the node mirrors into its cache, or a
 * repository on the node's own disk (a working clone or a bare repository) that it reads in
 * place. Pure parsing plus a look at the local disk; no
 * network.
 */
sealed interface RepoLocation {

  /** The repo as shown to users and in logs: a password in a URL is replaced by {@code ***}. */
  String display();

  /** A file-name-safe name unique to this repository, for its mirror and archive directories. */
  String cacheKey();

  /** A remote repository, fetched into a bare mirror. {@code url} may hold credentials. */
  record Remote(String url, String display, String cacheKey) implements RepoLocation {
    @Override
    public String toString() {
      return display;
    }
  }

  /**
   * A repository on this node's disk. {@code dir} is the git directory itself when {@code bare},
   * otherwise the working tree holding {@code .git}.
   */
  record Local(Path dir, boolean bare, String display, String cacheKey) implements RepoLocation {
    @Override
    public String toString() {
      return display;
    }
  }

  /** Schemes a remote may use. Anything else (ftp, ext::, ...) is refused. */
  Set<String> SCHEMES = Set.of("http", "https", "ssh", "git", "file");

  int MAX_LENGTH = 2048;

  /** Parses a repo string, checking that a local path is an existing git repository. */
  static RepoLocation parse(String repo) throws SourceException {
    if (repo == null || repo.isBlank()) {
      throw new SourceException(
          Kind.BAD_REPO,
          "No repository given: name a git URL (https://, ssh://, git://, file://), an ssh"
              + " address (git@host:path) or a local repository directory");
    }
    String s = repo.strip();
    if (s.length() > MAX_LENGTH) {
      throw new SourceException(
          Kind.BAD_REPO,
          "Repository '" + Parsing.shorten(s) + "' is " + s.length() + " characters long; the"
              + " limit is " + MAX_LENGTH);
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isISOControl(c) || Character.isWhitespace(c)) {
        throw new SourceException(
            Kind.BAD_REPO,
            "Repository '" + Parsing.redact(Parsing.shorten(s)) + "' contains white space or a"
                + " control character; give a git URL or a local directory");
      }
    }
    Matcher m = Parsing.SCHEME.matcher(s);
    if (m.find()) {
      return remote(s, m.group(1).toLowerCase(Locale.ROOT));
    }
    return Parsing.SCP_LIKE.matcher(s).matches() ? scp(s) : local(s);
  }

  /**
   * An scp-style ssh address, {@code user@host:path}: fetched over ssh like {@code
   * ssh://user@host/path}, except that git reads a path without a leading slash relative to the
   * user's home on the host, so the address is passed to git as written.
   */
  private static Remote scp(String s) throws SourceException {
    int colon = s.indexOf(':', s.indexOf('@'));
    String host = s.substring(s.indexOf('@') + 1, colon);
    String path = s.substring(colon + 1);
    if (path.isEmpty() || path.equals("/")) {
      throw new SourceException(
          Kind.BAD_REPO, "Repository '" + s + "' has no path; expected user@host:path/to/repo.git");
    }
    return new Remote(s, s, Parsing.key(host + "/" + path, s));
  }

  private static Remote remote(String url, String scheme) throws SourceException {
    String display = Parsing.redact(url);
    if (!SCHEMES.contains(scheme)) {
      throw new SourceException(
          Kind.BAD_REPO,
          "Repository " + display + " uses the scheme '" + scheme + "', which this node does not"
              + " fetch from; use https://, ssh://, git:// or file://");
    }
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      throw new SourceException(
          Kind.BAD_REPO, "Repository " + display + " is not a well-formed URL: " + e.getReason());
    }
    String host = uri.getHost();
    String path = uri.getPath();
    if (scheme.equals("file")) {
      if (uri.getRawAuthority() != null) {
        throw new SourceException(
            Kind.BAD_REPO,
            "Repository " + display + " names a host; a file:// URL must name a path on this"
                + " node, as in file:///srv/git/project.git");
      }
    } else if (host == null || host.isEmpty()) {
      throw new SourceException(
          Kind.BAD_REPO,
          "Repository " + display + " has no host name; expected " + scheme + "://host/path");
    }
    if (path == null || path.isEmpty() || path.equals("/")) {
      throw new SourceException(
          Kind.BAD_REPO,
          "Repository " + display + " has no path; expected " + scheme + "://"
              + (scheme.equals("file") ? "/path/to/repo.git" : "host/path/to/repo"));
    }
    String plain = (host == null ? "" : host) + path;
    return new Remote(url, display, Parsing.key(plain, url));
  }

  private static Local local(String s) throws SourceException {
    Path dir;
    try {
      dir = Path.of(s).toAbsolutePath().normalize();
    } catch (InvalidPathException e) {
      throw new SourceException(
          Kind.BAD_REPO, "Repository '" + s + "' is neither a git URL nor a valid local path");
    }
    if (!Files.isDirectory(dir)) {
      throw new SourceException(
          Kind.BAD_REPO,
          "Repository '" + s + "' is neither a git URL (https://, ssh://, git://, file://, or"
              + " git@host:path) nor an existing directory on this node");
    }
    try {
      dir = dir.toRealPath();
    } catch (IOException e) {
      throw new SourceException(
          Kind.BAD_REPO, "Repository '" + s + "' cannot be read on this node: " + e, e);
    }
    boolean bare = FileKey.isGitRepository(dir.toFile(), FS.DETECTED);
    if (!bare && !Files.exists(dir.resolve(".git"))) {
      throw new SourceException(
          Kind.BAD_REPO,
          "Directory " + dir + " is not a git repository (it has no .git and is not a bare"
              + " repository)");
    }
    String display = dir.toString();
    return new Local(dir, bare, display, Parsing.key(display, "local:" + display));
  }

  /** Helpers for the parsing above, kept out of the interface's public surface. */
  final class Parsing {
    static final Pattern SCHEME = Pattern.compile("^([A-Za-z][A-Za-z0-9+.-]*)://");
    static final Pattern SCP_LIKE = Pattern.compile("^[^/:]+@[^/:]+:.*");
    private static final Pattern USER_INFO = Pattern.compile("^([A-Za-z][A-Za-z0-9+.-]*)://([^/@]*)@");
    private static final Pattern UNSAFE = Pattern.compile("[^A-Za-z0-9._-]+");

    private Parsing() {}

    /**
     * Hides secrets in a URL's user info: a password always, and for http(s) a bare user name too,
     * since that is where access tokens go ({@code https://TOKEN@host/...}).
     */
    static String redact(String url) {
      Matcher m = USER_INFO.matcher(url);
      if (!m.find()) {
        return url;
      }
      String scheme = m.group(1).toLowerCase(Locale.ROOT);
      String info = m.group(2);
      int colon = info.indexOf(':');
      String shown;
      if (colon >= 0) {
        shown = info.substring(0, colon) + ":***";
      } else if (scheme.startsWith("http")) {
        shown = "***";
      } else {
        return url;
      }
      return m.group(1) + "://" + shown + "@" + url.substring(m.end());
    }

    static String shorten(String s) {
      return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }

    /** A readable tail of {@code readable} plus a hash of {@code identity}, safe as a file name. */
    static String key(String readable, String identity) {
      String name = UNSAFE.matcher(readable).replaceAll("_").replaceAll("^[_.]+", "");
      if (name.length() > 48) {
        name = name.substring(name.length() - 48);
      }
      try {
        byte[] h = MessageDigest.getInstance("SHA-256").digest(identity.getBytes(StandardCharsets.UTF_8));
        return name + "-" + HexFormat.of().formatHex(h, 0, 8);
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
      }
    }
  }
}
