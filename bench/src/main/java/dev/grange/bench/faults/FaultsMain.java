package dev.grange.bench.faults;

import dev.grange.bench.Flags;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;

/**
 * {@code bench/faults}: starts a {@link FaultFarm}, runs the {@link FaultSuite} and prints its
 * table (also written to {@code bench/target/faults.md} and the run directory). Exit code 0 when
 * every row holds its goal (0 builds lost, 0 log bytes lost or duplicated, the retries each
 * scenario allows), 1 otherwise, 2 on a bad command line.
 */
public final class FaultsMain {
  private FaultsMain() {}

  static final String USAGE = """
      usage: bench/faults [--quick] [--builds N] [--node-kill-builds N] [--outage-seconds S] [--keep-data]
             bench/faults --throughput N
        --quick               CI sizes: 18 builds a scenario, 30 for the node kill, 30 s outage
        --builds N            builds per scenario (default 36)
        --node-kill-builds N  builds of the node-kill scenario (default 100)
        --outage-seconds S    how long Cassandra is stopped (default 30)
        --keep-data           keep the run directory (logs of every process) after the run
        --throughput N        no faults: N trivial builds (8 in flight) on the 3 nodes, then on 1 node
      """;

  public static void main(String[] args) throws Exception {
    Options o = Flags.parseOrExit("bench/faults", USAGE, args, Options::parse);
    if (o.help) {
      System.out.print(USAGE);
      return;
    }
    System.exit(run(o, System.out) ? 0 : 1);
  }

  /** Runs the suite; true when every row holds its goal. */
  public static boolean run(Options o, PrintStream out) throws Exception {
    Path runDir = o.root.resolve("bench/target/faults-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    FaultFarm.Launch launch = new FaultFarm.Launch(o.java, o.nodeClasspath, o.agentClasspath, o.cassandraClasspathFile);
    List<FaultSuite.Row> rows;
    long t0 = System.nanoTime();
    try (FaultFarm farm = FaultFarm.start(launch, runDir, 6, out)) {
      Runtime.getRuntime().addShutdownHook(new Thread(farm::close, "faults-stop"));
      if (o.throughput > 0) {
        Throughput.Figures f = Throughput.run(farm, o.throughput, 8, out);
        String t = "| nodes | builds/s (%d trivial builds, %d in flight, 6 reverse agents) | not ok |%n|---|---|---|%n| 3 | %.1f | %d |%n| 1 | %.1f | %d |%n"
            .formatted(f.builds(), f.inFlight(), f.threeNodes(), f.threeFailures(), f.oneNode(), f.oneFailures());
        out.print(t);
        Files.writeString(o.root.resolve("bench/target/throughput.md"), t, StandardCharsets.UTF_8);
        return f.threeFailures() == 0 && f.oneFailures() == 0;
      }
      rows = new FaultSuite(farm, new FaultSuite.Sizes(o.builds, o.nodeKillBuilds, Duration.ofSeconds(o.outageSeconds)), out).runAll();
    }
    String table = FaultSuite.table(rows);
    String head = "Fault suite, %s, %.0f s (3 nodes, 6 agents, grace %d s, heartbeat %d s)%n%n".formatted(
        LocalDateTime.now().withNano(0).format(DateTimeFormatter.ISO_LOCAL_DATE_TIME), (System.nanoTime() - t0) / 1e9,
        FaultFarm.GRACE.toSeconds(), FaultFarm.HEARTBEAT.toSeconds());
    out.println();
    out.print(head);
    out.print(table);
    Files.writeString(o.root.resolve("bench/target/faults.md"), head + table, StandardCharsets.UTF_8);
    Files.writeString(runDir.resolve("faults.md"), head + table, StandardCharsets.UTF_8);
    boolean ok = goalsHeld(rows, out);
    if (!o.keepData && ok) {
      deleteTree(runDir);
    } else {
      out.println("Run directory (every process's log): " + runDir);
    }
    return ok;
  }

  /** Every row clean, no retry where none may happen, exactly one where one must. */
  static boolean goalsHeld(List<FaultSuite.Row> rows, PrintStream out) {
    boolean ok = true;
    for (FaultSuite.Row r : rows) {
      String bad = null;
      if (!r.clean()) {
        bad = "builds or log bytes lost or duplicated";
      } else if (r.scenario().contains("< grace") && r.infraRetries() != 0) {
        bad = "a retry happened for a cut shorter than the grace period";
      } else if (r.scenario().contains("> grace") && r.infraRetries() != 1) {
        bad = r.infraRetries() + " retries for a cut longer than the grace period (one expected)";
      }
      if (bad != null) {
        out.println("GOAL MISSED: " + r.scenario() + ": " + bad);
        ok = false;
      }
    }
    return ok;
  }

  private static void deleteTree(Path dir) throws java.io.IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var walk = Files.walk(dir)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** The command line (bench/faults passes the classpaths). */
  public static final class Options {
    Path root = Path.of(".").toAbsolutePath().normalize();
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String nodeClasspath = System.getProperty("java.class.path");
    String agentClasspath = System.getProperty("java.class.path");
    Path cassandraClasspathFile;
    int builds = 36;
    int nodeKillBuilds = 100;
    int outageSeconds = 30;
    int throughput;
    boolean keepData;
    boolean help;

    public static Options parse(String[] args) {
      Options o = new Options();
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        switch (a) {
          case "--help", "-h" -> o.help = true;
          case "--quick" -> {
            o.builds = 18;
            o.nodeKillBuilds = 30;
          }
          case "--keep-data" -> o.keepData = true;
          case "--builds" -> o.builds = Flags.positive(args, ++i, a);
          case "--node-kill-builds" -> o.nodeKillBuilds = Flags.positive(args, ++i, a);
          case "--outage-seconds" -> o.outageSeconds = Flags.positive(args, ++i, a);
          case "--throughput" -> o.throughput = Flags.positive(args, ++i, a);
          case "--root" -> o.root = Path.of(Flags.value(args, ++i, a)).toAbsolutePath();
          case "--java" -> o.java = Flags.value(args, ++i, a);
          case "--node-classpath" -> o.nodeClasspath = Flags.value(args, ++i, a);
          case "--agent-classpath" -> o.agentClasspath = Flags.value(args, ++i, a);
          case "--cassandra-classpath-file" -> o.cassandraClasspathFile = Path.of(Flags.value(args, ++i, a));
          default -> throw new IllegalArgumentException("unknown argument " + a);
        }
      }
      if (o.cassandraClasspathFile == null) {
        o.cassandraClasspathFile = o.root.resolve("cassandra-runtime/target/cassandra.classpath");
      }
      return o;
    }
  }
}
