package dev.grange.node.source;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPOutputStream;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;

class GitHttpRoutesTest {
  private static byte[] gzip(byte[] plain) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(plain);
    }
    return out.toByteArray();
  }

  @Test
  void aGzipdRequestThatInflatesPastTheLimitFailsWhenReadThatFar() throws Exception {
    byte[] bomb = gzip(new byte[1 << 20]); // 1 MiB of zeros: about 1 KiB gzip'd
    assertTrue(bomb.length < 4096, "a small body: " + bomb.length);
    try (InputStream in = GitHttpRoutes.requestBody(ByteString.fromArray(bomb), "gzip", 64 * 1024)) {
      IOException e = assertThrows(IOException.class, in::readAllBytes);
      assertTrue(e.getMessage().contains("over 65536 bytes"), e.getMessage());
    }
  }

  @Test
  void requestsWithinTheLimitReadWholeGzipdOrNot() throws Exception {
    byte[] wants = "0032want 0123456789abcdef0123456789abcdef01234567\n00000009done\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    try (InputStream in = GitHttpRoutes.requestBody(ByteString.fromArray(gzip(wants)), "GZIP", wants.length)) {
      assertArrayEquals(wants, in.readAllBytes());
    }
    try (InputStream in = GitHttpRoutes.requestBody(ByteString.fromArray(wants), "", 1)) {
      assertArrayEquals(wants, in.readAllBytes(), "a plain body's size is checked before, by the route's size limit");
    }
  }
}
