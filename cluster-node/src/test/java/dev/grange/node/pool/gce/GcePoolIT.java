package dev.grange.node.pool.gce;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.grange.node.testing.TestNode;
import dev.grange.node.testing.TestRepos;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * A node whose host types come from a GCE pool: the real google-cloud-compute client against
 * {@link FakeCompute}, which starts a real agent process for each VM that goes RUNNING, from the
 * VM's metadata. A build runs on a fresh VM with its stages; while the project's quota is
 * exhausted the build waits and says why, and runs once quota is back; a VM whose agent never
 * starts is deleted at its boot timeout; idle VMs are deleted after the idle timeout.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GcePoolIT {
  private static final Duration DEADLINE = Duration.ofSeconds(120);

  private static FakeCompute gce;
  private static TestNode node;
  private static Path repo;

  @BeforeAll
  static void start() throws Exception {
    gce = FakeCompute.start(FakeAgents.fromTestClasspath(Files.createTempDirectory(Path.of("target").toAbsolutePath(), "gce-agents")));
    repo = TestRepos.create("gce-repo", Map.of("hello.txt", "hello from a VM\n"));
    String farm = """
        grange.hosts {
          gce-linux { pool = gce, gce { machine-type = "e2-standard-2", image = "projects/grange/global/images/agent", zones = [us-central1-a, us-central1-b], cpus = 2 }, boot-timeout = 60s }
          gce-broken { pool = gce, gce { machine-type = "e2-standard-2", image = "projects/grange/global/images/agent", zones = [us-central1-a], cpus = 2 }, boot-timeout = 3s }
        }
        grange.builders {
          gce-hello { host-type = gce-linux, steps = [ { name = cat, cmd = "/bin/sh", args = ["-c", "cat hello.txt"], sys = true, timeout = 1m } ] }
          gce-stuck { host-type = gce-broken, steps = [ { name = t, cmd = "true", sys = true } ] }
        }
        grange.pools.gce {
          project = "grange-test", endpoint = "%s", credentials-file = none, operation-poll-interval = 50ms, retry-delay = 50ms
          max-instances = 3, max-cpus = 6, api-rate = 20, janitor-interval = 2s, idle-timeout = 4s, create-backoff.quota = 3s
        }
        """.formatted(gce.endpoint());
    node = new TestNode("gcepool", farm).start();
  }

  @AfterAll
  static void stop() throws Exception {
    if (node != null) {
      node.close();
    }
    if (gce != null) {
      gce.close();
    }
  }

  @Test
  @Order(1)
  void aBuildRunsOnAFreshVmWhoseAgentDialsIn() throws Exception {
    String id = submit("gce-hello");
    JsonNode b = node.await("/api/v1/builds/" + id, TestNode::isOver, DEADLINE);
    assertEquals("ok", b.get("state").asText(), b.toString());
    assertEquals("hello from a VM\n", new String(node.getBytes("/api/v1/builds/" + id + "/log").body(), java.nio.charset.StandardCharsets.UTF_8));
    JsonNode attempt = b.get("attempts").get(0);
    List<String> stages = new ArrayList<>();
    attempt.get("stages").forEach(s -> stages.add(s.get("name").asText()));
    assertEquals(List.of("get_buildlet", "create_instance", "wait_agent"), stages, attempt.toString());
    String vm = attempt.get("hostname").asText();
    JsonNode made = gce.instance(vm).orElseThrow(() -> new AssertionError("no VM " + vm + " in the fake"));
    assertTrue(made.get("machineType").asText().endsWith("zones/us-central1-a/machineTypes/e2-standard-2"), made.toString());
    assertEquals("gce-linux", made.get("labels").get(GceMetadata.LABEL_HOST_TYPE).asText());
    assertTrue(gce.agent(vm).isPresent(), "a real agent ran on VM " + vm);
  }

  @Test
  @Order(2)
  void whileTheQuotaIsExhaustedABuildWaitsAndSaysWhyThenRuns() throws Exception {
    node.await("/api/v1/cloud-pools", j -> j.get(0).get("instances").size() == 0, DEADLINE); // the first VM went idle and was deleted
    gce.quotaExceeded();
    String id = submit("gce-hello");
    JsonNode queues = node.await("/api/v1/queues", j -> why(j, id).contains("QUOTA_EXCEEDED") || why(j, id).contains("quota:"), DEADLINE);
    assertTrue(why(queues, id).startsWith("creating an instance failed (quota: "), why(queues, id));
    JsonNode pools = node.json("/api/v1/cloud-pools");
    assertTrue(pools.get(0).get("createFailures").asLong() >= 1, pools.toString());
    assertTrue(pools.get(0).get("lastErrors").get("gce-linux").asText().contains("quota"), pools.toString());
    gce.quotaRestored();
    JsonNode b = node.await("/api/v1/builds/" + id, TestNode::isOver, DEADLINE);
    assertEquals("ok", b.get("state").asText(), "once quota is back (after the 3 s backoff): " + b);
  }

  @Test
  @Order(3)
  void aVmWhoseAgentNeverStartsIsDeletedAtItsBootTimeout() throws Exception {
    gce.neverBoots(true);
    try {
      String id = submit("gce-stuck");
      JsonNode pools = node.await("/api/v1/cloud-pools", j -> j.get(0).path("deletions").path("boot-timeout").asLong() >= 1, DEADLINE);
      assertEquals("gce", pools.get(0).get("kind").asText());
      assertEquals(202, node.delete("/api/v1/builds/" + id).statusCode());
    } finally {
      gce.neverBoots(false);
    }
    JsonNode pools = node.await("/api/v1/cloud-pools", j -> j.get(0).get("instances").size() == 0, DEADLINE);
    assertTrue(pools.get(0).path("deletions").path("idle").asLong() >= 1, "the idle VMs were deleted: " + pools);
    assertTrue(gce.requests(FakeCompute.Call.DELETE).size() >= 3, "each VM deleted through the API");
  }

  private static String why(JsonNode queues, String id) {
    for (JsonNode q : queues) {
      for (JsonNode w : q.get("waiters")) {
        if (w.path("build").asText().equals(id)) {
          return w.get("why").asText();
        }
      }
    }
    return "";
  }

  private static String submit(String builder) throws Exception {
    return node.submit(builder, repo, "HEAD");
  }
}
