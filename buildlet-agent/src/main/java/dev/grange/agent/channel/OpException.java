package dev.grange.agent.channel;

import dev.grange.protocol.wire.AgentFrame;
import dev.grange.protocol.wire.ErrorCode;

/**
 * A request the agent refuses or could not carry out. It becomes the {@code error} answer of
 * PROTOCOL.md section 3, so its message is written for the person reading the build log: it
 * says what was wrong and, where it helps, what to do instead.
 */
public final class OpException extends Exception {
  private final ErrorCode code;

  public OpException(ErrorCode code, String message) {
    super(message);
    this.code = code;
  }

  public OpException(ErrorCode code, String message, Throwable cause) {
    super(message, cause);
    this.code = code;
  }

  public ErrorCode code() {
    return code;
  }

  /** The {@code error} frame answering request {@code id}. */
  public AgentFrame.Error toFrame(long id) {
    return new AgentFrame.Error(id, code, getMessage());
  }

  public static OpException badRequest(String message) {
    return new OpException(ErrorCode.BAD_REQUEST, message);
  }

  public static OpException forbidden(String message) {
    return new OpException(ErrorCode.FORBIDDEN_PATH, message);
  }

  public static OpException notFound(String message) {
    return new OpException(ErrorCode.NOT_FOUND, message);
  }

  public static OpException tooLarge(String message) {
    return new OpException(ErrorCode.TOO_LARGE, message);
  }

  public static OpException io(String message, Throwable cause) {
    return new OpException(ErrorCode.IO_ERROR, message, cause);
  }
}
