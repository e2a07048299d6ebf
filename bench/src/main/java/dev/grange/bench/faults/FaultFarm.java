package dev.grange.bench.faults;

import dev.grange.node.chaos.CuttableProxy;
import dev.grange.node.store.EmbeddedCassandra;
import dev.grange.node.store.FreePorts;
import dev.grange.protocol.wire.Handshake;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The farm the fault suite breaks: one Cassandra 5.0.9 (cluster-node's {@link EmbeddedCassandra},
 * data under the run directory), three node JVMs started the way {@code bin/grange node} starts
 * them, seeds of one cluster, and six real agent processes of a {@code reverse} host type (dedicated
 * machines with a host key, PROTOCOL.md section 1), each dialling the three nodes through proxies
 * of its own so that its socket can be cut for real. Short heartbeat (2 s) and grace (8 s), so the
 * suite's faults play out in seconds. Everything is on free loopback ports; {@link #close} stops
 * all of it, also after a failure.
 */
final class FaultFarm implements AutoCloseable {
  static final String HOST_TYPE = "faults";
  static final String BUILDER = "faults-drip";
  /** The foundation benchmark's trivial build: one step that prints the clock. */
  static final String TRIVIAL = "faults-trivial";
  static final String KEYSPACE = "grange_faults";
  static final int NODES = 3;
  static final Duration GRACE = Duration.ofSeconds(8);
  static final Duration HEARTBEAT = Duration.ofSeconds(2);
  private static final Duration READY = Duration.ofMinutes(3);

  /** How processes are started: classpaths as bin/grange builds them. */
  record Launch(String java, String nodeClasspath, String agentClasspath, Path cassandraClasspathFile) {}

  /** One node JVM and its ports. */
  final class Node {
    final int index;
    final int httpPort;
    final int arteryPort;
    final int managementPort;
    final FaultApi api;
    Process process;

    Node(int index, int httpPort, int arteryPort, int managementPort) {
      this.index = index;
      this.httpPort = httpPort;
      this.arteryPort = arteryPort;
      this.managementPort = managementPort;
      this.api = new FaultApi(httpPort, managementPort);
    }

    boolean alive() {
      return process != null && process.isAlive();
    }

    @Override
    public String toString() {
      return "node " + index + " (http " + httpPort + ")";
    }
  }

  /** One agent process and the proxies it dials the nodes through. */
  final class Agent {
    final String hostname;
    final List<CuttableProxy> proxies = new ArrayList<>();
    Process process;

    Agent(String hostname) {
      this.hostname = hostname;
    }

    void cut() {
      proxies.forEach(CuttableProxy::cut);
    }

    void heal() {
      proxies.forEach(CuttableProxy::heal);
    }
  }

  private final Launch launch;
  private final Path runDir;
  private final PrintStream out;
  private final String masterKey;
  private final List<Node> nodes = new ArrayList<>();
  private final List<Agent> agents = new ArrayList<>();
  private final Path repo;
  private EmbeddedCassandra cassandra;

  private FaultFarm(Launch launch, Path runDir, PrintStream out) throws IOException {
    this.launch = launch;
    this.runDir = runDir;
    this.out = out;
    byte[] k = new byte[16];
    new SecureRandom().nextBytes(k);
    this.masterKey = "faults-" + HexFormat.of().formatHex(k); // not hex as a whole: raw bytes
    this.repo = runDir.resolve("repo");
  }

  /** Starts Cassandra, the three nodes (the first alone, so only one creates the schema) and the agents. */
  static FaultFarm start(Launch launch, Path runDir, int agentCount, PrintStream out) throws Exception {
    Files.createDirectories(runDir);
    FaultFarm f = new FaultFarm(launch, runDir, out);
    try {
      f.boot(agentCount);
      return f;
    } catch (Exception e) {
      f.close();
      throw e;
    }
  }

  private void boot(int agentCount) throws Exception {
    long t0 = System.nanoTime();
    FaultRepo.create(repo);
    int[] ports = FreePorts.loopback(2 + 3 * NODES);
    cassandra = EmbeddedCassandra.start(EmbeddedCassandra.Settings.defaults(runDir.resolve("cassandra"))
        .withPorts(ports[0], ports[1]).withHeap("512m").withClasspathFile(launch.cassandraClasspathFile()));
    for (int i = 0; i < NODES; i++) {
      nodes.add(new Node(i + 1, ports[2 + 3 * i], ports[3 + 3 * i], ports[4 + 3 * i]));
    }
    for (Node n : nodes) {
      Files.writeString(confFile(n), nodeConf(n), StandardCharsets.UTF_8);
    }
    startNode(nodes.get(0));
    awaitReady(nodes.get(0));
    startNode(nodes.get(1));
    startNode(nodes.get(2));
    awaitReady(nodes.get(1));
    awaitReady(nodes.get(2));
    Path key = runDir.resolve("host.key");
    Files.writeString(key, Handshake.hostKey(masterKey.getBytes(StandardCharsets.UTF_8), HOST_TYPE), StandardCharsets.US_ASCII);
    for (int i = 0; i < agentCount; i++) {
      Agent a = new Agent("agent-" + (i + 1));
      for (Node n : nodes) {
        a.proxies.add(new CuttableProxy(n.httpPort));
      }
      agents.add(a);
      startAgent(a);
    }
    awaitConnected(agentCount, READY);
    out.printf("Farm up after %.1f s: Cassandra pid %d, nodes %s, %d agents%n", (System.nanoTime() - t0) / 1e9,
        cassandra.pid(), nodes.stream().map(n -> n.process.pid()).toList(), agentCount);
  }

  private Path confFile(Node n) {
    return runDir.resolve("node-" + n.index + ".conf");
  }

  private String nodeConf(Node n) {
    List<String> seeds = nodes.stream().map(x -> "\"pekko://grange@127.0.0.1:" + x.arteryPort + "\"").toList();
    return """
        # Written by the fault suite for one run: edits are lost.
        grange.node {
          http.port = %d
          var-dir = "%s"
          master-key = "%s"
          buildlet { heartbeat = %ds, grace = %ds, resume-margin = 10s, resume-claim-timeout = 60s }
        }
        grange.store { embedded = off, autocreate = %s, keyspace = "%s" }
        datastax-java-driver.basic.contact-points = ["127.0.0.1:%d"]
        datastax-java-driver.basic.request.timeout = 10s
        pekko.persistence.cassandra {
          journal.keyspace-autocreate = true
          journal.tables-autocreate = true
          snapshot.keyspace-autocreate = true
          snapshot.tables-autocreate = true
        }
        pekko.remote.artery.canonical.port = %d
        pekko.cluster.seed-nodes = [%s]
        pekko.management.http.port = %d
        grange.hosts { %s { pool = reverse, expected = %d } }
        grange.builders {
          %s {
            host-type = %s
            steps = [ { name = drip, cmd = "/bin/sh", args = ["-c", "./drip.sh"], sys = true, timeout = 5m } ]
          }
          %s {
            host-type = %s
            steps = [ { name = stamp, cmd = "date", args = ["+%%s%%N"], sys = true, timeout = 1m } ]
          }
        }
        """.formatted(n.httpPort, runDir.resolve("node-" + n.index), masterKey, HEARTBEAT.toSeconds(), GRACE.toSeconds(),
        n.index == 1 ? "on" : "off", KEYSPACE, cassandra.cqlPort(), n.arteryPort, String.join(", ", seeds), n.managementPort,
        HOST_TYPE, 6, BUILDER, HOST_TYPE, TRIVIAL, HOST_TYPE);
  }

  void startNode(Node n) throws IOException {
    List<String> cmd = List.of(launch.java(), "-Xms128m", "-Xmx512m", "-XX:TieredStopAtLevel=1",
        "-Dconfig.file=" + confFile(n), "-cp", launch.nodeClasspath(), "dev.grange.node.Main", "node");
    n.process = new ProcessBuilder(cmd).directory(runDir.toFile()).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(runDir.resolve("node-" + n.index + ".log").toFile())).start();
  }

  void awaitReady(Node n) throws Exception {
    Waits.until(n + " ready", READY, () -> {
      if (!n.alive()) {
        throw new IOException(n + " exited with code " + n.process.exitValue() + "; see " + runDir.resolve("node-" + n.index + ".log"));
      }
      return n.api.ready() ? Boolean.TRUE : null;
    });
  }

  /** kill -9. */
  void killNode(Node n) throws InterruptedException {
    n.process.destroyForcibly();
    n.process.waitFor(30, TimeUnit.SECONDS);
  }

  /** SIGTERM and wait: a deploy's stop. */
  void stopNode(Node n) throws InterruptedException {
    n.process.destroy();
    if (!n.process.waitFor(90, TimeUnit.SECONDS)) {
      n.process.destroyForcibly();
      n.process.waitFor(30, TimeUnit.SECONDS);
    }
  }

  void startAgent(Agent a) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(launch.java(), "-Xms32m", "-Xmx128m", "-XX:TieredStopAtLevel=1",
        "-cp", launch.agentClasspath(), "dev.grange.agent.Main"));
    for (CuttableProxy p : a.proxies) {
      cmd.add("--node");
      cmd.add(p.wsUrl());
    }
    Path dir = runDir.resolve(a.hostname + "-" + System.nanoTime());
    Files.createDirectories(dir);
    cmd.addAll(List.of("--host-type", HOST_TYPE, "--key-file", runDir.resolve("host.key").toString(), "--hostname", a.hostname,
        "--workdir", dir.resolve("work").toString()));
    a.process = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(runDir.resolve(a.hostname + ".log").toFile())).start();
  }

  void killAgent(Agent a) throws InterruptedException {
    a.process.destroyForcibly();
    a.process.waitFor(30, TimeUnit.SECONDS);
  }

  void stopCassandra() {
    cassandra.stop();
  }

  void startCassandra() throws IOException {
    cassandra.restart();
  }

  /** Waits until {@code n} agents are connected (idle or busy) as some live node sees them. */
  void awaitConnected(int n, Duration deadline) throws Exception {
    Waits.until(n + " agents connected", deadline, () -> {
      FaultApi api = anyApi();
      Integer c = api == null ? null : api.connected(HOST_TYPE);
      return c != null && c >= n ? Boolean.TRUE : null;
    });
  }

  /** The API of a live node that answers, trying each in turn; null if none does now. */
  FaultApi anyApi() {
    for (Node n : nodes) {
      if (n.alive() && n.api.answers()) {
        return n.api;
      }
    }
    return null;
  }

  List<Node> nodes() {
    return nodes;
  }

  List<Agent> agents() {
    return agents;
  }

  Agent agent(String hostname) {
    return agents.stream().filter(a -> a.hostname.equals(hostname)).findFirst().orElseThrow();
  }

  String repo() {
    return repo.toString();
  }

  Path runDir() {
    return runDir;
  }

  @Override
  public void close() {
    for (Agent a : agents) {
      if (a.process != null) {
        a.process.destroy();
      }
      a.proxies.forEach(p -> {
        try {
          p.close();
        } catch (IOException e) {
          // closing anyway
        }
      });
    }
    for (Node n : nodes) {
      if (n.alive()) {
        n.process.destroy();
      }
    }
    for (Node n : nodes) {
      try {
        if (n.process != null && !n.process.waitFor(60, TimeUnit.SECONDS)) {
          n.process.destroyForcibly();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    for (Agent a : agents) {
      if (a.process != null) {
        a.process.destroyForcibly();
      }
    }
    if (cassandra != null) {
      cassandra.stop();
    }
  }
}
