package dev.grange.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import dev.grange.node.store.EmbeddedCassandra;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code bin/grange up --nodes N} for N &gt; 1: a cluster of N nodes on this machine. This process
 * is not a member: it runs the one embedded Cassandra (as {@code up} does) and starts every node
 * as a child JVM ({@code Main up --nodes N --member K --cassandra HOST:PORT}) in a session of its
 * own, so the terminal's Ctrl-C reaches only this process, which then stops the nodes, then any
 * agent still running (the agents of a node that was killed outlive it), then Cassandra. A node
 * that dies or is downed exits alone; the others go on, and so does this process until the last
 * node is gone. Node K (1-based) listens on the configured base ports + K - 1: HTTP 8080.., Artery
 * 2552.., Pekko Management 8558..; its data lives under {@code var/node-K/} and its log is {@code
 * var/node-K/node.log}.
 */
final class UpCluster {
  /** Enough for the ports of a laptop's cluster, and few enough to catch a typo like 30. */
  static final int MAX_NODES = 9;

  private static final Duration READY_DEADLINE = Duration.ofMinutes(3);
  private static final java.util.concurrent.atomic.AtomicBoolean STOPPING = new java.util.concurrent.atomic.AtomicBoolean();
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private UpCluster() {}

  /**
   * The config of member {@code k} of {@code n} from {@code up}'s config: its ports, the seed
   * nodes (all members), its agents' node URLs (its own first), its own var dir (the master key
   * stays shared), the Cassandra of the {@code up} process.
   */
  static Config memberConfig(Config up, int k, int n, String contactPoint) {
    if (n < 1 || n > MAX_NODES || k < 1 || k > n) {
      throw new IllegalArgumentException("member " + k + " of " + n + ": need 1 <= member <= nodes <= " + MAX_NODES);
    }
    String iface = up.getString("grange.node.http.interface");
    String host = iface.equals("0.0.0.0") ? "127.0.0.1" : iface;
    String arteryHost = up.getString("pekko.remote.artery.canonical.hostname");
    int http = up.getInt("grange.node.http.port");
    int artery = up.getInt("pekko.remote.artery.canonical.port");
    int management = up.getInt("pekko.management.http.port");
    List<String> seeds = new ArrayList<>();
    List<String> urls = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      seeds.add("pekko://grange@" + arteryHost + ":" + (artery + i));
      urls.add("ws://" + host + ":" + (http + (k - 1 + i) % n));
    }
    Path varDir = Path.of(up.getString("grange.node.var-dir"));
    Map<String, Object> m = new HashMap<>();
    m.put("grange.node.http.port", http + k - 1);
    m.put("pekko.remote.artery.canonical.port", artery + k - 1);
    m.put("pekko.management.http.port", management + k - 1);
    m.put("pekko.cluster.seed-nodes", ConfigValueFactory.fromIterable(seeds));
    m.put("grange.node.agent-urls", ConfigValueFactory.fromIterable(urls));
    m.put("grange.node.var-dir", varDir.resolve("node-" + k).toString());
    m.put("grange.node.master-key-file", Path.of(up.getString("grange.node.master-key-file")).toAbsolutePath().toString());
    m.put("grange.store.embedded", false);
    m.put("datastax-java-driver.basic.contact-points", ConfigValueFactory.fromIterable(List.of(contactPoint)));
    return ConfigFactory.parseMap(m).withFallback(up);
  }

  /** Starts Cassandra and {@code n} node processes, waits until each is ready, and returns when the last node exited. */
  static void run(Config up, int n) throws Exception {
    EmbeddedCassandra cassandra = Main.startCassandra(up);
    cassandra.stopOnlyWhenAsked();
    List<Process> members = new ArrayList<>();
    Set<ProcessHandle> agents = new LinkedHashSet<>();
    Path varDir = Path.of(up.getString("grange.node.var-dir")).toAbsolutePath();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> stopAll(members, agents, cassandra), "grange-shutdown"));
    for (int k = 1; k <= n; k++) {
      members.add(startMember(up, k, n, cassandra.contactPoint(), varDir.resolve("node-" + k)));
    }
    Thread watch = new Thread(() -> {
      while (true) {
        remember(members, agents);
        try {
          Thread.sleep(1000);
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "grange-agent-watch");
    watch.setDaemon(true);
    watch.start();
    System.out.println("Starting " + n + " nodes (logs in " + varDir + "/node-K/node.log) ...");
    for (int k = 1; k <= n; k++) {
      awaitReady(members.get(k - 1), k, memberConfig(up, k, n, cassandra.contactPoint()), varDir);
    }
    CountDownLatch gone = new CountDownLatch(n);
    for (int k = 1; k <= n; k++) {
      int member = k;
      members.get(k - 1).onExit().thenAccept(p -> {
        if (!STOPPING.get()) {
          System.out.println("Node " + member + " (pid " + p.pid() + ") exited with code " + p.exitValue()
              + (gone.getCount() > 1 ? "; the other nodes go on" : ""));
        }
        gone.countDown();
      });
    }
    printUrls(up, n, cassandra.contactPoint());
    gone.await();
    System.exit(1);
  }

  private static Process startMember(Config up, int k, int n, String contactPoint, Path dir) throws IOException {
    Files.createDirectories(dir);
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xms128m", "-Xmx768m",
        "-Dgrange.node.local-pool.agent-classpath=" + up.getString("grange.node.local-pool.agent-classpath"),
        "-cp", System.getProperty("java.class.path"),
        Main.class.getName(), "up", "--nodes", Integer.toString(n), "--member", Integer.toString(k),
        "--cassandra", contactPoint));
    return new ProcessBuilder(ChildSession.detached(cmd))
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("node.log").toFile()))
        .start();
  }

  /** Polls the member's /ready; gives up (and stops everything) if it exits or the deadline passes. */
  private static void awaitReady(Process p, int k, Config member, Path varDir) throws Exception {
    URI ready = URI.create("http://" + member.getString("pekko.management.http.hostname") + ":"
        + member.getInt("pekko.management.http.port") + "/ready");
    long end = System.nanoTime() + READY_DEADLINE.toNanos();
    while (System.nanoTime() < end) {
      if (!p.isAlive()) {
        System.err.println("Node " + k + " exited with code " + p.exitValue() + " while starting; see "
            + varDir.resolve("node-" + k).resolve("node.log"));
        System.exit(1);
      }
      try {
        HttpResponse<Void> r = HTTP.send(HttpRequest.newBuilder(ready).timeout(Duration.ofSeconds(2)).GET().build(),
            HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // Not listening yet.
      }
      p.waitFor(250, TimeUnit.MILLISECONDS);
    }
    System.err.println("Node " + k + " was not ready within " + READY_DEADLINE + "; see " + varDir.resolve("node-" + k).resolve("node.log"));
    System.exit(1);
  }

  /** The members' children (their agents), kept so that agents of a node that died are stopped too. */
  private static void remember(List<Process> members, Set<ProcessHandle> agents) {
    synchronized (agents) {
      for (Process p : members) {
        p.descendants().forEach(agents::add);
      }
      agents.removeIf(h -> !h.isAlive());
    }
  }

  /** The shutdown hook: nodes (each stops its own agents), then agents left over, then Cassandra. */
  private static void stopAll(List<Process> members, Set<ProcessHandle> agents, EmbeddedCassandra cassandra) {
    STOPPING.set(true);
    System.out.println("Stopping Grange ...");
    remember(members, agents);
    List<Process> running = members.stream().filter(Process::isAlive).toList();
    running.forEach(Process::destroy);
    for (Process p : running) {
      try {
        if (p.waitFor(60, TimeUnit.SECONDS)) {
          System.out.println("Stopped node pid " + p.pid() + " (exit code " + p.exitValue() + ")");
        } else {
          System.err.println("node pid " + p.pid() + " did not stop in 60 s; killed");
          p.destroyForcibly();
        }
      } catch (InterruptedException e) {
        p.destroyForcibly();
      }
    }
    List<ProcessHandle> left;
    synchronized (agents) {
      left = agents.stream().filter(ProcessHandle::isAlive).toList();
    }
    left.forEach(ProcessHandle::destroy);
    for (ProcessHandle h : left) {
      try {
        h.onExit().get(15, TimeUnit.SECONDS);
      } catch (Exception e) {
        h.destroyForcibly();
      }
    }
    if (!left.isEmpty()) {
      System.out.println("Stopped " + left.size() + " agent(s) whose node was gone");
    }
    cassandra.stop();
    System.out.println("Stopped.");
  }

  private static void printUrls(Config up, int n, String contactPoint) {
    System.out.println();
    System.out.println("Grange is up: " + n + " nodes, one Cassandra (" + contactPoint + ")");
    for (int k = 1; k <= n; k++) {
      Config m = memberConfig(up, k, n, contactPoint);
      String host = m.getString("grange.node.http.interface");
      System.out.printf("  node %d: http://%s:%d/   management http://%s:%d/ready  (artery %d)%n", k,
          host.equals("0.0.0.0") ? "127.0.0.1" : host, m.getInt("grange.node.http.port"),
          m.getString("pekko.management.http.hostname"), m.getInt("pekko.management.http.port"),
          m.getInt("pekko.remote.artery.canonical.port"));
    }
    Config first = memberConfig(up, 1, n, contactPoint);
    String url = "http://127.0.0.1:" + first.getInt("grange.node.http.port");
    System.out.println("  members:   curl http://" + first.getString("pekko.management.http.hostname") + ":"
        + first.getInt("pekko.management.http.port") + "/cluster/members");
    System.out.println("  pools:     curl " + url + "/api/v1/pools   (any node answers for the whole farm)");
    System.out.println("Ctrl-C stops the nodes, then their agents, then Cassandra.");
  }
}
