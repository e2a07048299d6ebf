package dev.grange.bench.farm;

import com.fasterxml.jackson.databind.JsonNode;
import dev.grange.node.store.EmbeddedCassandra;
import dev.grange.node.store.FreePorts;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

/**
 * The farm one benchmark run measures: a Cassandra 5.0.9 of its own (cluster-node's {@link
 * EmbeddedCassandra}, 512m heap, data under the run directory, never the operator's {@code
 * var/}), and a node started as its own JVM the way {@code bin/grange node} starts it ({@code java
 * -Xms256m -Xmx1g ... dev.grange.node.Main node}) on that Cassandra, with its local pool of agent
 * processes; all on free loopback ports. The node JVM starts while Cassandra boots (its driver
 * waits for it), which saves seconds.
 *
 * <p>Cassandra is this JVM's child rather than the node's because the node's embedded mode stops
 * it from a second shutdown hook that runs alongside the node's own, so Cassandra dies under a
 * node that is still stopping and the node's stop runs into its 60 s timeout. Here the order is
 * kept: {@link #close} sends SIGTERM to the node (which stops its agents), waits, then stops
 * Cassandra, then kills anything it started that is still alive. The pids of the farm are also
 * written to {@code pidFile} (the run directory on the first line) so that {@code bench/run} can
 * end them should this JVM itself be killed.
 */
public final class BenchFarm implements AutoCloseable {
  /** How the node is started: classpaths as bin/grange builds them, and extra JVM options. */
  public record Launch(String java, String nodeClasspath, String agentClasspath, Path cassandraClasspathFile,
      List<String> extraNodeOptions) {}

  private static final Duration READY_DEADLINE = Duration.ofMinutes(4);
  private static final Duration NODE_STOP = Duration.ofSeconds(100);

  private final Path runDir;
  private final Path pidFile;
  private final EmbeddedCassandra cassandra;
  private final Process node;
  private final int httpPort;
  private final FarmApi api;
  private final int agents;
  private final Set<ProcessHandle> started = new LinkedHashSet<>();
  private final List<Long> agentPids = new ArrayList<>();
  private boolean closed;

  private BenchFarm(Path runDir, Path pidFile, EmbeddedCassandra cassandra, Process node, int httpPort, FarmApi api,
      int agents) {
    this.runDir = runDir;
    this.httpPort = httpPort;
    this.pidFile = pidFile;
    this.cassandra = cassandra;
    this.node = node;
    this.api = api;
    this.agents = agents;
    started.add(node.toHandle());
  }

  /**
   * Creates the run directory's repository and config, starts Cassandra and the node and waits
   * until its {@code agents} agents are idle. On failure everything started is stopped again.
   */
  public static BenchFarm start(Launch launch, Path runDir, Path pidFile, int agents, long firehoseBytes,
      long warmFirehoseBytes, PrintStream out) throws Exception {
    return start(launch, runDir, pidFile, agents, firehoseBytes, warmFirehoseBytes, "", out);
  }

  /** The same, with {@code extraConf} (HOCON: repositories, builders) added to the node's config ({@link NodeConf}). */
  public static BenchFarm start(Launch launch, Path runDir, Path pidFile, int agents, long firehoseBytes,
      long warmFirehoseBytes, String extraConf, PrintStream out) throws Exception {
    Files.createDirectories(runDir);
    String sha = BenchRepo.create(runDir.resolve("repo"));
    int[] ports = FreePorts.loopback(4);
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    NodeConf conf = new NodeConf(ports[0], runDir.resolve("var"), HexFormat.of().formatHex(key), ports[1], agents,
        firehoseBytes, warmFirehoseBytes, ports[3], extraConf);
    Path confFile = runDir.resolve("node.conf");
    Files.writeString(confFile, conf.render(), StandardCharsets.UTF_8);

    out.printf("Starting Cassandra (cql 127.0.0.1:%d, data in %s) and the node (http 127.0.0.1:%d, %d agents; log %s)%n",
        ports[1], runDir.resolve("cassandra"), ports[0], agents, runDir.resolve("node.log"));
    long t0 = System.nanoTime();
    EmbeddedCassandra.Settings cs = EmbeddedCassandra.Settings.defaults(runDir.resolve("cassandra"))
        .withPorts(ports[1], ports[2]).withHeap("512m").withClasspathFile(launch.cassandraClasspathFile());
    CompletableFuture<EmbeddedCassandra> booting = CompletableFuture.supplyAsync(() -> {
      try {
        return EmbeddedCassandra.start(cs);
      } catch (IOException e) {
        throw new CompletionException(e);
      }
    });
    Process p;
    try {
      p = startNode(launch, runDir, confFile);
    } catch (IOException e) {
      booting.thenAccept(EmbeddedCassandra::stop);
      throw e;
    }
    EmbeddedCassandra cassandra;
    try {
      cassandra = booting.join();
    } catch (CompletionException e) {
      p.destroyForcibly();
      throw new IOException("Cassandra did not start: " + e.getCause().getMessage(), e.getCause());
    }
    BenchFarm farm = new BenchFarm(runDir, pidFile, cassandra, p, ports[0],
        new FarmApi(ports[0], runDir.resolve("repo").toString(), sha), agents);
    try {
      farm.writePidFile();
      farm.awaitIdleAgents(READY_DEADLINE);
      farm.findAgents();
      farm.writePidFile();
      out.printf("Farm ready after %.1f s: node pid %d, Cassandra pid %d, agent pids %s%n",
          (System.nanoTime() - t0) / 1e9, p.pid(), cassandra.pid(), farm.agentPids);
      return farm;
    } catch (Exception e) {
      farm.close();
      throw e;
    }
  }

  private static Process startNode(Launch launch, Path runDir, Path confFile) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(launch.java(), "-Xms256m", "-Xmx1g"));
    cmd.addAll(launch.extraNodeOptions());
    cmd.addAll(List.of(
        "-Dgrange.node.local-pool.agent-classpath=" + launch.agentClasspath(),
        "-Dconfig.file=" + confFile,
        "-cp", launch.nodeClasspath(),
        "dev.grange.node.Main", "node"));
    return new ProcessBuilder(cmd).directory(runDir.toFile()).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(runDir.resolve("node.log").toFile())).start();
  }

  public FarmApi api() {
    return api;
  }

  /** The node's HTTP base, e.g. {@code http://127.0.0.1:41234} (webhooks, {@code /src}, {@code /git} are beside the API). */
  public String nodeBase() {
    return "http://127.0.0.1:" + httpPort;
  }

  /** The node's log file. */
  public Path nodeLog() {
    return runDir.resolve("node.log");
  }

  public long nodePid() {
    return node.pid();
  }

  public long cassandraPid() {
    return cassandra.pid();
  }

  /** Host and port of the farm's Cassandra, e.g. {@code 127.0.0.1:9042}. */
  public String cassandraContactPoint() {
    return cassandra.contactPoint();
  }

  public List<Long> agentPids() {
    return List.copyOf(agentPids);
  }

  /** Node, Cassandra and agents. */
  public List<Long> allPids() {
    List<Long> all = new ArrayList<>(List.of(node.pid(), cassandra.pid()));
    all.addAll(agentPids);
    return all;
  }

  /** Total CPU seconds of the node, Cassandra and the agents (their build steps included). */
  public double cpuSeconds() {
    return allPids().stream().mapToDouble(ProcFs::cpuSeconds).sum();
  }

  /** Polls the pools until every agent is connected and idle. */
  public void awaitIdleAgents(Duration deadline) throws Exception {
    Poll.until(agents + " idle agents", deadline, Duration.ofMillis(250), () -> {
      if (!node.isAlive()) {
        throw new IOException("the node exited with code " + node.exitValue() + " during start-up; last lines of "
            + runDir.resolve("node.log") + ":\n" + tail(runDir.resolve("node.log")));
      }
      try {
        for (JsonNode pool : api.pools()) {
          if (pool.get("hostType").asText().equals(NodeConf.HOST_TYPE) && pool.get("idle").asInt() == agents) {
            return Boolean.TRUE;
          }
        }
      } catch (IOException e) {
        return null; // not listening yet
      }
      return null;
    });
  }

  /**
   * Waits until the farm's processes use less than a tenth of a core for two seconds in a row
   * (compactions, JIT, GC of the last phase done), at most {@code max}. Returns the seconds it
   * waited; a farm that never settles is measured anyway, and the caller reports the wait.
   */
  public double awaitQuiet(Duration max) {
    long t0 = System.nanoTime();
    long end = t0 + max.toNanos();
    double last = cpuSeconds();
    int calm = 0;
    while (System.nanoTime() < end && calm < 2) {
      java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(1));
      double now = cpuSeconds();
      calm = now - last < 0.10 ? calm + 1 : 0;
      last = now;
    }
    return (System.nanoTime() - t0) / 1e9;
  }

  private void findAgents() {
    node.toHandle().children().forEach(c -> {
      if (ProcFs.cmdline(c.pid()).contains("dev.grange.agent.Main")) {
        agentPids.add(c.pid());
      }
      started.add(c);
    });
    if (agentPids.size() != agents) {
      throw new IllegalStateException("expected " + agents + " agents as children of the node, found " + agentPids);
    }
  }

  private void writePidFile() throws IOException {
    StringBuilder sb = new StringBuilder(runDir.toString()).append('\n');
    node.toHandle().descendants().forEach(started::add);
    sb.append(cassandra.pid()).append('\n');
    for (ProcessHandle h : started) {
      sb.append(h.pid()).append('\n');
    }
    Files.createDirectories(pidFile.getParent());
    Files.writeString(pidFile, sb.toString(), StandardCharsets.UTF_8);
  }

  /** Stops the node (and through it its agents), then Cassandra, then kills whatever is left. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    node.toHandle().descendants().forEach(started::add);
    node.destroy();
    try {
      if (!node.waitFor(NODE_STOP.toSeconds(), TimeUnit.SECONDS)) {
        System.err.println("bench: the node did not stop within " + NODE_STOP.toSeconds() + " s; killing it");
        node.destroyForcibly();
      }
      for (ProcessHandle h : started) {
        if (h.isAlive()) {
          System.err.println("bench: process " + h.pid() + " outlived the node; stopping it");
          h.destroy();
          if (!h.onExit().completeOnTimeout(h, 20, TimeUnit.SECONDS).join().isAlive()) {
            continue;
          }
          h.destroyForcibly();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      started.forEach(ProcessHandle::destroyForcibly);
    }
    cassandra.stop();
    try {
      Files.deleteIfExists(pidFile);
    } catch (IOException ignored) {
      // bench/run's trap finds no live pid in it anyway.
    }
  }

  private static String tail(Path file) {
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
      long from = Math.max(0, raf.length() - 4000);
      byte[] b = new byte[(int) (raf.length() - from)];
      raf.seek(from);
      raf.readFully(b);
      return new String(b, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(cannot read it: " + e.getMessage() + ")";
    }
  }
}
