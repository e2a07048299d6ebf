package dev.grange.bench.channel;

import dev.grange.protocol.wire.Limits;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Random;

/**
 * The bytes the channel baselines move: one frame payload ({@link Limits#MAX_PAYLOAD_BYTES},
 * 256 KiB) of base64 text of random bytes, like the firehose build's output, so that no layer
 * that compresses (Cassandra's LZ4 in {@link LogStoreAlone}) gets an easier job than the real
 * path. Fixed seed: every run moves the same bytes.
 */
final class Payload {
  /** Payload bytes per frame, as the agent sends them. */
  static final int CHUNK = Limits.MAX_PAYLOAD_BYTES;

  private Payload() {}

  static byte[] chunk() {
    byte[] random = new byte[CHUNK / 4 * 3];
    new Random(42).nextBytes(random);
    byte[] text = Base64.getEncoder().encodeToString(random).getBytes(StandardCharsets.US_ASCII);
    if (text.length != CHUNK) {
      throw new IllegalStateException("payload is " + text.length + " bytes, not " + CHUNK);
    }
    return text;
  }

  /** MB/s, MB = 10^6 bytes. */
  static double mbPerSecond(long bytes, long nanos) {
    return bytes / 1e6 / (nanos / 1e9);
  }
}
