package dev.grange.bench.dispatch;

import com.fasterxml.jackson.databind.JsonNode;
import dev.grange.bench.farm.FarmApi;
import dev.grange.bench.farm.NodeConf;
import dev.grange.bench.farm.Poll;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A closed-loop load driver with at most {@code inFlight} builds in flight: a build is in flight
 * from its submission until its buildlet is released again (finished, wiped, idle). Completions
 * are read from the pool's own counters ({@code GET /api/v1/pools}: served - busy), one request
 * every {@link #PACE} for the whole loop, so that the driver does not load the node with a status
 * request per build; each build's timestamps are read once, after the loop. Submissions come
 * from {@link #SUBMITTERS} client threads (a submission waits for its 202). Bounded in count and
 * time: {@link #DEADLINE_PER_BUILD} per build, and the first error stops the loop.
 */
public final class ClosedLoop {
  static final int SUBMITTERS = 8;
  static final Duration PACE = Duration.ofMillis(10);
  static final Duration DEADLINE_PER_BUILD = Duration.ofSeconds(10);

  /** What one run of the loop did. {@code wallNs}: first submit to the last completion seen. */
  public record Result(List<FarmApi.Accepted> accepted, long wallNs, long poolReads) {}

  /** Builds completed per second: count / (first 202 -> last finish, by the node's clock). */
  public static double buildsPerSecond(List<BuildTiming> builds) {
    double first = builds.stream().mapToDouble(BuildTiming::acceptedMs).min().orElseThrow();
    double last = builds.stream().mapToLong(BuildTiming::finishedAtMs).max().orElseThrow();
    return builds.size() / ((last - first) / 1000.0);
  }

  public static long failures(List<BuildTiming> builds) {
    return builds.stream().filter(b -> !b.ok()).count();
  }

  /** Each build's timestamps, read from the node after its loop (so they cost the loop nothing). */
  public static List<BuildTiming> timings(FarmApi api, List<FarmApi.Accepted> accepted) throws Exception {
    List<BuildTiming> builds = new ArrayList<>();
    for (FarmApi.Accepted a : accepted) {
      builds.add(BuildTiming.of(api.build(a.id()), a.acceptedEpochNanos()));
    }
    return builds;
  }

  private ClosedLoop() {}

  static Result run(FarmApi api, String builder, int count, int inFlight) throws Exception {
    return run(api, NodeConf.HOST_TYPE, builder, count, inFlight);
  }

  /** The loop for a builder of {@code hostType}, whose pool counts the completions. */
  public static Result run(FarmApi api, String hostType, String builder, int count, int inFlight) throws Exception {
    long base = completed(api, hostType);
    Semaphore room = new Semaphore(inFlight);
    AtomicInteger tickets = new AtomicInteger(count);
    AtomicReference<Exception> failure = new AtomicReference<>();
    ConcurrentLinkedQueue<FarmApi.Accepted> accepted = new ConcurrentLinkedQueue<>();
    List<Thread> submitters = new ArrayList<>();
    long t0 = System.nanoTime();
    for (int i = 0; i < Math.min(SUBMITTERS, inFlight); i++) {
      Thread t = new Thread(() -> {
        try {
          while (failure.get() == null && tickets.getAndDecrement() > 0) {
            while (!room.tryAcquire(100, TimeUnit.MILLISECONDS)) {
              if (failure.get() != null) {
                return;
              }
            }
            accepted.add(api.submit(builder));
          }
        } catch (Exception e) {
          failure.compareAndSet(null, e);
        }
      }, "bench-submit-" + i);
      t.setDaemon(true);
      submitters.add(t);
      t.start();
    }
    long[] seen = {0};
    long[] reads = {0};
    try {
      Poll.until(count + " builds to complete", DEADLINE_PER_BUILD.multipliedBy(count), PACE, () -> {
        if (failure.get() != null) {
          throw failure.get();
        }
        long done = completed(api, hostType) - base;
        reads[0]++;
        if (done > seen[0]) {
          room.release((int) (done - seen[0]));
          seen[0] = done;
        }
        return done >= count ? Boolean.TRUE : null;
      });
    } finally {
      failure.compareAndSet(null, new IllegalStateException("loop over"));
      for (Thread t : submitters) {
        t.join();
      }
    }
    return new Result(List.copyOf(accepted), System.nanoTime() - t0, reads[0]);
  }

  /** Builds the benchmark pool has served and whose buildlet is free again. */
  private static long completed(FarmApi api, String hostType) throws IOException, InterruptedException {
    for (JsonNode p : api.pools()) {
      if (p.get("hostType").asText().equals(hostType)) {
        return p.get("served").asLong() - p.get("busy").asLong();
      }
    }
    throw new IOException("no pool " + hostType + " in GET /api/v1/pools");
  }
}
