package dev.grange.bench.faults;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

/**
 * The scenarios, run one after another on one {@link FaultFarm}: each submits its builds, waits
 * until they run, breaks something, lets the farm heal, waits until every accepted build is over
 * and then checks every one of them: state ok, its log line by line against what the command
 * wrote, and its infrastructure retries (attempts with a cause).
 */
final class FaultSuite {
  /** One row of the table. */
  record Row(String scenario, int accepted, int finished, int lost, long logBytesLost, long logBytesDuplicated,
      int infraRetries, String note) {
    boolean clean() {
      return accepted > 0 && lost == 0 && logBytesLost == 0 && logBytesDuplicated == 0 && finished == accepted;
    }
  }

  /** Sizes: builds per scenario (the node-kill one gets {@code nodeKillBuilds}). */
  record Sizes(int builds, int nodeKillBuilds, Duration cassandraOutage) {}

  private static final Duration SETTLE = Duration.ofMinutes(6);

  private final FaultFarm farm;
  private final Sizes sizes;
  private final PrintStream out;
  private final List<Row> rows = new ArrayList<>();
  private int next;

  FaultSuite(FaultFarm farm, Sizes sizes, PrintStream out) {
    this.farm = farm;
    this.sizes = sizes;
    this.out = out;
  }

  List<Row> rows() {
    return rows;
  }

  List<Row> runAll() throws Exception {
    nodeKill();
    agentKill();
    shortCut();
    longCut();
    cassandraOutage();
    rollingRestart();
    return rows;
  }

  // ---- scenarios ----

  void nodeKill() throws Exception {
    List<String> ids = submit(sizes.nodeKillBuilds());
    awaitRunning(ids, 6);
    FaultFarm.Node victim = farm.nodes().get(1);
    List<String> runningAtKill = running(ids);
    long t0 = System.nanoTime();
    farm.killNode(victim);
    // Until every build running at the kill answers again (its entity is back on a live node).
    double back = secondsUntil(t0, () -> runningAtKill.stream().allMatch(id -> state(id) != null));
    finish("kill -9 one of 3 nodes", ids, "%d builds running at the kill; all answered again %.1f s after it".formatted(runningAtKill.size(), back));
    farm.startNode(victim);
    farm.awaitReady(victim);
  }

  void agentKill() throws Exception {
    List<String> ids = submit(sizes.builds());
    awaitRunning(ids, 6);
    String host = busyAgent();
    FaultFarm.Agent a = farm.agent(host);
    long t0 = System.nanoTime();
    farm.killAgent(a);
    double detected = secondsUntil(t0, () -> !listed(host));
    farm.startAgent(a); // a supervisor (systemd) starts it again: a new agent process
    finish("kill -9 an agent mid-step", ids, "gone from the pool %.1f s after the kill; its build waits out the grace (%d s) and is retried".formatted(
        detected, FaultFarm.GRACE.toSeconds()));
    farm.awaitConnected(farm.agents().size(), Duration.ofMinutes(1));
  }

  void shortCut() throws Exception {
    Duration cut = FaultFarm.GRACE.dividedBy(4);
    List<String> ids = submit(sizes.builds());
    awaitRunning(ids, 6);
    FaultFarm.Agent a = farm.agent(busyAgent());
    a.cut();
    LockSupport.parkNanos(cut.toNanos()); // the fault's length, not a wait for anything
    a.heal();
    finish("cut an agent's socket for " + cut.toMillis() + " ms (< grace)", ids, "no retry may happen");
  }

  void longCut() throws Exception {
    Duration cut = FaultFarm.GRACE.plusSeconds(4);
    List<String> ids = submit(sizes.builds());
    awaitRunning(ids, 6);
    FaultFarm.Agent a = farm.agent(busyAgent());
    a.cut();
    LockSupport.parkNanos(cut.toNanos());
    a.heal();
    finish("cut an agent's socket for " + cut.toSeconds() + " s (> grace)", ids, "one retry must happen: the agent killed its step at the grace");
  }

  void cassandraOutage() throws Exception {
    List<String> ids = submit(sizes.builds());
    awaitRunning(ids, 6);
    long t0 = System.nanoTime();
    farm.stopCassandra();
    double stopped = (System.nanoTime() - t0) / 1e9;
    LockSupport.parkNanos(sizes.cassandraOutage().toNanos());
    boolean refused = farm.nodes().get(0).api.submit(FaultFarm.BUILDER, farm.repo()) == null;
    farm.startCassandra();
    finish("stop Cassandra for " + sizes.cassandraOutage().toSeconds() + " s", ids,
        "stopped in %.1f s; a submission during the outage was %s".formatted(stopped, refused ? "refused (503)" : "ACCEPTED"));
  }

  void rollingRestart() throws Exception {
    List<String> ids = submit(sizes.builds());
    awaitRunning(ids, 6);
    long t0 = System.nanoTime();
    for (FaultFarm.Node n : farm.nodes()) {
      farm.stopNode(n);
      farm.startNode(n);
      farm.awaitReady(n);
    }
    finish("rolling restart of all 3 nodes", ids, "the three restarts took %.0f s".formatted((System.nanoTime() - t0) / 1e9));
  }

  // ---- helpers ----

  /** Submits {@code n} builds round-robin over the live nodes, each to the next node that accepts it. */
  private List<String> submit(int n) throws Exception {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String id = Waits.until("a node accepting a build", Duration.ofMinutes(2), () -> {
        for (int k = 0; k < farm.nodes().size(); k++) {
          FaultFarm.Node node = farm.nodes().get((next++) % farm.nodes().size());
          if (node.alive()) {
            String got = node.api.submit(FaultFarm.BUILDER, farm.repo());
            if (got != null) {
              return got;
            }
          }
        }
        return null;
      });
      ids.add(id);
    }
    return ids;
  }

  private void awaitRunning(List<String> ids, int atLeast) throws Exception {
    try {
      Waits.until(atLeast + " builds running", Duration.ofMinutes(2), () -> running(ids).size() >= Math.min(atLeast, ids.size()) ? Boolean.TRUE : null);
    } catch (java.util.concurrent.TimeoutException e) {
      // What the farm says, for the report: pools, queues, and the first build.
      FaultApi api = farm.anyApi();
      String pools = api == null ? "no node answers" : String.valueOf(api.get("/api/v1/pools"));
      out.println("Builds do not run. pools: " + pools);
      out.println("queues: " + (api == null ? "" : api.get("/api/v1/queues")));
      out.println("buildlets: " + (api == null ? "" : api.get("/api/v1/buildlets")));
      out.println("first build: " + state(ids.get(0)));
      // The message is what CI shows of a failure: say where and what the pool looked like.
      throw new java.util.concurrent.TimeoutException(e.getMessage() + " (after " + rows.size() + " scenarios; pools " + pools + ")");
    }
  }

  private List<String> running(List<String> ids) {
    List<String> r = new ArrayList<>();
    for (String id : ids) {
      JsonNode b = state(id);
      if (b != null && b.path("state").asText().equals("running")) {
        r.add(id);
      }
    }
    return r;
  }

  /** The build as any live node shows it, or null. */
  private JsonNode state(String id) {
    for (FaultFarm.Node n : farm.nodes()) {
      if (n.alive()) {
        JsonNode b = n.api.build(id);
        if (b != null) {
          return b;
        }
      }
    }
    return null;
  }

  /** The hostname of an agent running a build now. */
  private String busyAgent() throws Exception {
    return Waits.until("a busy agent", Duration.ofMinutes(1), () -> {
      FaultApi api = farm.anyApi();
      JsonNode machines = api == null ? null : api.buildlets();
      if (machines != null) {
        for (JsonNode m : machines) {
          if (m.path("state").asText().equals("busy")) {
            return m.path("hostname").asText();
          }
        }
      }
      return null;
    });
  }

  private boolean listed(String hostname) {
    FaultApi api = farm.anyApi();
    JsonNode machines = api == null ? null : api.buildlets();
    if (machines == null) {
      return true;
    }
    for (JsonNode m : machines) {
      if (m.path("hostname").asText().equals(hostname)) {
        return true;
      }
    }
    return false;
  }

  private static double secondsUntil(long t0, java.util.function.BooleanSupplier holds) throws Exception {
    Waits.until("the farm to recover", Duration.ofMinutes(3), () -> holds.getAsBoolean() ? Boolean.TRUE : null);
    return (System.nanoTime() - t0) / 1e9;
  }

  /** Waits until every build is over, checks each, and adds the row. */
  private void finish(String scenario, List<String> ids, String note) throws Exception {
    Map<String, JsonNode> over = new LinkedHashMap<>();
    long end = System.nanoTime() + SETTLE.toNanos();
    while (over.size() < ids.size() && System.nanoTime() < end) {
      for (String id : ids) {
        if (!over.containsKey(id)) {
          JsonNode b = state(id);
          String st = b == null ? "" : b.path("state").asText();
          if (st.equals("ok") || st.equals("failed") || st.equals("error") || st.equals("cancelled")) {
            over.put(id, b);
          }
        }
      }
      LockSupport.parkNanos(250_000_000L);
    }
    int finished = 0;
    int retries = 0;
    long lostBytes = 0;
    long dupBytes = 0;
    Map<String, Integer> notOk = new HashMap<>();
    List<String> expected = FaultRepo.expectedLines();
    for (String id : ids) {
      JsonNode b = over.get(id);
      if (b == null) {
        notOk.merge("not over", 1, Integer::sum);
        continue;
      }
      for (JsonNode a : b.path("attempts")) {
        if (a.hasNonNull("cause") && !a.path("cause").asText().isEmpty()) {
          retries++;
        }
      }
      if (!b.path("state").asText().equals("ok")) {
        notOk.merge(b.path("state").asText() + ": " + b.path("reason").asText(), 1, Integer::sum);
        continue;
      }
      finished++;
      byte[] log = null;
      for (FaultFarm.Node n : farm.nodes()) {
        if (n.alive() && (log = n.api.log(id)) != null) {
          break;
        }
      }
      LogCheck c = LogCheck.of(log == null ? new byte[0] : log, expected);
      lostBytes += c.lostBytes();
      dupBytes += c.duplicatedBytes();
      if (!c.clean()) {
        out.printf("  build %s: %d log bytes lost, %d duplicated%n", id, c.lostBytes(), c.duplicatedBytes());
      }
    }
    String why = notOk.isEmpty() ? note : note + "; not ok: " + notOk;
    Row r = new Row(scenario, ids.size(), finished, ids.size() - finished, lostBytes, dupBytes, retries, why);
    rows.add(r);
    out.printf("%-40s accepted %3d  finished %3d  lost %d  log lost %d  dup %d  retries %d  (%s)%n",
        r.scenario(), r.accepted(), r.finished(), r.lost(), r.logBytesLost(), r.logBytesDuplicated(), r.infraRetries(), r.note());
  }

  /** The table, Markdown. */
  static String table(List<Row> rows) {
    StringBuilder b = new StringBuilder();
    b.append("| scenario | builds accepted | builds finished | builds lost | log bytes lost | log bytes duplicated | infrastructure retries | notes |\n");
    b.append("|---|---|---|---|---|---|---|---|\n");
    for (Row r : rows) {
      b.append("| ").append(r.scenario()).append(" | ").append(r.accepted()).append(" | ").append(r.finished()).append(" | ")
          .append(r.lost()).append(" | ").append(r.logBytesLost()).append(" | ").append(r.logBytesDuplicated()).append(" | ")
          .append(r.infraRetries()).append(" | ").append(r.note().replace("|", "/")).append(" |\n");
    }
    return b.toString();
  }
}
