package dev.grange.protocol.wire;

import java.util.ArrayList;
import java.util.List;

/**
 * The lexical rules for every {@code dir} and {@code path} of the channel (PROTOCOL.md section
 * 4): relative to the workdir, {@code /} separators, no absolute path, no drive letter, no
 * {@code ..}. What a path resolves to on disk (symlinks) is the agent's check on top of this.
 */
public final class WorkPaths {
  private WorkPaths() {}

  /**
   * The path in normal form ("." for the workdir itself, else segments joined by "/", no empty
   * or "." segments), or a {@link ForbiddenPathException} that says why it is refused.
   */
  public static String normalize(String path) {
    if (path == null || path.isEmpty()) {
      return ".";
    }
    if (path.indexOf('\0') >= 0) {
      throw new ForbiddenPathException(path, "contains a NUL byte");
    }
    if (path.indexOf('\\') >= 0) {
      throw new ForbiddenPathException(path, "uses \\ (paths use / separators)");
    }
    if (path.startsWith("/")) {
      throw new ForbiddenPathException(path, "is absolute (paths are relative to the workdir)");
    }
    if (path.length() >= 2 && path.charAt(1) == ':' && Character.isLetter(path.charAt(0))) {
      throw new ForbiddenPathException(path, "has a drive letter");
    }
    List<String> parts = new ArrayList<>();
    for (String seg : path.split("/")) {
      if (seg.isEmpty() || seg.equals(".")) {
        continue;
      }
      if (seg.equals("..")) {
        throw new ForbiddenPathException(path, "has a .. component");
      }
      parts.add(seg);
    }
    return parts.isEmpty() ? "." : String.join("/", parts);
  }

  /** A path refused by the workdir rules; the agent answers {@code forbidden_path}. */
  public static final class ForbiddenPathException extends RuntimeException {
    private final String path;

    public ForbiddenPathException(String path, String why) {
      super("path \"" + path + "\" " + why);
      this.path = path;
    }

    public String path() {
      return path;
    }
  }
}
