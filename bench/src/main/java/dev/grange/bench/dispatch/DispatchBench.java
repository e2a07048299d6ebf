package dev.grange.bench.dispatch;

import dev.grange.bench.farm.BenchFarm;
import dev.grange.bench.farm.CpuMeter;
import dev.grange.bench.farm.FarmApi;
import dev.grange.bench.farm.NodeConf;
import dev.grange.bench.farm.Profiler;
import dev.grange.bench.report.Percentiles;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * Benchmark 1, dispatch latency and build throughput, with trivial builds ({@code
 * bench-trivial}: one step, {@code date +%s%N}).
 *
 * <ol>
 *   <li>Warm-up: {@code warmup} builds, same loop, not counted.
 *   <li>Latency: {@code builds} builds in a closed loop of {@code concurrency} builds in flight
 *       (one per agent by default). Dispatch = the step's first output byte, as
 *       stamped by the agent-side wall clock, minus the driver's wall clock when the 202
 *       arrived; end-to-end = the node's finish timestamp minus the same 202 clock.
 *   <li>Saturation: {@code saturationBuilds} builds with {@code saturationConcurrency} in
 *       flight, so the queue never runs dry and builds/s is the farm's capacity.
 * </ol>
 */
public final class DispatchBench {
  /** How many builds, and how many in flight. */
  public record Settings(int builds, int warmup, int concurrency, int saturationBuilds, int saturationConcurrency) {}

  /** The figures; every duration in ms. The stage breakdown starts at the node's submit clock. */
  public record Result(
      Settings settings,
      Percentiles dispatch,
      Percentiles endToEnd,
      Percentiles accept,
      Percentiles schedule,
      Percentiles shipSource,
      Percentiles exec,
      Percentiles finish,
      double buildsPerSecond,
      double saturatedBuildsPerSecond,
      long failures,
      double poolReadsPerSecond,
      CpuMeter.Use latencyCpu,
      CpuMeter.Use saturationCpu) {}

  private DispatchBench() {}

  /** Runs the three loops; {@code profiler} records the node and Cassandra during the saturated one. */
  public static Result run(BenchFarm farm, Settings s, Profiler profiler, PrintStream out) throws Exception {
    FarmApi api = farm.api();
    out.printf("Dispatch: warm-up, %d trivial builds (not counted) ...%n", s.warmup());
    ClosedLoop.run(api, NodeConf.TRIVIAL, s.warmup(), s.concurrency());

    out.printf("Dispatch: %d trivial builds, closed loop of %d ...%n", s.builds(), s.concurrency());
    CpuMeter latencyMeter = CpuMeter.start(farm);
    ClosedLoop.Result latency = ClosedLoop.run(api, NodeConf.TRIVIAL, s.builds(), s.concurrency());
    CpuMeter.Use latencyCpu = latencyMeter.stop();
    List<BuildTiming> builds = withFirstBytes(api, ClosedLoop.timings(api, latency.accepted()));
    out.printf("Dispatch: %d builds in %.1f s, %d not ok%n", builds.size(), latency.wallNs() / 1e9, ClosedLoop.failures(builds));

    out.printf("Dispatch: saturation, %d trivial builds, closed loop of %d ...%n", s.saturationBuilds(), s.saturationConcurrency());
    profiler.startFarm("saturation", farm);
    CpuMeter saturationMeter = CpuMeter.start(farm);
    ClosedLoop.Result saturated = ClosedLoop.run(api, NodeConf.TRIVIAL, s.saturationBuilds(), s.saturationConcurrency());
    CpuMeter.Use saturationCpu = saturationMeter.stop();
    profiler.stop();
    List<BuildTiming> saturatedBuilds = ClosedLoop.timings(api, saturated.accepted());

    List<BuildTiming> ok = builds.stream().filter(BuildTiming::ok).toList();
    if (ok.isEmpty()) {
      throw new IllegalStateException("no trivial build ended ok; first: " + builds.get(0));
    }
    return new Result(
        s,
        stat(ok, BuildTiming::dispatchMs),
        stat(ok, BuildTiming::endToEndMs),
        stat(ok, b -> b.acceptedMs() - b.submittedAtMs()),
        stat(ok, b -> b.attemptStartMs() - b.submittedAtMs()),
        stat(ok, b -> b.stepStartMs() - b.attemptStartMs()),
        stat(ok, b -> b.firstByteNs() / 1e6 - b.stepStartMs()),
        stat(ok, b -> b.finishedAtMs() - b.firstByteNs() / 1e6),
        ClosedLoop.buildsPerSecond(builds),
        ClosedLoop.buildsPerSecond(saturatedBuilds),
        ClosedLoop.failures(builds) + ClosedLoop.failures(saturatedBuilds),
        latency.poolReads() / (latency.wallNs() / 1e9),
        latencyCpu,
        saturationCpu);
  }

  /** Reads each build's log (after the loop, so that it costs the loop nothing): the stamp. */
  private static List<BuildTiming> withFirstBytes(FarmApi api, List<BuildTiming> builds) throws Exception {
    List<BuildTiming> out = new ArrayList<>();
    for (BuildTiming b : builds) {
      if (!b.ok()) {
        out.add(b);
        continue;
      }
      String log = new String(api.log(b.id()), StandardCharsets.US_ASCII).trim();
      try {
        out.add(b.withFirstByte(Long.parseLong(log)));
      } catch (NumberFormatException e) {
        throw new IllegalStateException("build " + b.id() + " printed \"" + log + "\", not a date +%s%N stamp", e);
      }
    }
    return out;
  }

  private static Percentiles stat(List<BuildTiming> builds, ToDoubleFunction<BuildTiming> f) {
    return Percentiles.of(builds.stream().map(b -> f.applyAsDouble(b)).toList());
  }
}
