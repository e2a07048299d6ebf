package dev.grange.protocol.wire;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A binary frame: a 13-byte header ({@code u32 stream}, {@code u8 kind}, {@code u64 offset},
 * big-endian) then at most {@link Limits#MAX_PAYLOAD_BYTES} of payload. {@code offset} is the
 * payload's byte offset within its stream; stdout and stderr of one exec share one sequence.
 */
public record DataFrame(int stream, StreamKind kind, long offset, byte[] payload) {
  public DataFrame {
    Check.stream("binary frame", stream);
    if (kind == null) {
      throw new ProtocolException("binary frame: kind is required");
    }
    Check.nonNegative("binary frame", "offset", offset);
    if (payload == null) {
      payload = new byte[0];
    }
    if (payload.length > Limits.MAX_PAYLOAD_BYTES) {
      throw new ProtocolException(
          "binary frame payload of " + payload.length + " bytes is over " + Limits.MAX_PAYLOAD_BYTES);
    }
  }

  /** The frame's wire bytes. */
  public byte[] encode() {
    return encode(stream, kind, offset, payload, 0, payload.length);
  }

  /** Wire bytes for {@code len} payload bytes of {@code buf} from {@code off}, in one copy. */
  public static byte[] encode(int stream, StreamKind kind, long offset, byte[] buf, int off, int len) {
    if (len > Limits.MAX_PAYLOAD_BYTES) {
      throw new IllegalArgumentException("payload over " + Limits.MAX_PAYLOAD_BYTES);
    }
    byte[] out = new byte[Limits.BINARY_HEADER_BYTES + len];
    ByteBuffer.wrap(out).putInt(stream).put((byte) kind.code()).putLong(offset).put(buf, off, len);
    return out;
  }

  /** The frame in these wire bytes, or a {@link ProtocolException} saying what is wrong. */
  public static DataFrame decode(ByteBuffer bytes) {
    if (bytes.remaining() < Limits.BINARY_HEADER_BYTES) {
      throw new ProtocolException(
          "binary frame of " + bytes.remaining() + " bytes is shorter than its 13-byte header");
    }
    if (bytes.remaining() - Limits.BINARY_HEADER_BYTES > Limits.MAX_PAYLOAD_BYTES) {
      throw new ProtocolException(
          "binary frame payload of " + (bytes.remaining() - Limits.BINARY_HEADER_BYTES)
              + " bytes is over " + Limits.MAX_PAYLOAD_BYTES);
    }
    ByteBuffer b = bytes.duplicate();
    long stream = Integer.toUnsignedLong(b.getInt());
    if (stream == 0 || stream > Integer.MAX_VALUE) {
      throw new ProtocolException("binary frame: stream must be in 1.." + Integer.MAX_VALUE + ", got " + stream);
    }
    StreamKind kind = StreamKind.of(b.get() & 0xff);
    long offset = b.getLong();
    byte[] payload = new byte[b.remaining()];
    b.get(payload);
    return new DataFrame((int) stream, kind, offset, payload);
  }

  public static DataFrame decode(byte[] bytes) {
    return decode(ByteBuffer.wrap(bytes));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DataFrame d
        && d.stream == stream
        && d.kind == kind
        && d.offset == offset
        && Arrays.equals(d.payload, payload);
  }

  @Override
  public int hashCode() {
    return (31 * (31 * stream + kind.hashCode()) + Long.hashCode(offset)) * 31 + Arrays.hashCode(payload);
  }

  @Override
  public String toString() {
    return "DataFrame[stream=" + stream + ", kind=" + kind + ", offset=" + offset + ", bytes=" + payload.length + "]";
  }
}
