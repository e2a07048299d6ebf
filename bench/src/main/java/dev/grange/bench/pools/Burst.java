package dev.grange.bench.pools;

import com.fasterxml.jackson.databind.JsonNode;
import dev.grange.bench.farm.FarmApi;
import dev.grange.bench.farm.Poll;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.LongFunction;

/**
 * Create calls per second under a burst of waiters: {@code n} builds of a host type whose
 * instances never boot (so no agent JVM starts) are POSTed at once from {@link #THREADS} threads;
 * the fake API's own record of each create call from then on (a pod creation, a VM insert, as
 * the fake received it) is counted until all {@code n} have come, then every build is cancelled. The
 * instances are left to their boot timeout: {@link PoolsMain} waits until the fakes hold none.
 */
final class Burst {
  private static final int THREADS = 16;

  /**
   * One provider's burst: waiters, how long submitting them took, its create calls as the fake
   * received them ({@code rate}) and as the node took them from its bucket ({@code issued}: each
   * instance's {@code requestedAtMs}, node clock, the moment the call's token was taken).
   */
  record Result(String hostType, int waiters, long submitMs, CreateRate rate, CreateRate issued) {}

  private final FarmApi api;
  private final PrintStream out;

  Burst(FarmApi api, PrintStream out) {
    this.api = api;
    this.out = out;
  }

  /**
   * Submits {@code n} builds of {@code builder}, waits (up to {@code deadline}) until {@code
   * creates} (the calls from a time on) lists {@code n} calls, cancels the builds and returns the figures.
   */
  Result run(String hostType, String builder, int n, LongFunction<List<Long>> creates, Duration deadline) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    try {
      long since = System.currentTimeMillis();
      long t0 = System.nanoTime();
      List<Future<String>> submitted = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        submitted.add(pool.submit(() -> api.submit(builder).id()));
      }
      List<String> ids = new ArrayList<>();
      for (Future<String> f : submitted) {
        ids.add(f.get());
      }
      long submitMs = (System.nanoTime() - t0) / 1_000_000;
      out.printf("  %s: %d builds submitted in %d ms; waiting for %d create calls%n", hostType, n, submitMs, n);
      Poll.until(n + " create calls for " + hostType, deadline, Duration.ofMillis(100),
          () -> creates.apply(since).size() >= n ? Boolean.TRUE : null);
      CreateRate rate = CreateRate.of(creates.apply(since), 1_000);
      List<Long> requested = new ArrayList<>();
      for (JsonNode cloud : api.cloudPools()) {
        for (JsonNode i : cloud.path("instances")) {
          if (i.path("hostType").asText().equals(hostType)) {
            requested.add(i.path("requestedAtMs").asLong());
          }
        }
      }
      CreateRate issued = CreateRate.of(requested, 1_000);
      List<Future<Boolean>> cancelled = new ArrayList<>();
      for (String id : ids) {
        cancelled.add(pool.submit(() -> api.cancel(id)));
      }
      for (Future<Boolean> f : cancelled) {
        f.get();
      }
      out.printf("  %s: %d creates over %d ms, at most %d in a second (%d as the node issued them), %.1f/s on average;"
          + " builds cancelled%n", hostType, rate.calls(), rate.spanMs(), rate.peakInWindow(), issued.peakInWindow(),
          rate.meanPerSecond());
      return new Result(hostType, n, submitMs, rate, issued);
    } finally {
      pool.shutdownNow();
    }
  }
}
