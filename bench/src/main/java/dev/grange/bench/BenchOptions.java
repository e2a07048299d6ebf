package dev.grange.bench;

import dev.grange.bench.dispatch.DispatchBench;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line of {@code bench/run} (which adds the classpaths): the full run, or {@code
 * --quick} (a smoke run of well under a minute), and a few overrides. A mistake throws {@link
 * IllegalArgumentException} naming the flag.
 *
 * @param root the repository root (bench/target is under it)
 * @param channelBytes bytes the firehose build writes; {@code warmBytes} for its warm-up
 * @param profile record JFR of the node, Cassandra and the agent during the real-path build
 * @param keepData keep the run's Cassandra data (deleted by default: a full run writes ~3 GB)
 */
public record BenchOptions(
    Path root,
    String java,
    String nodeClasspath,
    String agentClasspath,
    Path cassandraClasspathFile,
    boolean quick,
    int agents,
    DispatchBench.Settings dispatch,
    long channelBytes,
    long warmBytes,
    boolean profile,
    boolean keepData) {

  public static final String USAGE = String.join("\n",
      "usage: bench/run [--quick] [--profile] [--keep-data] [--builds N] [--concurrency N]",
      "                 [--saturation-concurrency N] [--channel-mib N]",
      "  (no flag)   the full run: 1,000 trivial builds (+200 warm-up) on 8 agents, 1,000 saturated, 1 GiB channel",
      "  --quick     a smoke run: 50 builds (+10 warm-up), 50 saturated, 64 MiB channel",
      "  --profile   JFR recordings of node, Cassandra and agent during the real-path build, in the run directory",
      "  --keep-data keep the run's Cassandra data (bench/target/run-*/cassandra)");

  /** Parses the flags after the ones bench/run supplies (--root, --java, classpaths). */
  public static BenchOptions parse(String... args) {
    Path root = null;
    String java = null;
    String nodeCp = null;
    String agentCp = null;
    Path cassandraCp = null;
    boolean quick = false;
    boolean profile = false;
    boolean keep = false;
    Integer builds = null;
    Integer concurrency = null;
    Integer saturation = null;
    Long mib = null;
    List<String> a = new ArrayList<>(List.of(args));
    for (int i = 0; i < a.size(); i++) {
      String f = a.get(i);
      switch (f) {
        case "--quick" -> quick = true;
        case "--profile" -> profile = true;
        case "--keep-data" -> keep = true;
        case "--root" -> root = Path.of(value(a, ++i, f));
        case "--java" -> java = value(a, ++i, f);
        case "--node-classpath" -> nodeCp = value(a, ++i, f);
        case "--agent-classpath" -> agentCp = value(a, ++i, f);
        case "--cassandra-classpath-file" -> cassandraCp = Path.of(value(a, ++i, f));
        case "--builds" -> builds = positive(a, ++i, f);
        case "--concurrency" -> concurrency = positive(a, ++i, f);
        case "--saturation-concurrency" -> saturation = positive(a, ++i, f);
        case "--channel-mib" -> mib = (long) positive(a, ++i, f);
        default -> throw new IllegalArgumentException("unknown argument \"" + f + "\"");
      }
    }
    if (root == null || java == null || nodeCp == null || agentCp == null || cassandraCp == null) {
      throw new IllegalArgumentException("--root, --java, --node-classpath, --agent-classpath and"
          + " --cassandra-classpath-file are required (bench/run passes them)");
    }
    int agents = 8;
    int n = builds != null ? builds : quick ? 50 : 1000;
    DispatchBench.Settings d = new DispatchBench.Settings(n, quick ? 10 : 200, concurrency != null ? concurrency : agents, n,
        saturation != null ? saturation : 4 * agents);
    long bytes = (mib != null ? mib : quick ? 64 : 1024) << 20;
    long warm = Math.min(bytes, quick ? 8L << 20 : 64L << 20);
    return new BenchOptions(root, java, nodeCp, agentCp, cassandraCp, quick, agents, d, bytes, warm, profile, keep);
  }

  private static String value(List<String> a, int i, String flag) {
    if (i >= a.size() || a.get(i).isBlank()) {
      throw new IllegalArgumentException(flag + " needs a value");
    }
    return a.get(i);
  }

  private static int positive(List<String> a, int i, String flag) {
    try {
      int n = Integer.parseInt(value(a, i, flag));
      if (n < 1) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + " needs a positive whole number, got \"" + a.get(i) + "\"");
    }
  }
}
