package dev.grange.bench.pools;

import dev.grange.bench.FarmFlags;
import dev.grange.bench.Flags;
import dev.grange.bench.Steps;
import dev.grange.bench.Main;
import dev.grange.bench.farm.BenchFarm;
import dev.grange.bench.farm.Poll;
import dev.grange.bench.report.Report;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code bench/pools}, the figures of issue 6: waiter arrival -> build running on a fresh pod and
 * on a fresh VM ({@link FreshInstance}), and the create calls a second each provider makes under
 * a burst of waiters ({@link Burst}), against the fakes of cluster-node's tests ({@link Fakes},
 * in this JVM) so that what is measured is Grange's own overhead. Starts a {@link BenchFarm}
 * whose node has four cloud host types ({@code kube-fresh} and {@code gce-fresh} hermetic, {@code
 * kube-burst} and {@code gce-burst} whose instances never boot) and a builder each whose one step
 * is {@code true}; measures; waits until the fakes hold no instance; prints a table (also written
 * to {@code bench/target/pools-results.md} and the run directory) and stops the farm and the
 * fakes, also on failure and on Ctrl-C. A step that fails is named with its reason, and exit
 * code 1; 2 for a bad command line.
 */
public final class PoolsMain {
  static final String KUBE_FRESH = "kube-fresh";
  static final String GCE_FRESH = "gce-fresh";
  static final String KUBE_BURST = "kube-burst";
  static final String GCE_BURST = "gce-burst";

  static final String USAGE = """
      usage: bench/pools [--quick] [--fresh N] [--burst N] [--api-rate R] [--keep-data]
        (no flag)       30 builds on fresh instances per provider, one at a time; a burst of 200 waiters each
        --quick         5 builds per provider, a burst of 40 (as PoolsBenchIT, with --fresh 3)
        --fresh N       builds on fresh instances per provider
        --burst N       waiters of each burst (the pools' max-instances is N)
        --api-rate R    both pools' api-rate (default 10)
        --keep-data     keep the run directory's Cassandra data and the agents' directories
      """;

  /** What one run measured, and its table. */
  public record Result(FreshInstance.Result kube, FreshInstance.Result gce, Burst.Result kubeBurst, Burst.Result gceBurst,
      int apiRate, int podsLeft, int vmsLeft, String table) {}

  private PoolsMain() {}

  public static void main(String[] args) {
    Options o = Flags.parseOrExit("bench/pools", USAGE, args, Options::parse);
    Steps.main("bench/pools", USAGE, o, o.help, x -> run(x, System.out).table());
  }

  /** Runs the benchmark; the farm and the fakes are stopped before it returns or throws. */
  public static Result run(Options o, PrintStream out) throws Exception {
    Steps.RunStart start = Steps.RunStart.begin("bench/pools", "pools", o.root, o.quick, out);
    Path target = start.target();
    Path runDir = start.runDir();
    // Long enough that no burst instance times out before the burst's last create (then deleted, not replaced).
    Duration burstBootTimeout = Duration.ofSeconds((o.burst + o.apiRate - 1) / o.apiRate + 6);

    AtomicReference<BenchFarm> farmRef = new AtomicReference<>();
    AtomicReference<Fakes> fakesRef = new AtomicReference<>();
    Thread hook = new Thread(() -> {
      BenchFarm f = farmRef.get();
      Fakes k = fakesRef.get();
      if (f != null || k != null) {
        System.err.println("bench/pools: interrupted; stopping the farm and the fakes ...");
      }
      if (f != null) {
        f.close();
      }
      if (k != null) {
        k.close();
      }
    }, "bench-pools-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    Result result;
    try (Fakes fakes = Steps.step("starting the fake clouds", () -> Fakes.start(runDir, o.java, o.agentClasspath, KUBE_BURST))) {
      fakesRef.set(fakes);
      out.printf("Fakes: Kubernetes API %s, Compute API %s%n", fakes.kubeMasterUrl(), fakes.gceEndpoint());
      BenchFarm.Launch launch = new BenchFarm.Launch(o.java, o.nodeClasspath, o.agentClasspath, o.cassandraClasspathFile, List.of());
      String extra = conf(fakes, o.burst, o.apiRate, burstBootTimeout);
      try (BenchFarm farm = Steps.step("starting the farm",
          () -> BenchFarm.start(launch, runDir, target.resolve("pools.pids"), 1, 1 << 20, 1 << 20, extra, out))) {
        farmRef.set(farm);
        FreshInstance fresh = new FreshInstance(farm.api(), fakes, out);
        out.printf("Arrival -> running on a fresh pod, %d builds:%n", o.fresh);
        FreshInstance.Result kube = Steps.step("measuring builds on fresh pods (node log " + farm.nodeLog() + ")",
            () -> fresh.run(KUBE_FRESH, builder(KUBE_FRESH), true, o.fresh, fakes::podsCreated));
        out.printf("Arrival -> running on a fresh VM, %d builds:%n", o.fresh);
        FreshInstance.Result gce = Steps.step("measuring builds on fresh VMs (node log " + farm.nodeLog() + ")",
            () -> fresh.run(GCE_FRESH, builder(GCE_FRESH), false, o.fresh, fakes::vmsInserted));

        Burst burst = new Burst(farm.api(), out);
        Duration createDeadline = Duration.ofSeconds(2L * o.burst / o.apiRate + 60);
        out.printf("A burst of %d waiters per provider, api-rate %d:%n", o.burst, o.apiRate);
        Burst.Result kubeBurst = Steps.step("the Kubernetes burst",
            () -> burst.run(KUBE_BURST, builder(KUBE_BURST), o.burst, fakes::podsCreated,
                createDeadline));
        fakes.gce().neverBoots(true);
        Burst.Result gceBurst = Steps.step("the GCE burst",
            () -> burst.run(GCE_BURST, builder(GCE_BURST), o.burst, fakes::vmsInserted,
                createDeadline));
        long c0 = System.nanoTime();
        Steps.step("waiting for the pools to delete every instance at its boot timeout (" + burstBootTimeout.toSeconds() + " s)",
            () -> Poll.until("no pod or VM left in the fakes", burstBootTimeout.plus(createDeadline).plusSeconds(60),
                Duration.ofMillis(500), () -> fakes.podsLeft() == 0 && fakes.vmsLeft() == 0 ? Boolean.TRUE : null));
        out.printf("Every pod and VM deleted %.1f s after the last burst%n", (System.nanoTime() - c0) / 1e9);

        Report.Context c = start.context(o.command());
        int podsLeft = fakes.podsLeft();
        int vmsLeft = fakes.vmsLeft();
        String table = PoolsReport.render(c, kube, gce, kubeBurst, gceBurst, o.apiRate, podsLeft, vmsLeft);
        result = new Result(kube, gce, kubeBurst, gceBurst, o.apiRate, podsLeft, vmsLeft, table);
      } finally {
        farmRef.set(null);
      }
    } finally {
      fakesRef.set(null);
      Runtime.getRuntime().removeShutdownHook(hook);
    }
    Files.writeString(runDir.resolve("pools-results.md"), result.table(), StandardCharsets.UTF_8);
    Files.writeString(target.resolve("pools-results.md"), result.table(), StandardCharsets.UTF_8);
    if (!o.keepData) {
      for (Path p : List.of(runDir.resolve("cassandra").resolve("data"), runDir.resolve("var"), runDir.resolve("kubelet"),
          runDir.resolve("gce-agents"))) {
        Main.deleteTree(p);
      }
    }
    out.println("Run directory (node log, node.conf): " + runDir);
    return result;
  }

  static String builder(String hostType) {
    return "pools-" + hostType;
  }

  /** The node's cloud host types, their builders and both pools' settings, appended to its config. */
  static String conf(Fakes fakes, int burst, int apiRate, Duration burstBootTimeout) {
    String kube = "kubernetes { image = \"grange/agent:bench\", cpu = \"1\", memory = \"1Gi\" }";
    String gce = "gce { machine-type = \"e2-standard-2\", image = \"projects/grange/global/images/agent\","
        + " zones = [us-central1-a], cpus = 2 }";
    StringBuilder sb = new StringBuilder("grange.hosts {\n");
    sb.append("  ").append(KUBE_FRESH).append(" { pool = kubernetes, ").append(kube).append(", hermetic = true, boot-timeout = 2m }\n");
    sb.append("  ").append(GCE_FRESH).append(" { pool = gce, ").append(gce).append(", hermetic = true, boot-timeout = 2m }\n");
    sb.append("  ").append(KUBE_BURST).append(" { pool = kubernetes, ").append(kube).append(", boot-timeout = ")
        .append(burstBootTimeout.toSeconds()).append("s }\n");
    sb.append("  ").append(GCE_BURST).append(" { pool = gce, ").append(gce).append(", boot-timeout = ")
        .append(burstBootTimeout.toSeconds()).append("s }\n");
    sb.append("}\ngrange.builders {\n");
    for (String h : List.of(KUBE_FRESH, GCE_FRESH, KUBE_BURST, GCE_BURST)) {
      sb.append("  ").append(builder(h)).append(" { host-type = ").append(h)
          .append(", steps = [ { name = t, cmd = \"true\", sys = true, timeout = 1m } ] }\n");
    }
    sb.append("}\n");
    sb.append("""
        # idle-timeout: a spare instance (one made for a build that had just got its machine) goes in 5 s, not 10 min.
        grange.pools.kubernetes { master-url = "%s", namespace = "%s", max-instances = %d, api-rate = %d, idle-timeout = 5s }
        grange.pools.gce {
          project = "%s", endpoint = "%s", credentials-file = none, max-instances = %d, api-rate = %d, idle-timeout = 5s
        }
        """.formatted(fakes.kubeMasterUrl(), Fakes.NAMESPACE, burst, apiRate, Fakes.PROJECT, fakes.gceEndpoint(), burst, apiRate));
    return sb.toString();
  }

  /** The command line (bench/pools passes the root and the classpaths; they default to the checkout's build). */
  public static final class Options extends FarmFlags {
    boolean quick;
    int fresh = 30;
    int burst = 200;
    int apiRate = 10;
    boolean keepData;
    private String command;

    public static Options parse(String... args) {
      Options o = new Options();
      Integer fresh = null;
      Integer burst = null;
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        int farm = o.farmFlag(args, i);
        if (farm >= 0) {
          i = farm;
          continue;
        }
        switch (a) {
          case "--quick" -> o.quick = true;
          case "--keep-data" -> o.keepData = true;
          case "--fresh" -> fresh = Flags.positive(args, ++i, a);
          case "--burst" -> burst = Flags.positive(args, ++i, a);
          case "--api-rate" -> o.apiRate = Flags.positive(args, ++i, a);
          default -> throw new IllegalArgumentException("unknown argument " + a);
        }
      }
      o.fresh = fresh != null ? fresh : o.quick ? 5 : 30;
      o.burst = burst != null ? burst : o.quick ? 40 : 200;
      o.command = Flags.command("bench/pools", args, PASSED);
      o.farmDefaults();
      return o;
    }

    /** The command that reproduces the run, as the report shows it. */
    String command() {
      return command;
    }
  }
}
