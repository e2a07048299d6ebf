package dev.grange.node.api;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.time.Duration;

/**
 * The API's deadlines, read once at start from {@code grange.node.api}: {@code ask-timeout} (every
 * call that needs the store or an entity answers within it) and {@code log-outage-deadline} (how
 * long a live log follower waits for a store that went away).
 */
public record ApiSettings(Duration askTimeout, Duration logOutageDeadline) {
  public ApiSettings {
    positive("ask-timeout", askTimeout);
    positive("log-outage-deadline", logOutageDeadline);
  }

  public static ApiSettings fromConfig(Config root) {
    try {
      Config c = root.getConfig("grange.node.api");
      return new ApiSettings(c.getDuration("ask-timeout"), c.getDuration("log-outage-deadline"));
    } catch (ConfigException e) {
      throw new IllegalArgumentException("bad node config: " + e.getMessage(), e);
    }
  }

  private static void positive(String key, Duration d) {
    if (d == null || d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException("grange.node.api." + key + ": must be a positive duration, got " + d);
    }
  }
}
