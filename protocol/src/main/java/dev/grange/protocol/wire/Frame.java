package dev.grange.protocol.wire;

import com.fasterxml.jackson.annotation.JsonTypeName;

/**
 * A text frame of the buildlet channel: one JSON object whose {@code op} names its kind
 * (PROTOCOL.md section 2). Frames the node sends are {@link NodeFrame}s, frames the agent sends
 * are {@link AgentFrame}s; the four kinds both sides send are declared here. {@link FrameCodec}
 * turns them into JSON and back.
 */
public sealed interface Frame permits NodeFrame, AgentFrame {

  /** Heartbeat; either side sends it every {@code heartbeatMs}; the other answers {@link Pong}. */
  @JsonTypeName("ping")
  record Ping(long t) implements NodeFrame, AgentFrame {}

  /** Answer to a {@link Ping}, echoing its {@code t}. */
  @JsonTypeName("pong")
  record Pong(long t) implements NodeFrame, AgentFrame {}

  /** The receiver of {@code stream} allows the sender {@code bytes} more bytes in flight. */
  @JsonTypeName("credit")
  record Credit(int stream, long bytes) implements NodeFrame, AgentFrame {
    public Credit {
      Check.stream("credit", stream);
      if (bytes <= 0) {
        throw new ProtocolException("credit: bytes must be positive, got " + bytes);
      }
    }
  }

  /**
   * The sender of {@code stream} has sent all of it: {@code bytes} in total with this SHA-256;
   * the receiver checks both.
   */
  @JsonTypeName("end")
  record End(int stream, long bytes, String sha256) implements NodeFrame, AgentFrame {
    public End {
      Check.stream("end", stream);
      Check.nonNegative("end", "bytes", bytes);
      Check.required("end", "sha256", sha256);
      if (!sha256.matches("[0-9a-f]{64}")) {
        throw new ProtocolException("end: sha256 must be 64 lowercase hex digits");
      }
    }
  }
}
