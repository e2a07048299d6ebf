package dev.grange.node.pool.cloud;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Instance names that are valid everywhere an instance is named: a Kubernetes pod name and label
 * value, a GCE VM name and label value, an agent's {@code --instance}: {@code grange-<host
 * type>-<8 hex>}, lower case, {@code [a-z]([-a-z0-9]*[a-z0-9])?}, at most 63 characters (the host
 * type's dots and underscores become dashes and a long one is cut).
 */
public final class InstanceNames {
  private InstanceNames() {}

  public static final int MAX_LENGTH = 63;
  private static final Pattern VALID = Pattern.compile("[a-z]([-a-z0-9]*[a-z0-9])?");
  private static final SecureRandom RANDOM = new SecureRandom();

  /** A fresh name for an instance of {@code hostType}. */
  public static String fresh(String hostType) {
    byte[] b = new byte[4];
    RANDOM.nextBytes(b);
    return of(hostType, HexFormat.of().formatHex(b));
  }

  static String of(String hostType, String suffix) {
    String t = hostType.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]", "-").replaceAll("-+", "-");
    int room = MAX_LENGTH - "grange-".length() - 1 - suffix.length();
    if (t.length() > room) {
      t = t.substring(0, room);
    }
    t = t.replaceAll("^-+|-+$", "");
    String name = "grange-" + (t.isEmpty() ? "" : t + "-") + suffix;
    if (!valid(name)) {
      throw new IllegalStateException("not a valid instance name: " + name);
    }
    return name;
  }

  /** Whether {@code name} is a name this class could have made (checked before any cloud call that names one). */
  public static boolean valid(String name) {
    return name != null && name.length() <= MAX_LENGTH && VALID.matcher(name).matches();
  }
}
