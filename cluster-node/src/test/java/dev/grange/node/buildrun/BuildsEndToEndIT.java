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
    node.await("/api/v1/pools", p -> p.get(0).get("idle").asInt() == 2, Duration.ofSeconds(60));
  }

  @AfterAll
  static void stop() throws Exception {
    if (node != null) {
      node.close();
    }
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
