package dev.grange.node.buildrun;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.grange.node.store.LogStore;
import dev.grange.node.chaos.CuttableProxy;
import dev.grange.node.testing.TestNode;
import dev.grange.node.testing.TestRepos;
import dev.grange.protocol.wire.Handshake;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A step survives what is not the build's fault (PROTOCOL.md section 5), with a real agent
 * process that dials in through a proxy the test can cut: the socket cut mid-step, and the node
 * itself restarted mid-step. Each time the build ends ok on its first attempt, and its stored
 * log is every byte the command wrote, once.
 */
class ResumeIT {
  static final String FARM = """
      grange.node.buildlet.heartbeat = 1s
      grange.hosts {
        it-resume { pool = reverse, expected = 1 }
      }
      grange.builders {
        it-drip {
          host-type = it-resume
          steps = [
            { name = drip, cmd = "/bin/sh", args = ["-c", "i=1; while [ $i -le 60 ]; do echo \\"drip $i\\"; i=$((i+1)); sleep 0.1; done"], sys = true, timeout = 2m }
          ]
        }
      }
      """;

  static TestNode node;
  static CuttableProxy proxy;
  static Process agent;
  static Path repo;

  @BeforeAll
  static void start() throws Exception {
    repo = TestRepos.create("resume-repo", java.util.Map.of("README", "resume\n"));
    node = new TestNode("resume", FARM).start();
    proxy = new CuttableProxy(node.port());
    Path key = Files.createTempFile(Path.of("target").toAbsolutePath(), "resume", ".key");
    Files.writeString(key, Handshake.hostKey(TestNode.MASTER_KEY.getBytes(StandardCharsets.UTF_8), "it-resume"));
    Path log = Path.of("target", "resume-agent.log").toAbsolutePath();
    agent = new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx128m",
            "-cp", System.getProperty("java.class.path"), "dev.grange.agent.Main",
            "--node", proxy.wsUrl(), "--host-type", "it-resume", "--key-file", key.toString(), "--hostname", "resume-box")
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    awaitIdle();
  }

  @AfterAll
  static void stop() throws Exception {
    if (agent != null) {
      agent.destroy();
      agent.waitFor(30, TimeUnit.SECONDS);
    }
    if (proxy != null) {
      proxy.close();
    }
    if (node != null) {
      node.close();
    }
  }

  @Test
  void aSocketCutMidStepIsResumedWithoutARetryAndWithoutLosingOrRepeatingAByte() throws Exception {
    String id = submit();
    awaitStoredOutput(id);
    int before = proxy.accepted();
    proxy.cut();
    awaitNotConnected();
    proxy.heal();

    JsonNode j = node.await("/api/v1/builds/" + id, x -> x.get("state").asText().equals("ok"), Duration.ofSeconds(90));
    assertTrue(proxy.accepted() > before, "the agent never reconnected");
    assertOneCleanAttempt(j);
    assertEquals(expectedLog(), log(id));
    awaitIdle();
  }

  @Test
  void aSilentAgentIsLostByItsHeartbeatsAndItsStepResumesWhenItSpeaksAgain() throws Exception {
    String id = submit();
    awaitStoredOutput(id);
    proxy.freeze(); // the socket stays open: only missed heartbeats can tell
    long t0 = System.nanoTime();
    awaitNotConnected();
    System.out.printf("A silent agent was declared lost after %.1f s (heartbeat 1 s)%n", (System.nanoTime() - t0) / 1e9);
    proxy.thaw();

    JsonNode j = node.await("/api/v1/builds/" + id, x -> x.get("state").asText().equals("ok"), Duration.ofSeconds(90));
    assertOneCleanAttempt(j);
    assertEquals(expectedLog(), log(id));
    awaitIdle();
  }

  @Test
  void aNodeRestartMidStepIsResumedByTheRecoveredBuild() throws Exception {
    String id = submit();
    awaitStoredOutput(id);
    node.stop();
    node.start();

    JsonNode j = node.await("/api/v1/builds/" + id, x -> x.get("state").asText().equals("ok"), Duration.ofSeconds(120));
    assertOneCleanAttempt(j);
    assertEquals(expectedLog(), log(id));
    awaitIdle();
  }

  private static void assertOneCleanAttempt(JsonNode build) {
    assertEquals(1, build.get("attempts").size(), build.toString());
    assertTrue(build.get("attempts").get(0).path("cause").isNull() || build.get("attempts").get(0).path("cause").isMissingNode(),
        build.toString());
  }

  private static String expectedLog() {
    StringBuilder b = new StringBuilder();
    for (int i = 1; i <= 60; i++) {
      b.append("drip ").append(i).append('\n');
    }
    return b.toString();
  }

  private static String log(String id) throws Exception {
    return new String(node.getBytes("/api/v1/builds/" + id + "/log").body(), StandardCharsets.UTF_8);
  }

  private static String submit() throws Exception {
    HttpResponse<String> r = node.post("/api/v1/builds", "{\"builder\":\"it-drip\",\"repo\":\"" + repo + "\",\"rev\":\"HEAD\"}");
    assertEquals(202, r.statusCode(), r.body());
    return TestNode.JSON.readTree(r.body()).get("id").asText();
  }

  /** Waits until the first bytes of the step's output are in the log store: the step is mid-way. */
  private static void awaitStoredOutput(String id) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    LogStore logs = node.node().logs();
    while (System.nanoTime() < end) {
      List<LogStore.LogChunk> chunks = logs.read(id, 1, 0, 0, 1).toCompletableFuture().get(10, TimeUnit.SECONDS);
      if (!chunks.isEmpty()) {
        return;
      }
      LockSupport.parkNanos(20_000_000L);
    }
    throw new AssertionError("build " + id + " stored no output within 60 s");
  }

  private static void awaitIdle() throws Exception {
    node.await("/api/v1/pools", p -> pool(p).get("idle").asInt() == 1, Duration.ofSeconds(60));
  }

  private static void awaitNotConnected() throws Exception {
    node.await("/api/v1/pools", p -> pool(p).get("connected").asInt() == 0, Duration.ofSeconds(30));
  }

  private static JsonNode pool(JsonNode pools) {
    for (JsonNode p : pools) {
      if (p.get("hostType").asText().equals("it-resume")) {
        return p;
      }
    }
    throw new AssertionError("no pool it-resume in " + pools);
  }

}
