package dev.grange.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.grange.node.testing.TestNode;
import dev.grange.node.testing.TestRepos;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Three nodes in one JVM form a cluster on the shared Cassandra and one keyspace: each answers
 * Pekko Management's {@code /alive} and {@code /ready}; builds submitted through different nodes
 * run on one local pool whose agents know all three nodes, and no node starts agents beyond the
 * host type's max; then the node that runs the agents leaves, and the other two still answer for
 * every build and run new ones (the host pool moved, and its new node started agents).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterIT {
  static final int MAX = 2;
  static final List<TestNode> nodes = new ArrayList<>();
  static final Map<String, Integer> submittedThrough = new LinkedHashMap<>();
  static Path repo;
  static TestNode left;

  @BeforeAll
  static void start() throws Exception {
    repo = TestRepos.create("cluster-repo", Map.of("hello.txt", "hello from the cluster\n"));

    // Each node's agents dial it first, then the others.
    nodes.addAll(TestNode.threeNodeCluster("cluster", """
        grange.hosts {
          it-local { pool = local, local { min = %d, max = %d }, expected = %d }
        }
        grange.builders {
          it-hello {
            host-type = it-local
            steps = [ { name = cat, cmd = "/bin/sh", args = ["-c", "cat hello.txt"], sys = true, timeout = 1m } ]
          }
        }
        """.formatted(MAX, MAX, MAX)));
    for (TestNode n : nodes) {
      n.start();
    }
  }

  @AfterAll
  static void stop() throws Exception {
    // One at a time: all at once costs each a shutdown timeout.
    for (TestNode n : nodes) {
      n.close();
    }
  }

  @Test
  @Order(1)
  void everyNodeIsAliveAndReadyAsAnUpMemberOfThree() throws Exception {
    for (TestNode n : nodes) {
      awaitStatus(n, "/ready", 200, Duration.ofSeconds(60));
      assertEquals(200, n.management("/alive").statusCode());
    }
    // A node is ready once it is Up itself; that the others are Up reaches it by gossip a moment later.
    for (TestNode n : nodes) {
      awaitThreeUp(n, Duration.ofSeconds(60));
    }
  }

  private static void awaitThreeUp(TestNode n, Duration deadline) throws Exception {
    long end = System.nanoTime() + deadline.toNanos();
    JsonNode members = null;
    while (System.nanoTime() < end) {
      members = TestNode.JSON.readTree(n.management("/cluster/members").body()).get("members");
      boolean allUp = members.size() == 3;
      for (JsonNode m : members) {
        allUp &= m.get("status").asText().equals("Up");
      }
      if (allUp) {
        return;
      }
      LockSupport.parkNanos(100_000_000L);
    }
    throw new AssertionError("the node on port " + n.port() + " did not see 3 Up members within " + deadline + ": " + members);
  }

  @Test
  @Order(2)
  void buildsSubmittedThroughEachNodeRunOnOnePoolAndFinishOk() throws Exception {
    nodes.get(0).await("/api/v1/pools", p -> pool(p).get("idle").asInt() == MAX, Duration.ofSeconds(90));
    for (int round = 0; round < 2; round++) {
      for (int i = 0; i < 3; i++) {
        submittedThrough.put(submit(nodes.get(i)), i);
      }
    }
    for (Map.Entry<String, Integer> b : submittedThrough.entrySet()) {
      // Read through another node than the one that took the submission.
      TestNode reader = nodes.get((b.getValue() + 1) % 3);
      JsonNode build = reader.await("/api/v1/builds/" + b.getKey(), j -> isOver(j), Duration.ofSeconds(60));
      assertEquals("ok", build.get("state").asText(), build.toString());
      assertEquals("hello from the cluster\n", log(reader, b.getKey()));
    }
    // One local pool started the agents, not one per node: three nodes with min = 2 each, and
    // the pool waking on all of them, would otherwise run six.
    for (TestNode n : nodes) {
      assertEquals(MAX, pool(n.json("/api/v1/pools")).get("connected").asInt());
    }
    assertEquals(MAX, agentDirs(nodes).size(), "agent dirs: " + agentDirs(nodes));
  }

  @Test
  @Order(3)
  void afterTheAgentsNodeLeavesTheOthersAnswerForOldBuildsAndRunNewOnes() throws Exception {
    left = nodes.stream().filter(n -> !agentDirs(List.of(n)).isEmpty()).findFirst()
        .orElseThrow(() -> new AssertionError("no node started agents"));
    List<TestNode> rest = nodes.stream().filter(n -> n != left).toList();
    left.stop();
    for (TestNode n : rest) {
      awaitMembers(n, 2, Duration.ofSeconds(60));
      awaitStatus(n, "/ready", 200, Duration.ofSeconds(10));
    }
    for (String id : submittedThrough.keySet()) {
      for (TestNode n : rest) {
        JsonNode build = n.json("/api/v1/builds/" + id);
        assertEquals("ok", build.get("state").asText(), build.toString());
      }
    }
    List<String> fresh = new ArrayList<>();
    for (TestNode n : rest) {
      fresh.add(submit(n));
      fresh.add(submit(n));
    }
    for (int i = 0; i < fresh.size(); i++) {
      TestNode reader = rest.get((i + 1) % rest.size());
      JsonNode build = reader.await("/api/v1/builds/" + fresh.get(i), ClusterIT::isOver, Duration.ofSeconds(90));
      assertEquals("ok", build.get("state").asText(), build.toString());
      assertEquals("hello from the cluster\n", log(reader, fresh.get(i)));
    }
    List<TestNode> starters = rest.stream().filter(n -> !agentDirs(List.of(n)).isEmpty()).toList();
    assertEquals(1, starters.size(), "one of the remaining nodes started the pool's agents again");
    assertEquals(MAX, agentDirs(rest).size(), "agent dirs: " + agentDirs(rest));
    // The builds may all have run on the first agent to connect; the second may still be attaching.
    for (TestNode n : rest) {
      n.await("/api/v1/pools", p -> pool(p).get("connected").asInt() == MAX, Duration.ofSeconds(60));
    }
    assertEquals(MAX, agentDirs(rest).size(), "agent dirs: " + agentDirs(rest));
  }

  private static String submit(TestNode n) throws Exception {
    HttpResponse<String> r = n.post("/api/v1/builds", "{\"builder\":\"it-hello\",\"repo\":\"" + repo + "\",\"rev\":\"HEAD\"}");
    assertEquals(202, r.statusCode(), r.body());
    return TestNode.JSON.readTree(r.body()).get("id").asText();
  }

  private static String log(TestNode n, String id) throws Exception {
    return new String(n.getBytes("/api/v1/builds/" + id + "/log").body(), java.nio.charset.StandardCharsets.UTF_8);
  }

  private static boolean isOver(JsonNode build) {
    return !List.of("queued", "running").contains(build.get("state").asText());
  }

  private static JsonNode pool(JsonNode pools) {
    for (JsonNode p : pools) {
      if (p.get("hostType").asText().equals("it-local")) {
        return p;
      }
    }
    throw new AssertionError("no pool it-local in " + pools);
  }

  /** The agents' dirs under the nodes' var dirs: one per agent running (a clean exit deletes its dir). */
  private static List<Path> agentDirs(List<TestNode> of) {
    List<Path> dirs = new ArrayList<>();
    for (TestNode n : of) {
      Path agents = n.varDir().resolve("agents");
      if (Files.isDirectory(agents)) {
        try (Stream<Path> s = Files.list(agents)) {
          dirs.addAll(s.collect(Collectors.toList()));
        } catch (IOException e) {
          throw new AssertionError("cannot list " + agents, e);
        }
      }
    }
    return dirs;
  }

  private static void awaitStatus(TestNode n, String path, int status, Duration deadline) throws Exception {
    long end = System.nanoTime() + deadline.toNanos();
    String last = "no answer";
    while (System.nanoTime() < end) {
      try {
        HttpResponse<String> r = n.management(path);
        if (r.statusCode() == status) {
          return;
        }
        last = r.statusCode() + " " + r.body();
      } catch (IOException e) {
        last = e.toString();
      }
      LockSupport.parkNanos(100_000_000L);
    }
    throw new AssertionError(path + " of the node on port " + n.port() + " did not answer " + status + " within " + deadline + "; last: " + last);
  }

  private static void awaitMembers(TestNode n, int count, Duration deadline) throws Exception {
    long end = System.nanoTime() + deadline.toNanos();
    JsonNode last = null;
    while (System.nanoTime() < end) {
      last = TestNode.JSON.readTree(n.management("/cluster/members").body()).get("members");
      if (last.size() == count && last.findValues("status").stream().allMatch(s -> s.asText().equals("Up"))) {
        return;
      }
      LockSupport.parkNanos(100_000_000L);
    }
    throw new AssertionError("the node on port " + n.port() + " did not see " + count + " Up members within " + deadline + "; last: " + last);
  }

}
