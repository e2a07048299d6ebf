package dev.grange.node.pool.cloud;

/** A provider call that failed, in words the pool can act on. */
public final class ProviderException extends RuntimeException {
  /** What the pool does about it. */
  public enum Kind {
    /** The cloud's own quota is exhausted (GCE QUOTA_EXCEEDED, a ResourceQuota): wait and try again later. */
    QUOTA,
    /** The cloud refused this request as it is (bad image, invalid spec, forbidden): trying again will not help. */
    REFUSED,
    /** The cloud could not be reached or answered an error that may pass: try again with backoff. */
    UNAVAILABLE
  }

  private final Kind kind;

  public ProviderException(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  public ProviderException(Kind kind, String message) {
    this(kind, message, null);
  }

  public Kind kind() {
    return kind;
  }
}
