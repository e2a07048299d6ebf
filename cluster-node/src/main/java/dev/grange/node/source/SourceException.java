package dev.grange.node.source;

/**
 * Why the source of a build could not be read. The {@link Kind} says whose move it is (fix the
 * repo string, fix the rev, or wait for the remote); the message says what was wrong in words a
 * user can act on and names the repository and the rev. Failures of this node itself (its cache
 * directory cannot be written) are not a {@code SourceException} but an {@link
 * java.io.UncheckedIOException}.
 */
public final class SourceException extends Exception {

  private static final long serialVersionUID = 1L;

  /** What was wrong. */
  public enum Kind {
    /** Not a git repository, a malformed URL, or a scheme this node does not fetch from. */
    BAD_REPO,
    /** A remote that could not be fetched (network, authentication, no such repository). */
    REPO_UNREACHABLE,
    /** A well-formed rev that names no commit in the repository. */
    UNKNOWN_REV,
    /** A rev that is not well formed (characters, length, syntax). */
    BAD_REV
  }

  private final Kind kind;

  public SourceException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public SourceException(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}
