package dev.grange.node.pool.cloud;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigUtil;
import dev.grange.protocol.model.HostTypeSpec;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * How a {@link CloudPool} runs ({@code grange.pools.<kind>}).
 *
 * @param apiRate create and delete calls per second at most
 * @param janitorEvery how often the cloud's instances are listed and checked
 * @param idleTimeout how long an instance above the warm minimum may stay idle
 * @param maxLifetime an instance's delete-at: its creation plus this
 * @param patience how long a need that does not fit may be passed over by smaller ones
 * @param reconnectGrace how long an instance's agent may be away before the instance is deleted
 * @param backoff how long a host type waits after a create failed, by the failure's kind
 * @param warm instances kept per host type even when idle
 * @param nodeUrls the URLs the instances' agents dial
 * @param masterKey derives each instance's key
 */
public record CloudPoolSettings(Quota quota, double apiRate, Duration janitorEvery, Duration idleTimeout, Duration maxLifetime,
    Duration patience, Duration reconnectGrace, Backoff backoff, Map<String, Integer> warm, List<String> nodeUrls, byte[] masterKey) {
  /**
   * After a create failed, the host type asks again no sooner than this ({@code create-backoff}).
   *
   * @param quota the cloud's own quota was exhausted
   * @param refused the cloud refused the request itself (a bad image, a bad machine type)
   * @param unavailableMax the cloud could not be reached or failed: 1 s, doubling with each
   *     failure in a row, at most this
   */
  public record Backoff(Duration quota, Duration refused, Duration unavailableMax) {
    public static final Backoff DEFAULT = new Backoff(Duration.ofSeconds(30), Duration.ofMinutes(5), Duration.ofMinutes(1));

    /** The wait after the {@code failures}-th failure in a row of {@code kind}. */
    public Duration after(ProviderException.Kind kind, int failures) {
      return switch (kind) {
        case QUOTA -> quota;
        case REFUSED -> refused;
        case UNAVAILABLE -> Duration.ofMillis(Math.min(unavailableMax.toMillis(), 1000L << Math.min(16, Math.max(0, failures - 1))));
      };
    }
  }

  public CloudPoolSettings {
    warm = Map.copyOf(warm);
    nodeUrls = List.copyOf(nodeUrls);
    if (apiRate <= 0) {
      throw new IllegalArgumentException("api-rate must be positive");
    }
  }

  /**
   * The settings of the pool of {@code kind} from {@code grange.pools.<kind>}; {@code hosts} are
   * the host types of that kind (a warm minimum must name one of them).
   *
   * @throws IllegalArgumentException naming the key that is wrong
   */
  public static CloudPoolSettings fromConfig(Config config, String kind, Map<String, HostTypeSpec> hosts, List<String> agentUrls,
      byte[] masterKey) {
    String at = "grange.pools." + kind;
    Config c = config.getConfig(at);
    Map<String, Long> families = new TreeMap<>();
    for (String f : c.getObject("cpu-families").keySet()) {
      families.put(f, milli(c.getDouble("cpu-families." + ConfigUtil.quoteString(f)), at + ".cpu-families." + f));
    }
    Map<String, Integer> warm = new TreeMap<>();
    for (String h : c.getObject("warm").keySet()) {
      if (!hosts.containsKey(h)) {
        throw new IllegalArgumentException(at + ".warm." + h + ": no host type " + h + " with pool = " + kind);
      }
      int n = c.getInt("warm." + ConfigUtil.quoteString(h));
      if (n < 0) {
        throw new IllegalArgumentException(at + ".warm." + h + " must not be negative");
      }
      warm.put(h, n);
    }
    int maxInstances = c.getInt("max-instances");
    if (maxInstances < 0) {
      throw new IllegalArgumentException(at + ".max-instances must not be negative (0: no limit)");
    }
    double rate = c.getDouble("api-rate");
    if (rate <= 0) {
      throw new IllegalArgumentException(at + ".api-rate must be positive");
    }
    List<String> urls = c.getStringList("node-urls");
    Backoff backoff = new Backoff(positive(c, "create-backoff.quota", at), positive(c, "create-backoff.refused", at),
        positive(c, "create-backoff.unavailable-max", at));
    return new CloudPoolSettings(new Quota(maxInstances, milli(c.getDouble("max-cpus"), at + ".max-cpus"), families), rate,
        positive(c, "janitor-interval", at), positive(c, "idle-timeout", at), positive(c, "max-lifetime", at), c.getDuration("patience"),
        positive(c, "reconnect-grace", at), backoff, warm, urls.isEmpty() ? agentUrls : urls, masterKey);
  }

  private static long milli(double cpus, String key) {
    if (cpus < 0) {
      throw new IllegalArgumentException(key + " must not be negative (0: no limit)");
    }
    return Math.round(cpus * 1000);
  }

  private static Duration positive(Config c, String key, String at) {
    Duration d = c.getDuration(key);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(at + "." + key + " must be positive");
    }
    return d;
  }
}
