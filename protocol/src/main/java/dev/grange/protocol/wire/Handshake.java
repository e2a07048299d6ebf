package dev.grange.protocol.wire;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The connect request of PROTOCOL.md section 1: its path, its headers, and the keys an agent
 * presents. A reverse (dedicated) machine's key is bound to its host type, a pool-created
 * instance's key to its instance name; both derive from the farm's master key, so the node
 * stores no per-machine secrets and can check a key without a lookup.
 */
public final class Handshake {
  public static final String PATH = "/buildlet/v1/connect";
  public static final String HOST_TYPE = "Grange-Host-Type";
  public static final String HOSTNAME = "Grange-Hostname";
  public static final String AGENT_ID = "Grange-Agent-Id";
  public static final String AGENT_VERSION = "Grange-Agent-Version";
  public static final String INSTANCE = "Grange-Instance";
  public static final String AUTHORIZATION = "Authorization";

  private static final Pattern AGENT_ID_FORMAT = Pattern.compile("[0-9a-f]{32}");

  private Handshake() {}

  /** The key of a dedicated machine of {@code hostType}. */
  public static String hostKey(byte[] masterKey, String hostType) {
    return hmacHex(masterKey, "host:" + hostType);
  }

  /** The key of the pool-created instance {@code instance}. */
  public static String instanceKey(byte[] masterKey, String instance) {
    return hmacHex(masterKey, "instance:" + instance);
  }

  /** Compares a presented key with the expected one in time independent of where they differ. */
  public static boolean keyMatches(String expectedHex, String presented) {
    if (presented == null) {
      return false;
    }
    return MessageDigest.isEqual(
        expectedHex.getBytes(StandardCharsets.US_ASCII),
        presented.trim().getBytes(StandardCharsets.US_ASCII));
  }

  /** The key of an {@code Authorization: Bearer <key>} header, or null. */
  public static String bearer(String authorization) {
    if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return null;
    }
    String key = authorization.substring(7).trim();
    return key.isEmpty() ? null : key;
  }

  /** True for a 128-bit lowercase hex agent id. */
  public static boolean validAgentId(String id) {
    return id != null && AGENT_ID_FORMAT.matcher(id).matches();
  }

  private static String hmacHex(byte[] key, String message) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return HexFormat.of().formatHex(mac.doFinal(message.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }
}
