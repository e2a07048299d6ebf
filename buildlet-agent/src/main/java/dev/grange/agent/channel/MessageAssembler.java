package dev.grange.agent.channel;

import dev.grange.protocol.wire.Limits;
import dev.grange.protocol.wire.ProtocolException;
import java.nio.ByteBuffer;

/**
 * Puts fragmented WebSocket messages back together ({@code last == false} parts), enforcing the
 * size limits of {@link Limits} while it does so: a message over its limit is refused as soon
 * as the part that crosses it arrives, so a peer cannot make the agent buffer without bound.
 * Used by one listener thread at a time.
 */
final class MessageAssembler {
  static final int MAX_BINARY_BYTES = Limits.BINARY_HEADER_BYTES + Limits.MAX_PAYLOAD_BYTES;

  private final StringBuilder text = new StringBuilder();
  private long textBytes;
  private ByteBuffer binary;

  /** Adds a text part; returns the whole message after its last part, else null. */
  String text(CharSequence part, boolean last) {
    textBytes += utf8Length(part);
    if (textBytes > Limits.MAX_TEXT_FRAME_BYTES) {
      text.setLength(0);
      textBytes = 0;
      throw new ProtocolException("text frame is over " + Limits.MAX_TEXT_FRAME_BYTES + " bytes");
    }
    if (last && text.length() == 0) {
      textBytes = 0;
      return part.toString();
    }
    text.append(part);
    if (!last) {
      return null;
    }
    String whole = text.toString();
    text.setLength(0);
    textBytes = 0;
    return whole;
  }

  /** Adds a binary part; returns the whole message (a fresh buffer) after its last part. */
  ByteBuffer binary(ByteBuffer part, boolean last) {
    int have = binary == null ? 0 : binary.position();
    if ((long) have + part.remaining() > MAX_BINARY_BYTES) {
      binary = null;
      throw new ProtocolException(
          "binary frame is over " + MAX_BINARY_BYTES + " bytes (13-byte header + "
              + Limits.MAX_PAYLOAD_BYTES + " payload)");
    }
    if (binary == null) {
      // The listener's buffer is reused once we return: copy it out.
      binary = ByteBuffer.allocate(last ? part.remaining() : MAX_BINARY_BYTES);
    }
    binary.put(part);
    if (!last) {
      return null;
    }
    ByteBuffer whole = binary.flip();
    binary = null;
    return whole;
  }

  /** The UTF-8 length of {@code s}: a surrogate pair is 4 bytes, so 2 per surrogate char. */
  static long utf8Length(CharSequence s) {
    long n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        n += 1;
      } else if (c < 0x800) {
        n += 2;
      } else if (Character.isSurrogate(c)) {
        n += 2;
      } else {
        n += 3;
      }
    }
    return n;
  }
}
