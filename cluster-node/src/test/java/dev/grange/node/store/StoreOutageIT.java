package dev.grange.node.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.grange.node.testing.TestNode;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Cassandra goes away under running builds and comes back (issue 3, item 5). On a Cassandra of
 * its own (not {@code SharedCassandra}, so stopping it breaks no other test), a node with a local
 * pool of two real agents runs two builds whose first step prints for a while; the server is
 * stopped mid-step: the API answers 503 {@code store_unavailable} within its deadline, the agents'
 * sessions do not end, and once the server is started again on the same data every build accepted
 * before the outage finishes ok with every byte of its log once, live followers included, and a
 * new build runs. A submission sent as the server goes away is answered in time, and if it was
 * accepted (or only not confirmed) that build is not lost either.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StoreOutageIT {
  /** The drip step: LINES numbered lines, 0.1 s apart, so it runs across the whole outage. */
  static final int LINES = 400;
  /** The short step ends (after about 6 s) while the store is away: its end is persisted after. */
  static final int SHORT_LINES = 60;
  static final String FARM = """
      grange.hosts {
        it-local { pool = local, local { min = 4, max = 4 }, expected = 4 }
      }
      grange.builders {
        it-drip {
          host-type = it-local
          steps = [
            { name = drip, cmd = "/bin/sh", args = ["-c", "i=1; while [ $i -le %d ]; do echo \\"line $i\\"; i=$((i+1)); sleep 0.1; done"], sys = true, timeout = 5m }
            { name = after, cmd = "/bin/sh", args = ["-c", "echo after"], sys = true, timeout = 1m }
          ]
        }
        it-short {
          host-type = it-local
          steps = [
            { name = short, cmd = "/bin/sh", args = ["-c", "i=1; while [ $i -le %d ]; do echo \\"line $i\\"; i=$((i+1)); sleep 0.1; done"], sys = true, timeout = 5m }
            { name = after, cmd = "/bin/sh", args = ["-c", "echo after"], sys = true, timeout = 1m }
          ]
        }
        it-quiet {
          host-type = it-local
          steps = [
            { name = quiet, cmd = "/bin/sh", args = ["-c", "sleep 6"], sys = true, timeout = 5m }
            { name = after, cmd = "/bin/sh", args = ["-c", "echo after"], sys = true, timeout = 1m }
          ]
        }
      }
      grange.node.api.ask-timeout = 5s
      """.formatted(LINES, SHORT_LINES);
  /** What an answer may take: the ask timeout and some room for a busy 2-core machine. */
  static final Duration ANSWER_DEADLINE = Duration.ofSeconds(8);
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  static EmbeddedCassandra cassandra;
  static TestNode node;
  static Path repo;

  @BeforeAll
  static void start() throws Exception {
    Path dir = Path.of("target", "it-outage", LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss-SSS")))
        .toAbsolutePath();
    Files.createDirectories(dir);
    int[] ports = FreePorts.loopback(2);
    cassandra = EmbeddedCassandra.start(EmbeddedCassandra.Settings.defaults(dir).withPorts(ports[0], ports[1]).withHeap("512m"));
    repo = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "it-outage-repo");
    Files.writeString(repo.resolve("README"), "outage\n");
    git("init", "-q", "-b", "main");
    git("add", ".");
    git("-c", "user.name=Test", "-c", "user.email=t@example.com", "commit", "-q", "-m", "first");
    node = new TestNode("outage", FARM, cassandra.contactPoint()).start();
    node.await("/api/v1/pools", p -> p.get(0).get("idle").asInt() == 4, Duration.ofSeconds(90));
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      if (node != null) {
        node.close();
      }
    } finally {
      if (cassandra != null) {
        cassandra.close();
      }
    }
  }

  @Test
  @Order(1)
  void overlappingRepeatedChunksOnRealCassandraReadAsEachByteOnce() throws Exception {
    LogStore logs = node.node().logs();
    Random r = new Random(7);
    byte[] stream = new byte[700_000];
    r.nextBytes(stream);
    String build = "overlap-" + Long.toString(System.nanoTime(), 36);
    List<CompletableFuture<?>> writes = new ArrayList<>();
    // Three connections' worth of the same byte stream: from 0 in 100,000-byte chunks, a resume
    // from 150,000 in full-size chunks, and one from 7 in 77,777-byte chunks that stops early.
    int[][] passes = {{0, 100_000, stream.length}, {150_000, dev.grange.protocol.wire.Limits.MAX_PAYLOAD_BYTES, stream.length},
        {7, 77_777, 400_000}};
    for (int[] p : passes) {
      for (int at = p[0]; at < p[2]; at += p[1]) {
        int end = Math.min(p[2], at + p[1]);
        writes.add(logs.append(build, 1, 0, at, 1, Arrays.copyOfRange(stream, at, end)).toCompletableFuture());
      }
    }
    CompletableFuture.allOf(writes.toArray(new CompletableFuture[0])).get(60, TimeUnit.SECONDS);
    for (long from : new long[] {0, 1, 7, 99_999, 100_000, 150_001, 262_144, 400_000, 699_999, 700_000}) {
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      long pos = from;
      while (true) {
        List<LogStore.LogChunk> chunks = logs.read(build, 1, 0, pos, 123_456).toCompletableFuture().get(30, TimeUnit.SECONDS);
        if (chunks.isEmpty()) {
          break;
        }
        for (LogStore.LogChunk c : chunks) {
          assertEquals(pos, c.offset(), "contiguous from " + from);
          got.writeBytes(c.data());
          pos = c.end();
        }
      }
      assertArrayEquals(Arrays.copyOfRange(stream, (int) from, stream.length), got.toByteArray(), "read from " + from);
    }
  }

  @Test
  @Order(2)
  void anOutageUnderRunningBuildsIsRefusedFastAndLosesNothing() throws Exception {
    // Four builds, one per agent: two print through the outage, one ends its printing step
    // during it (its end waits for its last bytes to be stored), one ends a silent step during it
    // (so its end is persisted while the store is away).
    Map<String, String> expectedLogs = new LinkedHashMap<>();
    for (int i = 0; i < 2; i++) {
      expectedLogs.put(submit("it-drip"), expectedLog(LINES));
    }
    expectedLogs.put(submit("it-short"), expectedLog(SHORT_LINES));
    String quiet = submit("it-quiet");
    expectedLogs.put(quiet, "after\n");
    List<String> builds = new ArrayList<>(expectedLogs.keySet());
    for (String id : builds) {
      node.await("/api/v1/builds/" + id, j -> j.get("steps").get(0).get("state").asText().equals("running"), Duration.ofSeconds(60));
      if (!id.equals(quiet)) {
        awaitLogHas(id, "line 20\n");
      }
    }
    Map<String, Long> sessions = sessions();
    assertEquals(4, sessions.size(), sessions.toString());
    // Live followers from byte 0 and from byte 5: they must ride out the outage.
    Map<String, CompletableFuture<HttpResponse<byte[]>>> followers = new LinkedHashMap<>();
    for (String id : builds) {
      followers.put(id + "@0", follow(id, 0));
      followers.put(id + "@5", follow(id, 5));
    }

    // A submission as the store goes away, before the node can know: answered in time, either
    // accepted (202, then it must finish) or not (503; if it names a build, that build must not
    // be lost either).
    CompletableFuture<Void> stopping = CompletableFuture.runAsync(cassandra::stop);
    HttpResponse<String> early = timed(HttpRequest.newBuilder(URI.create(node.base() + "/api/v1/builds"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(submitBody("it-quiet"))));
    System.out.println("A submission as the store went away: " + early.statusCode() + " " + early.body());
    assertTrue(early.statusCode() == 202 || early.statusCode() == 503, early.body());
    stopping.get(60, TimeUnit.SECONDS);
    long stoppedAt = System.nanoTime();

    // Every answer within the deadline; store_unavailable once the node knows.
    JsonNode refusal = awaitStoreUnavailable("/api/v1/builds/" + builds.get(0), Duration.ofSeconds(30));
    assertTrue(refusal.get("message").asText().startsWith("the build store (Cassandra) is unavailable since "), refusal.toString());
    assertTrue(refusal.get("message").asText().endsWith("; try again"), refusal.toString());
    HttpResponse<String> post = timed(HttpRequest.newBuilder(URI.create(node.base() + "/api/v1/builds"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(submitBody("it-drip"))));
    assertEquals(503, post.statusCode(), post.body());
    assertEquals("store_unavailable", TestNode.JSON.readTree(post.body()).get("error").asText(), post.body());
    assertTrue(post.headers().firstValue("Retry-After").isPresent(), post.headers().toString());
    for (String path : List.of("/api/v1/pools", "/api/v1/buildlets", "/api/v1/queues", "/api/v1/builds/" + builds.get(1) + "/log")) {
      HttpResponse<String> r = timed(HttpRequest.newBuilder(URI.create(node.base() + path)).GET());
      assertEquals(503, r.statusCode(), path + ": " + r.body());
      assertEquals("store_unavailable", TestNode.JSON.readTree(r.body()).get("error").asText(), path + ": " + r.body());
    }
    JsonNode store = TestNode.JSON.readTree(timed(HttpRequest.newBuilder(URI.create(node.base() + "/api/v1/store")).GET()).body());
    assertEquals("down", store.get("state").asText(), store.toString());
    assertTrue(store.has("lastError"), store.toString());

    // Keep the store away long enough to matter (15 s of outage in all), answering 503 throughout.
    while (System.nanoTime() - stoppedAt < TimeUnit.SECONDS.toNanos(15)) {
      HttpResponse<String> r = timed(HttpRequest.newBuilder(URI.create(node.base() + "/api/v1/builds/" + builds.get(1))).GET());
      assertEquals(503, r.statusCode(), r.body());
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(500));
    }
    for (CompletableFuture<HttpResponse<byte[]>> f : followers.values()) {
      assertTrue(!f.isDone() || f.isCompletedExceptionally(), "a live follower ended during the outage");
      assertTrue(!f.isDone(), "a live follower failed during the outage");
    }

    cassandra.restart();
    node.await("/api/v1/store", j -> j.get("state").asText().equals("up"), Duration.ofSeconds(60));

    for (String id : builds) {
      String expected = expectedLogs.get(id);
      JsonNode j = awaitOver(id, Duration.ofSeconds(240));
      assertEquals("ok", j.get("state").asText(), "a build accepted before the outage: " + j);
      assertEquals(expected, new String(node.getBytes("/api/v1/builds/" + id + "/log").body(), StandardCharsets.UTF_8), "log of " + id);
      int from = Math.min(123, expected.length() - 1);
      assertEquals(expected.substring(from), new String(node.getBytes("/api/v1/builds/" + id + "/log?from=" + from).body(),
          StandardCharsets.UTF_8), "log of " + id + " from " + from);
      System.out.println("Build " + id + " after the outage: attempts " + j.get("attempts"));
      // Its output went on while the store was away: the log writes waited for it, nothing was
      // cancelled. The quiet build's step ended while the store was away: its BuildRun restarts on
      // the failed persist and resumes the step (the agent kept the exit until forget). No build
      // needs an infrastructure retry.
      assertEquals(1, j.get("attempts").size(), "attempts of " + id + ": " + j.get("attempts"));
    }
    for (Map.Entry<String, CompletableFuture<HttpResponse<byte[]>>> f : followers.entrySet()) {
      HttpResponse<byte[]> r = f.getValue().get(60, TimeUnit.SECONDS);
      assertEquals(200, r.statusCode(), f.getKey());
      int from = Integer.parseInt(f.getKey().substring(f.getKey().indexOf('@') + 1));
      String expected = expectedLogs.get(f.getKey().substring(0, f.getKey().indexOf('@')));
      assertEquals(expected.substring(from), new String(r.body(), StandardCharsets.UTF_8), "live follower " + f.getKey());
    }
    String earlyId = early.statusCode() == 202 ? TestNode.JSON.readTree(early.body()).get("id").asText()
        : early.body().matches(".*build ([a-z0-9]+-[0-9a-f]+) was not confirmed.*")
            ? early.body().replaceAll(".*build ([a-z0-9]+-[0-9a-f]+) was not confirmed.*", "$1") : null;
    if (earlyId != null) {
      HttpResponse<String> r = node.get("/api/v1/builds/" + earlyId);
      if (early.statusCode() == 202 || r.statusCode() != 404) {
        JsonNode j = awaitOver(earlyId, Duration.ofSeconds(180));
        assertEquals("ok", j.get("state").asText(), "the submission as the store went away: " + j);
      }
    }
    // The agents stayed connected: the same sessions (a reconnect would start a new one).
    assertEquals(sessions, sessions(), "the agents' sessions after the outage");

    String after = submit("it-drip");
    JsonNode j = node.await("/api/v1/builds/" + after,
        x -> !x.get("state").asText().equals("queued") && !x.get("state").asText().equals("running"), Duration.ofSeconds(180));
    assertEquals("ok", j.get("state").asText(), "a build submitted after the outage: " + j);
    assertEquals(expectedLog(LINES), new String(node.getBytes("/api/v1/builds/" + after + "/log").body(), StandardCharsets.UTF_8));
  }

  // ---- helpers ----

  private static String expectedLog(int lines) {
    StringBuilder b = new StringBuilder();
    for (int i = 1; i <= lines; i++) {
      b.append("line ").append(i).append('\n');
    }
    return b.append("after\n").toString();
  }

  private static String submitBody(String builder) {
    return "{\"builder\":\"" + builder + "\",\"repo\":\"" + repo + "\",\"rev\":\"HEAD\"}";
  }

  private static String submit(String builder) throws Exception {
    HttpResponse<String> r = node.post("/api/v1/builds", submitBody(builder));
    assertEquals(202, r.statusCode(), r.body());
    return TestNode.JSON.readTree(r.body()).get("id").asText();
  }

  /** Buildlet id -> the connectedAtMs of its session. */
  private static Map<String, Long> sessions() throws Exception {
    Map<String, Long> m = new java.util.TreeMap<>();
    for (JsonNode b : node.json("/api/v1/buildlets")) {
      m.put(b.get("id").asText(), b.get("connectedAtMs").asLong());
    }
    return m;
  }

  private static CompletableFuture<HttpResponse<byte[]>> follow(String id, long from) {
    return HTTP.sendAsync(HttpRequest.newBuilder(URI.create(node.base() + "/api/v1/builds/" + id + "/log?from=" + from))
        .timeout(Duration.ofMinutes(6)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private static void awaitLogHas(String id, String text) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < end) {
      // from a high offset there is nothing yet; read what there is without following: the build runs,
      // so read the first bytes through a short-lived follower with a deadline.
      HttpResponse<java.io.InputStream> r = HTTP.send(HttpRequest.newBuilder(URI.create(node.base() + "/api/v1/builds/" + id + "/log"))
          .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
      try (java.io.InputStream in = r.body()) {
        byte[] first = in.readNBytes(text.length() * 25);
        if (new String(first, StandardCharsets.UTF_8).contains(text)) {
          return;
        }
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
    }
    throw new AssertionError("the log of " + id + " did not show [" + text.trim() + "] within 60 s");
  }

  /**
   * Polls the build until it is over. While entities recover from the outage an answer may be a
   * 503 (an ask that timed out), never a 500 and never later than {@link #ANSWER_DEADLINE}.
   */
  private static JsonNode awaitOver(String id, Duration deadline) throws Exception {
    long end = System.nanoTime() + deadline.toNanos();
    Map<String, Integer> seen = new java.util.TreeMap<>();
    String last = null;
    while (System.nanoTime() < end) {
      HttpResponse<String> r = timed(HttpRequest.newBuilder(URI.create(node.base() + "/api/v1/builds/" + id)).GET());
      last = r.statusCode() + " " + r.body();
      JsonNode j = TestNode.JSON.readTree(r.body());
      if (r.statusCode() == 200) {
        String state = j.get("state").asText();
        seen.merge("200 " + state, 1, Integer::sum);
        if (!state.equals("queued") && !state.equals("running")) {
          System.out.println("Build " + id + " answers seen after the outage: " + seen);
          return j;
        }
      } else {
        assertEquals(503, r.statusCode(), "after the outage: " + last);
        assertTrue(r.headers().firstValue("Retry-After").isPresent(), last);
        assertTrue(j.get("message").asText().endsWith("try again"), last);
        seen.merge("503 " + j.get("error").asText(), 1, Integer::sum);
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
    }
    throw new AssertionError("build " + id + " was not over within " + deadline + "; answers " + seen + "; last: " + last);
  }

  /** Sends and checks the answer came within {@link #ANSWER_DEADLINE}. */
  private static HttpResponse<String> timed(HttpRequest.Builder b) throws Exception {
    long t0 = System.nanoTime();
    HttpResponse<String> r = HTTP.send(b.timeout(ANSWER_DEADLINE.plusSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertTrue(ms <= ANSWER_DEADLINE.toMillis(), b.build().uri() + " answered after " + ms + " ms: " + r.statusCode() + " " + r.body());
    return r;
  }

  /** Polls until the path answers 503 store_unavailable; every answer comes within the deadline and is 200 or 503. */
  private static JsonNode awaitStoreUnavailable(String path, Duration deadline) throws Exception {
    long end = System.nanoTime() + deadline.toNanos();
    String last = null;
    while (System.nanoTime() < end) {
      HttpResponse<String> r = timed(HttpRequest.newBuilder(URI.create(node.base() + path)).GET());
      last = r.statusCode() + " " + r.body();
      assertTrue(r.statusCode() == 200 || r.statusCode() == 503, "during the outage: " + last);
      if (r.statusCode() == 503) {
        JsonNode j = TestNode.JSON.readTree(r.body());
        assertTrue(r.headers().firstValue("Retry-After").isPresent(), r.headers().toString());
        if (j.get("error").asText().equals("store_unavailable")) {
          return j;
        }
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
    }
    throw new AssertionError(path + " did not answer 503 store_unavailable within " + deadline + "; last: " + last);
  }

  static void git(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("git"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(repo.toFile()).inheritIO().start();
    assertEquals(0, p.waitFor());
  }
}
