package dev.grange.node.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.grange.node.buildlet.Buildlet;
import dev.grange.node.testing.TestNode;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A node on real Cassandra with one real agent process: three infrastructure failures
 * quarantine the buildlet, which GET /api/v1/buildlets and /pools show and which keeps a build
 * queued; the admin call releases it and the build runs.
 */
class QuarantineIT {
  static final String FARM = """
      grange.hosts {
        it-q { pool = local, local { min = 1, max = 1 }, expected = 1 }
      }
      grange.builders {
        it-q-ok {
          host-type = it-q
          steps = [ { name = ok, cmd = "/bin/sh", args = ["-c", "echo ok"], sys = true, timeout = 1m } ]
        }
      }
      """;

  static TestNode node;
  static Path repo;

  @BeforeAll
  static void start() throws Exception {
    repo = dev.grange.node.testing.TestRepos.create("it-quarantine-repo", java.util.Map.of("README", "quarantine\n"));
    node = new TestNode("quarantine", FARM).start();
    node.await("/api/v1/pools", p -> pool(p).get("idle").asInt() == 1, Duration.ofSeconds(60));
  }

  @AfterAll
  static void stop() throws Exception {
    if (node != null) {
      node.close();
    }
  }

  @Test
  void aQuarantinedBuildletIsShownGetsNoBuildAndTheAdminCallReleasesIt() throws Exception {
    assertEquals(0, pool(node.json("/api/v1/pools")).get("quarantined").asInt());
    JsonNode machine = machine(node.json("/api/v1/buildlets"));
    String id = machine.get("id").asText();
    assertTrue(machine.get("quarantined").isNull(), machine.toString());
    assertEquals(0, machine.get("infraFailures").get("total").asInt(), machine.toString());

    var buildlet = ClusterSharding.get(node.node().system()).entityRefFor(Buildlet.ENTITY_KEY, id);
    for (int i = 1; i <= 3; i++) {
      buildlet.tell(new Buildlet.RecordInfraFailure("it-lost-" + i, 1, "socket closed"));
    }

    node.await("/api/v1/pools", p -> pool(p).get("quarantined").asInt() == 1 && pool(p).get("idle").asInt() == 0, Duration.ofSeconds(30));
    machine = machine(node.json("/api/v1/buildlets"));
    assertEquals("quarantined", machine.get("state").asText(), machine.toString());
    assertEquals("3 infrastructure failures within 1h; last: socket closed", machine.get("quarantined").get("reason").asText());
    assertEquals(3, machine.get("infraFailures").get("inWindow").asInt(), machine.toString());

    HttpResponse<String> submitted = node.post("/api/v1/builds", "{\"builder\":\"it-q-ok\",\"repo\":\"" + repo + "\",\"rev\":\"HEAD\"}");
    assertEquals(202, submitted.statusCode(), submitted.body());
    String build = TestNode.JSON.readTree(submitted.body()).get("id").asText();
    node.await("/api/v1/pools", p -> pool(p).get("waiting").asInt() == 1, Duration.ofSeconds(30));
    assertEquals("queued", node.json("/api/v1/builds/" + build).get("state").asText());

    HttpResponse<String> lifted = node.post("/api/v1/buildlets/" + id + "/unquarantine", "");
    assertEquals(200, lifted.statusCode(), lifted.body());

    JsonNode done = node.await("/api/v1/builds/" + build, b -> !b.get("state").asText().equals("queued")
        && !b.get("state").asText().equals("running"), Duration.ofSeconds(60));
    assertEquals("ok", done.get("state").asText(), done.toString());
    assertEquals(id, done.get("attempts").get(0).get("buildlet").asText());
    assertEquals(0, pool(node.json("/api/v1/pools")).get("quarantined").asInt());
    HttpResponse<String> again = node.post("/api/v1/buildlets/" + id + "/unquarantine", "");
    assertEquals(409, again.statusCode(), again.body());
    HttpResponse<String> unknown = node.post("/api/v1/buildlets/" + "0".repeat(32) + "/unquarantine", "");
    assertEquals(404, unknown.statusCode(), unknown.body());
  }

  private static JsonNode pool(JsonNode pools) {
    for (JsonNode p : pools) {
      if (p.get("hostType").asText().equals("it-q")) {
        return p;
      }
    }
    throw new AssertionError("no pool it-q in " + pools);
  }

  private static JsonNode machine(JsonNode machines) {
    assertEquals(1, machines.size(), machines.toString());
    return machines.get(0);
  }
}
