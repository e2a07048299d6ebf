package dev.grange.node.buildlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.grange.node.testing.TestNode;
import dev.grange.protocol.wire.Handshake;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The node's edges refuse bad input with a clear answer and change nothing: the buildlet
 * handshake (PROTOCOL.md section 1), frames that break the channel's rules, and API bodies.
 */
class ConnectRefusalsIT {
  static final String FARM = """
      grange.hosts {
        lab { pool = reverse, expected = 1 }
        pooled { pool = local, local { min = 0, max = 1 } }
      }
      grange.builders {
        lab-check { host-type = lab, steps = [ { name = a, cmd = "/bin/true", sys = true } ] }
      }
      """;
  static final byte[] MASTER = "test-master-key-0123456789abcdef0123456789".getBytes(StandardCharsets.UTF_8);
  static final String AGENT = "0123456789abcdef0123456789abcdef";
  static TestNode node;

  @BeforeAll
  static void start() throws Exception {
    node = new TestNode("refusals", FARM).start();
  }

  @AfterAll
  static void stop() throws Exception {
    if (node != null) {
      node.close();
    }
  }

  static Map<String, String> headers(String hostType, String key) {
    Map<String, String> h = new LinkedHashMap<>();
    h.put(Handshake.HOST_TYPE, hostType);
    h.put(Handshake.HOSTNAME, "test-box");
    h.put(Handshake.AGENT_ID, AGENT);
    h.put(Handshake.AGENT_VERSION, "1");
    if (key != null) {
      h.put(Handshake.AUTHORIZATION, "Bearer " + key);
    }
    return h;
  }

  static final class Recorder implements WebSocket.Listener {
    final BlockingQueue<String> texts = new LinkedBlockingQueue<>();
    final BlockingQueue<Integer> closes = new LinkedBlockingQueue<>();
    private final StringBuilder part = new StringBuilder();

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      part.append(data);
      if (last) {
        texts.add(part.toString());
        part.setLength(0);
      }
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int code, String reason) {
      closes.add(code);
      return null;
    }
  }

  static WebSocket connect(Map<String, String> headers, Recorder r) {
    WebSocket.Builder b = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10));
    headers.forEach(b::header);
    return b.buildAsync(URI.create(node.wsUrl() + Handshake.PATH), r).join();
  }

  static int refusedWith(Map<String, String> headers) {
    CompletionException e = assertThrows(CompletionException.class, () -> connect(headers, new Recorder()));
    WebSocketHandshakeException h = assertInstanceOf(WebSocketHandshakeException.class, e.getCause());
    String body = String.valueOf(h.getResponse().body());
    assertTrue(body.contains("\"error\"") && body.contains("\"message\""), body);
    return h.getResponse().statusCode();
  }

  @Test
  void wrongOrMissingKeyIsRefusedWith401() {
    assertEquals(401, refusedWith(headers("lab", "0".repeat(64))));
    assertEquals(401, refusedWith(headers("lab", null)));
    assertEquals(401, refusedWith(headers("lab", Handshake.hostKey(MASTER, "other"))));
    // A local pool's machine needs its instance key, not a host key.
    assertEquals(401, refusedWith(headers("pooled", Handshake.hostKey(MASTER, "pooled"))));
  }

  @Test
  void unknownHostTypeIsRefusedWith404() {
    assertEquals(404, refusedWith(headers("nope", Handshake.hostKey(MASTER, "nope"))));
  }

  @Test
  void unsupportedVersionOrMissingHeaderIsRefusedWith400() {
    Map<String, String> h = headers("lab", Handshake.hostKey(MASTER, "lab"));
    h.put(Handshake.AGENT_VERSION, "99");
    assertEquals(400, refusedWith(h));
    h.put(Handshake.AGENT_VERSION, "one");
    assertEquals(400, refusedWith(h));
    Map<String, String> noId = headers("lab", Handshake.hostKey(MASTER, "lab"));
    noId.remove(Handshake.AGENT_ID);
    assertEquals(400, refusedWith(noId));
  }

  @Test
  void malformedJsonClosesTheSocketWithAPolicyViolation() throws Exception {
    Recorder r = new Recorder();
    WebSocket ws = connect(headers("lab", Handshake.hostKey(MASTER, "lab")), r);
    JsonNode hello = TestNode.JSON.readTree(r.texts.poll(10, TimeUnit.SECONDS));
    assertEquals("hello", hello.get("op").asText());
    ws.sendText("{this is not json", true).join();
    JsonNode closing = TestNode.JSON.readTree(r.texts.poll(10, TimeUnit.SECONDS));
    assertEquals("closing", closing.get("op").asText());
    assertEquals(1008, closing.get("code").asInt());
    assertTrue(closing.get("reason").asText().contains("malformed JSON"), closing.toString());
    assertTrue(r.closes.poll(10, TimeUnit.SECONDS) != null, "socket closed");
  }

  @Test
  void binaryFrameOnAStreamNobodyOpenedClosesTheSocket() throws Exception {
    Recorder r = new Recorder();
    WebSocket ws = connect(headers("lab", Handshake.hostKey(MASTER, "lab")), r);
    r.texts.poll(10, TimeUnit.SECONDS);
    ws.sendText("{\"op\":\"ready\",\"workdir\":\"/w\",\"os\":\"linux\",\"arch\":\"amd64\",\"cpus\":1,\"version\":1}", true).join();
    ws.sendBinary(java.nio.ByteBuffer.wrap(new dev.grange.protocol.wire.DataFrame(77, dev.grange.protocol.wire.StreamKind.STDOUT, 0, new byte[10]).encode()), true).join();
    JsonNode closing = awaitOp(r, "closing");
    assertEquals(1008, closing.get("code").asInt());
    assertTrue(closing.get("reason").asText().contains("unknown stream"), closing.toString());
  }

  private static void run(Path dir, String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.waitFor(), String.join(" ", cmd) + ": " + out);
  }

  private static JsonNode awaitOp(Recorder r, String op) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < end) {
      String t = r.texts.poll(1, TimeUnit.SECONDS);
      if (t != null) {
        JsonNode n = TestNode.JSON.readTree(t);
        if (n.get("op").asText().equals(op)) {
          return n;
        }
      }
    }
    throw new AssertionError("no " + op + " frame");
  }

  @Test
  void badApiBodiesAreRefusedAndQueueNothing() throws Exception {
    HttpResponse<String> r = node.post("/api/v1/builds", "{\"builder\":\"nope\",\"repo\":\"/tmp\",\"rev\":\"HEAD\"}");
    assertEquals(400, r.statusCode());
    assertTrue(r.body().contains("unknown_builder") && r.body().contains("lab-check"), r.body());
    assertEquals(400, node.post("/api/v1/builds", "{not json").statusCode());
    assertEquals(400, node.post("/api/v1/builds", "{\"builder\":\"lab-check\",\"repo\":\"/tmp\",\"rev\":\"HEAD\",\"colour\":1}").statusCode());
    assertEquals(400, node.post("/api/v1/builds", "{\"builder\":\"lab-check\"}").statusCode());
    HttpResponse<String> notRepo = node.post("/api/v1/builds", "{\"builder\":\"lab-check\",\"repo\":\"/nonexistent/repo\",\"rev\":\"HEAD\"}");
    assertEquals(400, notRepo.statusCode(), notRepo.body());
    assertEquals(404, node.get("/api/v1/builds/nosuchbuild").statusCode());
    assertEquals(404, node.delete("/api/v1/builds/nosuchbuild").statusCode());
    Path repo = java.nio.file.Files.createTempDirectory(Path.of("target").toAbsolutePath(), "refusals-repo");
    run(repo, "git", "init", "-q", "-b", "main");
    run(repo, "git", "-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-q", "--allow-empty", "-m", "one");
    HttpResponse<String> noRev = node.post("/api/v1/builds",
        "{\"builder\":\"lab-check\",\"repo\":\"" + repo + "\",\"rev\":\"no-such-branch\"}");
    assertEquals(404, noRev.statusCode(), noRev.body());
    assertTrue(noRev.body().contains("unknown_rev") && noRev.body().contains("no-such-branch"), noRev.body());
    HttpResponse<String> noSha = node.post("/api/v1/builds",
        "{\"builder\":\"lab-check\",\"repo\":\"" + repo + "\",\"rev\":\"" + "ab".repeat(20) + "\"}");
    assertEquals(404, noSha.statusCode(), noSha.body());
    JsonNode queues = node.json("/api/v1/queues");
    queues.forEach(q -> assertEquals(0, q.get("waiters").size(), "nothing was queued: " + queues));
  }
}
