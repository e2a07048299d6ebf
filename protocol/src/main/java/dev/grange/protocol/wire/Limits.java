package dev.grange.protocol.wire;

/** The fixed numbers of the buildlet channel, version 1 (PROTOCOL.md sections 1 and 2). */
public final class Limits {
  /** The protocol version this code speaks. */
  public static final int VERSION = 1;
  /** A text frame is one JSON object of at most this many bytes (UTF-8). */
  public static final int MAX_TEXT_FRAME_BYTES = 1 << 20;
  /** A binary frame carries at most this many payload bytes after its header. */
  public static final int MAX_PAYLOAD_BYTES = 256 << 10;
  /** The size of a binary frame's header: u32 stream, u8 kind, u64 offset. */
  public static final int BINARY_HEADER_BYTES = 13;
  /** The credit every stream starts with. */
  public static final long INITIAL_CREDIT = 1 << 20;
  /** WebSocket close code for a protocol violation. */
  public static final int CLOSE_POLICY_VIOLATION = 1008;
  /** WebSocket close code for a socket replaced by a newer one of the same agent. */
  public static final int CLOSE_REPLACED = 4000;

  private Limits() {}
}
