package dev.grange.protocol.wire;

/**
 * A frame that breaks the buildlet channel's rules: malformed JSON, a missing or bad field, a
 * frame over its size limit. The receiver closes the socket with {@link
 * Limits#CLOSE_POLICY_VIOLATION} and logs {@link #getMessage()}, which says what was wrong.
 */
public class ProtocolException extends RuntimeException {
  public ProtocolException(String message) {
    super(message);
  }

  public ProtocolException(String message, Throwable cause) {
    super(message, cause);
  }
}
