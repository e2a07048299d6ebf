package dev.grange.node.store;

import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.typesafe.config.Config;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the build store (Cassandra) answers, so the API can refuse at once instead of letting
 * every request wait for its deadline. Probes every {@code grange.store.health.probe-interval} with
 * a cheap read of {@code system.local} on the session the {@link LogStore} and the persistence
 * plugin use, each probe bounded by {@code probe-timeout}. Down after
 * {@code failures-before-down} failed probes in a row, up again after one that succeeds; each
 * change is logged once (WARN down, INFO up), not every probe.
 *
 * <p>Lifetime: {@link #start} schedules the probes on the actor system's scheduler; they stop
 * with the system. Thread-safe: the state is one immutable {@link Status} behind a volatile.
 * Until the first probe has answered it reports up (nothing is known against the store).
 */
public final class StoreHealth {
  private static final Logger log = LoggerFactory.getLogger(StoreHealth.class);
  private static final SimpleStatement PROBE = SimpleStatement.newInstance("SELECT release_version FROM system.local");

  /** The keys under {@code grange.store.health}. */
  public record Settings(Duration probeInterval, Duration probeTimeout, int failuresBeforeDown) {
    public Settings {
      if (probeInterval.isNegative() || probeInterval.isZero()) {
        throw new IllegalArgumentException("grange.store.health.probe-interval: must be a positive duration, got " + probeInterval);
      }
      if (probeTimeout.isNegative() || probeTimeout.isZero()) {
        throw new IllegalArgumentException("grange.store.health.probe-timeout: must be a positive duration, got " + probeTimeout);
      }
      if (failuresBeforeDown < 1) {
        throw new IllegalArgumentException("grange.store.health.failures-before-down: must be at least 1, got " + failuresBeforeDown);
      }
    }

    public static Settings fromConfig(Config root) {
      Config c = root.getConfig("grange.store.health");
      return new Settings(c.getDuration("probe-interval"), c.getDuration("probe-timeout"), c.getInt("failures-before-down"));
    }
  }

  /**
   * What is known: {@code up}, since when ({@code sinceMs}, epoch ms of the probe that changed it),
   * the last error (null while up), when it was last probed (0: not yet) and the failures in a row.
   */
  public record Status(boolean up, long sinceMs, String lastError, long probedAtMs, int failuresInARow) {
    /** Words for a refusal: "since 2026-12-02T20:01:02Z: <cause>". */
    public String describe() {
      return "since " + Instant.ofEpochMilli(sinceMs) + (lastError == null ? "" : ": " + lastError);
    }
  }

  private final CassandraSession session;
  private final Settings settings;
  private final AtomicBoolean probing = new AtomicBoolean();
  private volatile Status status;
  private volatile Cancellable schedule;

  private StoreHealth(CassandraSession session, Settings settings) {
    this.session = session;
    this.settings = settings;
    this.status = new Status(true, System.currentTimeMillis(), null, 0, 0);
  }

  /** Probes the store of {@code logs} from now on, every {@code probeInterval}. */
  public static StoreHealth start(ActorSystem<?> system, LogStore logs, Settings settings) {
    StoreHealth h = new StoreHealth(logs.session(), settings);
    h.schedule = system.scheduler().scheduleWithFixedDelay(
        Duration.ZERO, settings.probeInterval(), h::probe, system.executionContext());
    return h;
  }

  public Status status() {
    return status;
  }

  /** True when the last probes failed: a request that needs the store should be refused now. */
  public boolean down() {
    return !status.up();
  }

  /** Stops probing (the system's end does it too). */
  public void stop() {
    Cancellable c = schedule;
    if (c != null) {
      c.cancel();
    }
  }

  private void probe() {
    if (!probing.compareAndSet(false, true)) {
      return; // the last probe still runs: it ends by its own timeout
    }
    try {
      session.selectOne(PROBE.setTimeout(settings.probeTimeout()))
          .toCompletableFuture()
          // The session itself may hang while it connects: bound the whole probe, too.
          .orTimeout(settings.probeTimeout().toMillis() + 500, TimeUnit.MILLISECONDS)
          .whenComplete((row, err) -> {
            try {
              record(err == null ? null : LogStore.unwrap(err));
            } finally {
              probing.set(false);
            }
          });
    } catch (RuntimeException e) {
      probing.set(false);
      record(e);
    }
  }

  private synchronized void record(Throwable err) {
    Status s = status;
    long now = System.currentTimeMillis();
    if (err == null) {
      if (!s.up()) {
        log.info("Build store is up again after [{}] s down ({} failed probes)", (now - s.sinceMs()) / 1000, s.failuresInARow());
        status = new Status(true, now, null, now, 0);
      } else {
        status = new Status(true, s.sinceMs(), null, now, 0);
      }
      return;
    }
    String cause = describe(err);
    int failures = s.failuresInARow() + 1;
    if (s.up() && failures >= settings.failuresBeforeDown()) {
      log.warn("Build store is down: {}", cause);
      status = new Status(false, now, cause, now, failures);
    } else if (s.up()) {
      log.debug("Build store probe failed ({} in a row): {}", failures, cause);
      status = new Status(true, s.sinceMs(), null, now, failures);
    } else {
      status = new Status(false, s.sinceMs(), cause, now, failures);
    }
  }

  private static String describe(Throwable t) {
    if (t instanceof java.util.concurrent.TimeoutException) {
      return "no answer within the probe timeout";
    }
    String m = t.getMessage();
    return t.getClass().getSimpleName() + (m == null ? "" : ": " + m.lines().findFirst().orElse(""));
  }
}
