package dev.grange.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import dev.grange.node.store.EmbeddedCassandra;
import dev.grange.protocol.model.FarmConfig;
import dev.grange.protocol.model.InvalidConfigException;
import java.nio.file.Path;
import java.util.List;

/**
 * The node's command line: {@code up [--nodes N]} (the embedded default: a Cassandra child
 * process, one node in this JVM or N node processes ({@link UpCluster}), a local pool of agents),
 * {@code node} (a node on the configured, external Cassandra) and {@code builders} (validate and
 * list the builder config). {@code bin/grange} calls this. A node run from here exits its JVM
 * when the cluster downs or removes it.
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) throws Exception {
    String cmd = args.length == 0 ? "up" : args[0];
    switch (cmd) {
      case "up":
        up(java.util.Arrays.copyOfRange(args, 1, args.length));
        break;
      case "node":
        node(DemoRepo.withDemo(ConfigFactory.load()));
        break;
      case "builders":
        System.exit(builders());
        break;
      default:
        System.err.println("usage: grange up [--nodes N] | node | builders   (unknown command \"" + cmd + "\")");
        System.exit(2);
    }
  }

  private static Config upConfig() {
    return DemoRepo.withDemo(
        ConfigFactory.load(ConfigFactory.defaultApplication().withFallback(ConfigFactory.parseResources("grange-up.conf"))));
  }

  /**
   * {@code up [--nodes N]}: N = 1 (the default) runs Cassandra and the node in this process; more
   * runs Cassandra here and N node processes ({@link UpCluster}). {@code --member K --cassandra
   * HOST:PORT} is how {@link UpCluster} starts node K of N; not for operators.
   */
  private static void up(String[] args) throws Exception {
    int nodes = 1;
    int member = 0;
    String cassandra = null;
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      if (!List.of("--nodes", "--member", "--cassandra").contains(flag)) {
        usage("up: unknown argument \"" + flag + "\" (usage: grange up [--nodes N])");
      }
      if (i + 1 >= args.length) {
        usage("up: " + flag + " needs a value");
      }
      String value = args[++i];
      switch (flag) {
        case "--nodes" -> nodes = count(flag, value);
        case "--member" -> member = count(flag, value);
        default -> cassandra = value;
      }
    }
    if (nodes > UpCluster.MAX_NODES || member > nodes || (member > 0) != (cassandra != null)) {
      usage("up: --nodes must be 1 to " + UpCluster.MAX_NODES + " (got " + nodes + "); --member K (at most N) and --cassandra go together");
    }
    Config config = upConfig();
    NodeSettings.ensureMasterKeyFile(Path.of(config.getString("grange.node.master-key-file")));
    if (member > 0) {
      node(UpCluster.memberConfig(config, member, nodes, cassandra));
    } else if (nodes > 1) {
      checkFarm(config);
      UpCluster.run(config, nodes);
    } else {
      node(config);
    }
  }

  private static int count(String flag, String value) {
    try {
      int n = Integer.parseInt(value);
      if (n >= 1) {
        return n;
      }
    } catch (NumberFormatException ignored) {
      // Refused below.
    }
    usage("up: " + flag + " must be a whole number of at least 1, got \"" + value + "\"");
    return 0;
  }

  private static void usage(String message) {
    System.err.println("grange " + message);
    System.exit(2);
  }

  /** The embedded Cassandra of {@code grange.store.embedded-*}, started and ready. */
  static EmbeddedCassandra startCassandra(Config config) throws java.io.IOException {
    Path dir = Path.of(config.getString("grange.store.embedded-dir"));
    System.out.println("Starting Cassandra 5.0.9 (data in " + dir.toAbsolutePath() + ") ...");
    return EmbeddedCassandra.start(
        EmbeddedCassandra.Settings.defaults(dir)
            .withPorts(config.getInt("grange.store.embedded-cql-port"), config.getInt("grange.store.embedded-storage-port"))
            .withHeap(config.getString("grange.store.embedded-heap")));
  }

  private static void node(Config config) throws Exception {
    checkFarm(config);
    // Run from here, a node that is downed (split-brain resolver) or removed exits its JVM; tests
    // that run several nodes in one JVM start GrangeNode directly and keep it off.
    config = config.withValue("pekko.coordinated-shutdown.exit-jvm", ConfigValueFactory.fromAnyRef(true));
    EmbeddedCassandra cassandra = null;
    if (config.getBoolean("grange.store.embedded")) {
      cassandra = startCassandra(config);
      config = config.withValue("datastax-java-driver.basic.contact-points",
          ConfigValueFactory.fromIterable(List.of(cassandra.contactPoint())));
    }
    GrangeNode node;
    try {
      node = GrangeNode.start(config);
    } catch (RuntimeException e) {
      if (cassandra != null) {
        cassandra.stop();
      }
      throw e;
    }
    EmbeddedCassandra store = cassandra;
    if (store != null) {
      // Cassandra stops after the node, in the one hook below.
      store.stopOnlyWhenAsked();
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      System.out.println("Stopping Grange ...");
      try {
        node.stop().toCompletableFuture().get(60, java.util.concurrent.TimeUnit.SECONDS);
      } catch (Exception e) {
        System.err.println("node did not stop cleanly: " + e);
      }
      if (store != null) {
        store.stop();
      }
      System.out.println("Stopped.");
    }, "grange-shutdown"));
    String url = "http://" + node.settings().httpInterface() + ":" + node.port();
    System.out.println();
    System.out.println("Grange is up: " + url + "/");
    System.out.println("  pools:     curl " + url + "/api/v1/pools");
    System.out.println("  buildlets: curl " + url + "/api/v1/buildlets");
    node.settings().farm().builders().keySet().stream().findFirst().ifPresent(b -> {
      System.out.println("  a first build of this checkout:");
      System.out.println("    curl -s -X POST " + url + "/api/v1/builds -H 'Content-Type: application/json' \\");
      System.out.println("      -d '{\"builder\":\"" + b + "\",\"repo\":\"" + Path.of("").toAbsolutePath() + "\",\"rev\":\"HEAD\"}'");
      System.out.println("    then: curl " + url + "/api/v1/builds/<id>  and  curl " + url + "/api/v1/builds/<id>/log");
    });
    System.out.println("Ctrl-C stops everything.");
    node.system().getWhenTerminated().toCompletableFuture().get();
  }

  private static void checkFarm(Config config) {
    try {
      FarmConfig.fromConfig(config);
    } catch (InvalidConfigException e) {
      System.err.println(e.getMessage());
      System.exit(1);
    }
  }

  private static int builders() {
    FarmConfig farm;
    try {
      farm = FarmConfig.fromConfig(upConfig());
    } catch (InvalidConfigException e) {
      System.err.println(e.getMessage());
      return 1;
    }
    farm.hosts().values().forEach(h -> System.out.printf("host type %-24s pool=%s expected=%d%n", h.name(), h.pool().configName(), h.expected()));
    farm.builders().values().forEach(b -> System.out.printf("builder   %-24s host=%s steps=%d%n", b.name(), b.hostType(), b.steps().size()));
    return 0;
  }

}
