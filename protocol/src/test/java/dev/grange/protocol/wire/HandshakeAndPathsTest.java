package dev.grange.protocol.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HandshakeAndPathsTest {
  static final byte[] MASTER = "master-key-for-tests".getBytes(StandardCharsets.UTF_8);

  @Test
  void hostAndInstanceKeysAreHmacSha256OfTheirNames() {
    // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog"), the RFC 4231-style known answer.
    assertEquals("f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8",
        hmacOf("key", "The quick brown fox jumps over the lazy dog"));
    assertEquals(hmacOf(new String(MASTER, StandardCharsets.UTF_8), "host:linux-amd64"), Handshake.hostKey(MASTER, "linux-amd64"));
    assertEquals(hmacOf(new String(MASTER, StandardCharsets.UTF_8), "instance:pod-1"), Handshake.instanceKey(MASTER, "pod-1"));
    String host = Handshake.hostKey(MASTER, "linux-amd64");
    assertEquals(64, host.length());
    assertNotEquals(host, Handshake.hostKey(MASTER, "linux-arm64"));
    assertNotEquals(host, Handshake.instanceKey(MASTER, "linux-amd64"));
    assertTrue(Handshake.keyMatches(host, host));
    assertFalse(Handshake.keyMatches(host, host.substring(1)));
    assertFalse(Handshake.keyMatches(host, null));
  }

  private static String hmacOf(String key, String msg) {
    try {
      javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
      mac.init(new javax.crypto.spec.SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return java.util.HexFormat.of().formatHex(mac.doFinal(msg.getBytes(StandardCharsets.UTF_8)));
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void bearerKeysAndAgentIds() {
    assertEquals("abc", Handshake.bearer("Bearer abc"));
    assertEquals("abc", Handshake.bearer("bearer  abc "));
    assertNull(Handshake.bearer("Basic abc"));
    assertNull(Handshake.bearer("Bearer "));
    assertNull(Handshake.bearer(null));
    assertTrue(Handshake.validAgentId("0123456789abcdef0123456789abcdef"));
    assertFalse(Handshake.validAgentId("0123456789ABCDEF0123456789abcdef"));
    assertFalse(Handshake.validAgentId("short"));
  }

  @Test
  void relativePathsAreNormalized() {
    assertEquals(".", WorkPaths.normalize(""));
    assertEquals(".", WorkPaths.normalize("./."));
    assertEquals("a/b", WorkPaths.normalize("a//./b/"));
    assertEquals("src/..x", WorkPaths.normalize("src/..x"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"/etc/passwd", "..", "a/../../b", "a/..", "C:/x", "c:x", "a\\b", "a\0b"})
  void pathsOutsideTheWorkdirAreForbidden(String p) {
    WorkPaths.ForbiddenPathException e = assertThrows(WorkPaths.ForbiddenPathException.class, () -> WorkPaths.normalize(p));
    assertTrue(e.getMessage().startsWith("path \""), e.getMessage());
  }
}
