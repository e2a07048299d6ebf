package dev.grange.node.testing;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.grange.node.store.EmbeddedCassandra;
import dev.grange.node.store.FreePorts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

/**
 * The one Cassandra of a test JVM, shared by every integration test of cluster-node.
 *
 * <p>Started lazily by the first {@link #get()} under
 * {@code cluster-node/target/it-cassandra/<time>} on free loopback ports with a 512m heap, and
 * stopped by a JVM shutdown hook: a server takes seconds to start and close to 1 GiB, so never one
 * per test. Tests isolate their data with a {@link #uniqueKeyspace} each and point Pekko
 * Persistence at it with {@link #pekkoConfig}.
 *
 * <p>An outage test may {@code stop()} the shared server; it should {@code restart()} it when done,
 * and {@link #get()} restarts it anyway if it finds it stopped, so one forgetful test does not fail
 * every test after it.
 */
public final class SharedCassandra {

  /** How long a test should allow for its first persistence call (keyspace and tables creation). */
  public static final Duration FIRST_CALL_TIMEOUT = Duration.ofSeconds(60);

  private static final DateTimeFormatter DIR_TIME =
      DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss-SSS", Locale.ROOT);

  /** Format of pekko-persistence-cassandra's {@code events-by-tag.first-time-bucket}. */
  private static final DateTimeFormatter BUCKET_TIME =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HH:mm", Locale.ROOT);

  private static final Pattern KEYSPACE = Pattern.compile("[a-z][a-z0-9_]{0,47}");
  private static final int MAX_KEYSPACE_LENGTH = 48;

  private static final AtomicInteger keyspaces = new AtomicInteger();

  /** Tells keyspaces of different test JVMs apart should two ever share a server. */
  private static final String RUN =
      Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36, 36 * 36 * 36 * 36), 36);

  private static EmbeddedCassandra instance;
  private static IOException startFailure;

  private SharedCassandra() {}

  /**
   * The running shared server, started on first use.
   *
   * @throws UncheckedIOException when it cannot start (the same failure for every later call, so
   *     each test fails at once rather than waiting for its own start-up timeout)
   */
  public static synchronized EmbeddedCassandra get() {
    if (startFailure != null) {
      throw new UncheckedIOException(
          "The shared test Cassandra failed to start earlier: " + startFailure.getMessage(),
          startFailure);
    }
    try {
      if (instance == null) {
        instance = EmbeddedCassandra.start(settings());
        EmbeddedCassandra started = instance;
        Runtime.getRuntime()
            .addShutdownHook(new Thread(started::close, "shared-cassandra-shutdown"));
      } else if (!instance.isRunning()) {
        instance.restart();
      }
      return instance;
    } catch (IOException e) {
      startFailure = e;
      throw new UncheckedIOException(e.getMessage(), e);
    }
  }

  /**
   * A fresh keyspace name for one test class or run: lower case, a valid unquoted CQL identifier,
   * at most 48 characters, different on every call.
   */
  public static String uniqueKeyspace(String prefix) {
    String clean =
        prefix == null ? "" : prefix.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
    if (clean.isEmpty() || !Character.isLetter(clean.charAt(0))) {
      clean = "ks_" + clean;
    }
    String suffix = "_" + RUN + "_" + keyspaces.incrementAndGet();
    if (clean.length() + suffix.length() > MAX_KEYSPACE_LENGTH) {
      clean = clean.substring(0, MAX_KEYSPACE_LENGTH - suffix.length());
    }
    return clean + suffix;
  }

  /**
   * Overrides that make pekko-persistence-cassandra 1.1 journal, snapshot and query plugins use the
   * shared server and {@code keyspace} (created with its tables on first use). Starts the server if
   * needed. Put it in front of the test's own config: {@code pekkoConfig(ks).withFallback(...)}.
   */
  public static Config pekkoConfig(String keyspace) {
    return pekkoConfig(keyspace, null);
  }

  /**
   * As {@link #pekkoConfig(String)}, on the server at {@code contactPoint} (a test's own, e.g. an
   * outage test's) instead of the shared one; null: the shared one.
   */
  public static Config pekkoConfig(String keyspace, String contactPoint) {
    if (keyspace == null || !KEYSPACE.matcher(keyspace).matches()) {
      throw new IllegalArgumentException(
          "keyspace must be a lower-case CQL identifier of at most 48 characters (use"
              + " uniqueKeyspace), was ["
              + keyspace
              + "]");
    }
    // Event-by-tag queries from NoOffset scan every time bucket from first-time-bucket on; the
    // default (2015) makes a projection's first query walk some 90,000 empty hourly buckets.
    String firstBucket =
        LocalDateTime.now(ZoneOffset.UTC)
            .minusDays(1)
            .truncatedTo(ChronoUnit.HOURS)
            .format(BUCKET_TIME);
    if (contactPoint == null) {
      contactPoint = get().contactPoint();
    }
    return ConfigFactory.parseString(
        """
        pekko.persistence.journal.plugin = "pekko.persistence.cassandra.journal"
        pekko.persistence.snapshot-store.plugin = "pekko.persistence.cassandra.snapshot"
        pekko.persistence.cassandra {
          journal {
            keyspace = "%1$s"
            keyspace-autocreate = true
            tables-autocreate = true
            replication-factor = 1
          }
          snapshot {
            keyspace = "%1$s"
            keyspace-autocreate = true
            tables-autocreate = true
            replication-factor = 1
          }
          # The query plugin (pekko.persistence.cassandra.query) and events-by-tag read the
          # journal's keyspace; these only make tagged events show up sooner in tests. Below 1 s
          # of eventual-consistency-delay the plugin warns that events may be missed.
          query.refresh-interval = 500ms
          events-by-tag {
            first-time-bucket = "%2$s"
            eventual-consistency-delay = 1s
          }
        }
        datastax-java-driver {
          basic.contact-points = ["%3$s"]
          basic.load-balancing-policy.local-datacenter = "datacenter1"
          # A test may start its actor system while the server restarts.
          advanced.reconnect-on-init = on
          # Keyspace and table creation on a busy 2-core machine outlasts the driver's 2 s default.
          basic.request.timeout = 10s
        }
        """
            .formatted(keyspace, firstBucket, contactPoint));
  }

  private static EmbeddedCassandra.Settings settings() throws IOException {
    Path dir =
        moduleDir()
            .resolve("target")
            .resolve("it-cassandra")
            .resolve(LocalDateTime.now().format(DIR_TIME));
    Files.createDirectories(dir);
    int[] ports = FreePorts.loopback(2);
    return EmbeddedCassandra.Settings.defaults(dir)
        .withPorts(ports[0], ports[1])
        .withHeap("512m");
  }

  /** cluster-node's directory: Failsafe sets {@code basedir}; an IDE runs from it or above. */
  private static Path moduleDir() {
    String basedir = System.getProperty("basedir");
    if (basedir != null && !basedir.isBlank()) {
      return Path.of(basedir);
    }
    Path cwd = Path.of("").toAbsolutePath();
    if (Files.isDirectory(cwd.resolve("cluster-node"))) {
      return cwd.resolve("cluster-node");
    }
    return cwd;
  }
}
