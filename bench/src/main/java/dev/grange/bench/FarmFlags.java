package dev.grange.bench;

import java.nio.file.Path;
import java.util.Set;

/**
 * The flags every benchmark that starts a farm of its own takes ({@code bench/mirrors}, {@code
 * bench/pools}): the checkout, the java, and the classpaths its script passes, which default to
 * the checkout's build. A benchmark's options extend it and parse their own flags around it.
 */
public abstract class FarmFlags {
  /** The flags a script passes: left out of the command a report shows. */
  public static final Set<String> PASSED = Set.of("--root", "--java", "--node-classpath", "--agent-classpath",
      "--cassandra-classpath-file");

  public Path root = Path.of(".").toAbsolutePath().normalize();
  public String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
  public String nodeClasspath;
  public String agentClasspath;
  public Path cassandraClasspathFile;
  public boolean help;

  /**
   * Takes {@code args[i]} when it is one of the farm's flags ({@code --help} included); the index of
   * its last word, or -1 when it is not one.
   */
  protected int farmFlag(String[] args, int i) {
    String a = args[i];
    switch (a) {
      case "--help", "-h" -> help = true;
      case "--root" -> root = Path.of(Flags.value(args, ++i, a)).toAbsolutePath().normalize();
      case "--java" -> java = Flags.value(args, ++i, a);
      case "--node-classpath" -> nodeClasspath = Flags.value(args, ++i, a);
      case "--agent-classpath" -> agentClasspath = Flags.value(args, ++i, a);
      case "--cassandra-classpath-file" -> cassandraClasspathFile = Path.of(Flags.value(args, ++i, a));
      default -> {
        return -1;
      }
    }
    return i;
  }

  /** The defaults of what was not given: the checkout's Cassandra classpath file, and (unless only help was asked) its built classpaths. */
  protected void farmDefaults() {
    if (cassandraClasspathFile == null) {
      cassandraClasspathFile = root.resolve("cassandra-runtime/target/cassandra.classpath");
    }
    if (!help) {
      nodeClasspath = nodeClasspath != null ? nodeClasspath : Flags.builtClasspath(root, "cluster-node");
      agentClasspath = agentClasspath != null ? agentClasspath : Flags.builtClasspath(root, "buildlet-agent");
    }
  }
}
