package dev.grange.bench;

import dev.grange.bench.channel.ChannelBench;
import dev.grange.bench.dispatch.DispatchBench;
import dev.grange.bench.farm.BenchFarm;
import dev.grange.bench.farm.ProcFs;
import dev.grange.bench.farm.Profiler;
import dev.grange.bench.memory.MemoryBench;
import dev.grange.bench.report.Report;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

/**
 * The benchmarks' entry point ({@code bench/run}): starts a farm of its own ({@link BenchFarm}),
 * runs the three benchmarks on it in turn (memory at start, dispatch, channel, memory again),
 * stops the farm (also on failure and on Ctrl-C, from a shutdown hook) and prints the results,
 * which it also writes to {@code bench/target/results.md} and the run directory.
 */
public final class Main {
  private static final DateTimeFormatter DIR_TIME = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT);

  private Main() {}

  public static void main(String[] args) {
    if (java.util.Arrays.asList(args).contains("--help") || java.util.Arrays.asList(args).contains("-h")) {
      System.out.println(BenchOptions.USAGE);
      System.exit(0);
    }
    BenchOptions o;
    try {
      o = BenchOptions.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("bench: " + e.getMessage());
      System.err.println(BenchOptions.USAGE);
      System.exit(2);
      return;
    }
    try {
      String report = run(o, System.out);
      System.out.println();
      System.out.print(report);
      System.exit(0);
    } catch (Exception e) {
      System.err.println("bench: failed: " + e);
      e.printStackTrace();
      System.exit(1);
    }
  }

  static String run(BenchOptions o, PrintStream out) throws Exception {
    Path target = o.root().resolve("bench").resolve("target");
    ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
    Path runDir = target.resolve("run-" + now.format(DIR_TIME));
    deleteOldData(target);
    double loadBefore = ProcFs.loadAverage();
    String others = OtherProcesses.describe();
    out.printf("bench: %s run in %s; load average %.2f; %s%n", o.quick() ? "quick" : "full", runDir, loadBefore, others);

    AtomicReference<BenchFarm> farmRef = new AtomicReference<>();
    Thread hook = new Thread(() -> {
      BenchFarm f = farmRef.get();
      if (f != null) {
        System.err.println("bench: interrupted; stopping the farm ...");
        f.close();
      }
    }, "bench-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    BenchFarm.Launch launch = new BenchFarm.Launch(o.java(), o.nodeClasspath(), o.agentClasspath(), o.cassandraClasspathFile(),
        List.of());
    String report;
    try (BenchFarm farm = BenchFarm.start(launch, runDir, target.resolve("running.pids"), o.agents(), o.channelBytes(),
        o.warmBytes(), out)) {
      farmRef.set(farm);
      double busy0 = ProcFs.machineBusySeconds();
      double ours0 = farm.cpuSeconds() + ProcFs.cpuSeconds(ProcessHandle.current().pid());
      long t0 = System.nanoTime();
      out.printf("Farm quiet after %.0f s more%n", farm.awaitQuiet(Duration.ofSeconds(60)));
      MemoryBench.Snapshot idle = MemoryBench.read(farm, "at start");
      Profiler profiler = o.profile() ? Profiler.into(runDir) : Profiler.off();
      DispatchBench.Result dispatch = DispatchBench.run(farm, o.dispatch(), profiler, out);
      ChannelBench.Result channel = ChannelBench.run(farm, o.channelBytes(), o.warmBytes(),
          farm.cassandraContactPoint(), profiler, out);
      farm.awaitQuiet(Duration.ofSeconds(60));
      farm.awaitIdleAgents(Duration.ofSeconds(30));
      MemoryBench.Snapshot after = MemoryBench.read(farm, "after the run");
      double wall = (System.nanoTime() - t0) / 1e9;
      double busy = ProcFs.machineBusySeconds() - busy0;
      double ours = farm.cpuSeconds() + ProcFs.cpuSeconds(ProcessHandle.current().pid()) - ours0;
      String load = String.format(Locale.ROOT,
          "%s; during the %.0f s measured, the machine was %.0f%% busy, other processes %.0f%% of its 2 cores", others, wall,
          busy / (2 * wall) * 100, Math.max(0, busy - ours) / (2 * wall) * 100);
      Report.Context c = new Report.Context(now.format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'", Locale.ROOT)),
          o.quick() ? "bench/run --quick" : "bench/run", machine(), loadBefore, ProcFs.loadAverage(), load);
      report = Report.render(c, dispatch, channel, idle, after);
    } finally {
      farmRef.set(null);
      Runtime.getRuntime().removeShutdownHook(hook);
    }
    Files.writeString(runDir.resolve("results.md"), report, StandardCharsets.UTF_8);
    Files.writeString(target.resolve("results.md"), report, StandardCharsets.UTF_8);
    if (!o.keepData()) {
      deleteTree(runDir.resolve("cassandra").resolve("data"));
    }
    return report;
  }

  /** "2 cores, 24 GiB, OpenJDK 64-Bit Server VM 17.0.15": what a report says the figures ran on. */
  public static String machine() {
    return String.format(Locale.ROOT, "%d cores, %.0f GiB, %s %s", Runtime.getRuntime().availableProcessors(),
        ProcFs.memTotalBytes() / (1024.0 * 1024 * 1024), System.getProperty("java.vm.name"), System.getProperty("java.version"));
  }

  /** Earlier runs' Cassandra data (left by a run that was killed): a full run writes ~3 GB. */
  private static void deleteOldData(Path target) throws IOException {
    if (!Files.isDirectory(target) || Files.exists(target.resolve("running.pids"))) {
      return;
    }
    try (Stream<Path> runs = Files.list(target)) {
      for (Path run : runs.filter(p -> p.getFileName().toString().startsWith("run-")).toList()) {
        deleteTree(run.resolve("cassandra").resolve("data"));
        deleteTree(run.resolve("var").resolve("agents"));
      }
    }
  }

  /** Deletes {@code dir} and everything under it; nothing when it is not there. */
  public static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
