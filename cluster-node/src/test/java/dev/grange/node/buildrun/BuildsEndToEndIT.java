package dev.grange.node.buildrun;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.grange.node.testing.TestNode;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import dev.grange.protocol.wire.Handshake;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A node on real Cassandra with two real agent processes of a local pool builds a real git
 * repository: 20 builds whose steps write to stdout and stderr, fail on purpose or time out;
 * every state, exit status and log byte is checked, then the node restarts and all of it is
 * still there.
 */
class BuildsEndToEndIT {
  static final String FARM = """
      grange.hosts {
        it-local { pool = local, local { min = 2, max = 2 }, expected = 2 }
        it-dedicated { pool = reverse, expected = 1 }
      }
      grange.builders {
        it-ok {
          host-type = it-local
          steps = [
            { name = out, cmd = "/bin/sh", args = ["-c", "./print.sh"], sys = true, timeout = 1m }
            { name = err, cmd = "/bin/sh", args = ["-c", "echo to stderr >&2; cat data/file.txt >&2"], sys = true, timeout = 1m }
          ]
        }
        it-fail {
          host-type = it-local
          steps = [
            { name = fails, cmd = "/bin/sh", args = ["-c", "echo before failing; exit 3"], sys = true, timeout = 1m }
            { name = never, cmd = "/bin/sh", args = ["-c", "echo never runs"], sys = true, timeout = 1m }
          ]
        }
        it-live {
          host-type = it-local
          steps = [
            { name = drip, cmd = "/bin/sh", args = ["-c", "for i in 1 2 3 4 5 6; do echo drip $i; sleep 0.2; done"], sys = true, timeout = 1m }
          ]
        }
        it-long {
          host-type = it-local
          steps = [
            { name = long, cmd = "/bin/sh", args = ["-c", "echo started; exec sleep 2999"], sys = true, timeout = 10m }
          ]
        }
        it-rev {
          host-type = it-dedicated
          steps = [
            { name = where, cmd = "/bin/sh", args = ["-c", "echo on $(cat data/file.txt | head -n 1)"], sys = true, timeout = 1m }
          ]
        }
        it-slow {
          host-type = it-local
          steps = [
            { name = slow, cmd = "/bin/sh", args = ["-c", "echo started; exec sleep 60"], sys = true, timeout = 1s }
          ]
        }
      }
      """;

  static TestNode node;
  static Path repo;
  static String head;

  @BeforeAll
  static void start() throws Exception {
    repo = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "it-repo");
    Files.writeString(repo.resolve("print.sh"), "#!/bin/sh\nfor i in 1 2 3 4 5; do echo \"line $i of $(basename $PWD)\"; done\n");
    repo.resolve("print.sh").toFile().setExecutable(true);
    Files.createDirectories(repo.resolve("data"));
    Files.writeString(repo.resolve("data/file.txt"), "data file\nwith two lines\n");
    git("init", "-q", "-b", "main");
    git("add", ".");
    git("-c", "user.name=Test", "-c", "user.email=t@example.com", "commit", "-q", "-m", "first");
    head = new String(new ProcessBuilder("git", "rev-parse", "HEAD").directory(repo.toFile()).start().getInputStream().readAllBytes()).trim();
    node = new TestNode("e2e", FARM).start();
    node.await("/api/v1/pools", p -> pool(p, "it-local").get("idle").asInt() == 2, Duration.ofSeconds(60));
  }

  @AfterAll
  static void stop() throws Exception {
    if (dedicated != null) {
      dedicated.destroy();
      dedicated.waitFor(30, TimeUnit.SECONDS);
    }
    if (node != null) {
      node.close();
    }
  }

  static Process dedicated;

  @Test
  void aLiveLogFollowerGetsEveryByteAndEndsWithTheBuild() throws Exception {
    String id = submit("it-live");
    // Asked at once, while the build is queued or running: the answer streams until it is over.
    String live = new String(node.getBytes("/api/v1/builds/" + id + "/log").body(), StandardCharsets.UTF_8);
    assertEquals("drip 1\ndrip 2\ndrip 3\ndrip 4\ndrip 5\ndrip 6\n", live);
    assertEquals("ok", node.json("/api/v1/builds/" + id).get("state").asText());
  }

  @Test
  void cancelKillsTheRunningStepFreesTheMachineAndEndsTheBuildCancelled() throws Exception {
    String id = submit("it-long");
    node.await("/api/v1/builds/" + id, j -> j.get("steps").get(0).get("state").asText().equals("running"), Duration.ofSeconds(60));
    awaitProcess("sleep\u00002999", true);
    HttpResponse<String> del = node.delete("/api/v1/builds/" + id);
    assertEquals(202, del.statusCode(), del.body());
    JsonNode j = node.await("/api/v1/builds/" + id, x -> x.get("state").asText().equals("cancelled"), Duration.ofSeconds(30));
    assertEquals("cancelled by request", j.get("reason").asText(), j.toString());
    awaitProcess("sleep\u00002999", false);
    HttpResponse<String> again = node.delete("/api/v1/builds/" + id);
    assertEquals(409, again.statusCode(), again.body());
    assertTrue(again.body().contains("already over"), again.body());
    node.await("/api/v1/pools", p -> pool(p, "it-local").get("idle").asInt() == 2, Duration.ofSeconds(60));
    assertEquals("started\n", new String(node.getBytes("/api/v1/builds/" + id + "/log").body(), StandardCharsets.UTF_8));
  }

  @Test
  void aDedicatedMachineOfAReverseHostTypeDialsInWithItsHostKeyAndBuilds() throws Exception {
    Path key = Files.createTempFile(Path.of("target").toAbsolutePath(), "dedicated", ".key");
    Files.writeString(key, Handshake.hostKey(TestNode.MASTER_KEY.getBytes(StandardCharsets.UTF_8), "it-dedicated"));
    Path log = Files.createTempFile(Path.of("target").toAbsolutePath(), "dedicated", ".log");
    dedicated = new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx128m",
            "-cp", System.getProperty("java.class.path"), "dev.grange.agent.Main",
            "--node", "ws://127.0.0.1:1", "--node", node.wsUrl(),
            "--host-type", "it-dedicated", "--key-file", key.toString(), "--hostname", "box-behind-nat")
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    node.await("/api/v1/pools", p -> pool(p, "it-dedicated").get("idle").asInt() == 1, Duration.ofSeconds(60));
    JsonNode machines = node.json("/api/v1/buildlets");
    boolean listed = false;
    for (JsonNode m : machines) {
      listed |= m.get("hostname").asText().equals("box-behind-nat") && m.get("hostType").asText().equals("it-dedicated");
    }
    assertTrue(listed, machines.toString());
    String id = submit("it-rev");
    JsonNode j = node.await("/api/v1/builds/" + id, x -> x.get("state").asText().equals("ok"), Duration.ofSeconds(60));
    assertEquals("box-behind-nat", j.get("attempts").get(0).get("hostname").asText(), j.toString());
    assertEquals("on data file\n", new String(node.getBytes("/api/v1/builds/" + id + "/log").body(), StandardCharsets.UTF_8));
  }

  private static String submit(String builder) throws Exception {
    HttpResponse<String> r = node.post("/api/v1/builds",
        "{\"builder\":\"" + builder + "\",\"repo\":\"" + repo + "\",\"rev\":\"HEAD\"}");
    assertEquals(202, r.statusCode(), r.body());
    return TestNode.JSON.readTree(r.body()).get("id").asText();
  }

  private static JsonNode pool(JsonNode pools, String hostType) {
    for (JsonNode p : pools) {
      if (p.get("hostType").asText().equals(hostType)) {
        return p;
      }
    }
    throw new AssertionError("no pool " + hostType + " in " + pools);
  }

  /** Waits until a process whose command line contains {@code cmdline} (NUL-separated) exists, or is gone. */
  private static void awaitProcess(String cmdline, boolean present) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < end) {
      boolean found = ProcessHandle.allProcesses().anyMatch(h -> {
        try {
          return new String(Files.readAllBytes(Path.of("/proc", Long.toString(h.pid()), "cmdline")), StandardCharsets.UTF_8).contains(cmdline);
        } catch (java.io.IOException | SecurityException e) {
          return false;
        }
      });
      if (found == present) {
        return;
      }
      java.util.concurrent.locks.LockSupport.parkNanos(50_000_000L);
    }
    throw new AssertionError("process [" + cmdline.replace('\u0000', ' ') + "] still " + (present ? "absent" : "running") + " after 30 s");
  }


  static void git(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("git"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(repo.toFile()).inheritIO().start();
    assertEquals(0, p.waitFor());
  }

  @Test
  void twentyBuildsRunWithTheirResultsAndLogsAndSurviveARestart() throws Exception {
    Map<String, String> builds = new LinkedHashMap<>();
    for (int i = 0; i < 20; i++) {
      String builder = i % 10 == 3 ? "it-fail" : i % 10 == 7 ? "it-slow" : "it-ok";
      HttpResponse<String> r = node.post("/api/v1/builds",
          "{\"builder\":\"" + builder + "\",\"repo\":\"" + repo + "\",\"rev\":\"HEAD\"}");
      assertEquals(202, r.statusCode(), r.body());
      JsonNode j = TestNode.JSON.readTree(r.body());
      assertEquals(head, j.get("rev").asText());
      builds.put(j.get("id").asText(), builder);
    }
    String dirName = "work";
    String okLog = "line 1 of " + dirName + "\nline 2 of " + dirName + "\nline 3 of " + dirName + "\nline 4 of " + dirName
        + "\nline 5 of " + dirName + "\nto stderr\ndata file\nwith two lines\n";
    Map<String, JsonNode> finished = new LinkedHashMap<>();
    for (Map.Entry<String, String> b : builds.entrySet()) {
      JsonNode j = node.await("/api/v1/builds/" + b.getKey(),
          x -> !x.get("state").asText().equals("queued") && !x.get("state").asText().equals("running"),
          Duration.ofSeconds(120));
      finished.put(b.getKey(), j);
      checkBuild(b.getKey(), b.getValue(), j, okLog);
    }

    node.stop();
    node.start();
    for (Map.Entry<String, String> b : builds.entrySet()) {
      JsonNode j = node.json("/api/v1/builds/" + b.getKey());
      assertEquals(finished.get(b.getKey()), j, "build after restart");
      checkBuild(b.getKey(), b.getValue(), j, okLog);
    }
  }

  private void checkBuild(String id, String builder, JsonNode j, String okLog) throws Exception {
    JsonNode steps = j.get("steps");
    byte[] log = node.getBytes("/api/v1/builds/" + id + "/log").body();
    String text = new String(log, StandardCharsets.UTF_8);
    switch (builder) {
      case "it-ok":
        assertEquals("ok", j.get("state").asText(), j.toString());
        assertEquals("ok", steps.get(0).get("state").asText());
        assertEquals("ok", steps.get(1).get("state").asText());
        assertEquals(okLog, text);
        assertEquals(okLog.length(), steps.get(0).get("outputBytes").asLong() + steps.get(1).get("outputBytes").asLong());
        // Resumable from any offset: the tail from byte 17 is the same bytes.
        assertEquals(okLog.substring(17), new String(node.getBytes("/api/v1/builds/" + id + "/log?from=17").body(), StandardCharsets.UTF_8));
        break;
      case "it-fail":
        assertEquals("failed", j.get("state").asText(), j.toString());
        assertEquals("exit status 3", steps.get(0).get("state").asText());
        assertEquals(3, steps.get(0).get("exitCode").asInt());
        assertEquals("pending", steps.get(1).get("state").asText());
        assertEquals("before failing\n", text);
        break;
      default:
        assertEquals("failed", j.get("state").asText(), j.toString());
        assertEquals("timeout", steps.get(0).get("state").asText());
        assertTrue(steps.get(0).get("durationMs").asLong() < 30_000, "killed at its timeout");
        assertEquals("started\n", text);
    }
    assertEquals(1, j.get("attempts").size(), "no infrastructure retry: " + j);
  }
}
