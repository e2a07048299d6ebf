package dev.grange.node.buildlet;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.time.Duration;

/**
 * When a buildlet is quarantined and how its health check runs: {@code maxFailures}
 * infrastructure failures within {@code window} quarantine it; while quarantined and connected a
 * check runs every {@code checkEvery}; checks passing for {@code probation} lift the quarantine.
 */
public record QuarantinePolicy(int maxFailures, Duration window, Duration checkEvery, Duration probation) {
  public static final QuarantinePolicy DEFAULT = new QuarantinePolicy(3, Duration.ofHours(1), Duration.ofMinutes(1), Duration.ofMinutes(10));

  public QuarantinePolicy {
    if (maxFailures < 1 || maxFailures > BuildletState.MAX_RECENT) {
      throw new IllegalArgumentException(
          "grange.node.quarantine.max-failures: must be between 1 and " + BuildletState.MAX_RECENT + ", got " + maxFailures);
    }
    positive("window", window);
    positive("check-every", checkEvery);
    positive("probation", probation);
  }

  /** Reads {@code grange.node.quarantine} (the config given is that section). */
  public static QuarantinePolicy fromConfig(Config c) {
    try {
      return new QuarantinePolicy(c.getInt("max-failures"), c.getDuration("window"), c.getDuration("check-every"), c.getDuration("probation"));
    } catch (ConfigException e) {
      throw new IllegalArgumentException("bad node config: grange.node.quarantine: " + e.getMessage(), e);
    }
  }

  private static void positive(String key, Duration d) {
    if (d == null || d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException("grange.node.quarantine." + key + ": must be a positive duration, got " + d);
    }
  }
}
