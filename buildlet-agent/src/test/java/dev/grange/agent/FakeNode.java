package dev.grange.agent;

import com.typesafe.config.ConfigFactory;
import dev.grange.protocol.wire.Handshake;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.ws.WebSocketUpgrade;
import org.apache.pekko.stream.Materializer;

/**
 * A stand-in for a cluster node: a real Pekko HTTP WebSocket server on 127.0.0.1 that checks the
 * connect request of PROTOCOL.md section 1 (path, headers, host type, bearer key), records every
 * attempt, and hands each accepted socket to the test as a {@link NodeSocket}. Everything is
 * awaited with a deadline; nothing here sleeps.
 *
 * <p>One actor system serves every fake node of a test JVM (starting one costs about a second).
 */
final class FakeNode implements AutoCloseable {
  /** How long any await waits by default: generous, for a loaded 2-core machine. */
  static final Duration WAIT = Duration.ofSeconds(20);

  /** A request the node saw, and the status it answered (101 for an upgrade). */
  record Upgrade(Map<String, String> headers, int status) {
    String header(String name) {
      return headers.get(name);
    }
  }

  private static ActorSystem system;

  private final String hostType;
  private final String key;
  private final ServerBinding binding;
  private final LinkedBlockingQueue<Upgrade> upgrades = new LinkedBlockingQueue<>();
  private final LinkedBlockingQueue<Upgrade> fetches = new LinkedBlockingQueue<>();
  private final Map<String, byte[]> served = new ConcurrentHashMap<>();
  private final LinkedBlockingQueue<NodeSocket> sockets = new LinkedBlockingQueue<>();
  private final List<NodeSocket> all = new CopyOnWriteArrayList<>();
  private final AtomicInteger refuseNext = new AtomicInteger();
  private final AtomicInteger busyNext = new AtomicInteger();
  private volatile int refuseStatus = 503;

  private FakeNode(String hostType, String key) {
    this.hostType = hostType;
    this.key = key;
    this.binding = join(Http.get(system()).newServerAt("127.0.0.1", 0).bind(this::handle));
  }

  /** A node that accepts agents of {@code hostType} presenting {@code key}. */
  static FakeNode start(String hostType, String key) {
    return new FakeNode(hostType, key);
  }

  static synchronized ActorSystem system() {
    if (system == null) {
      system = ActorSystem.create("fake-node", ConfigFactory.parseString(
              "pekko.loglevel = WARNING\n"
                  + "pekko.stdout-loglevel = WARNING\n"
                  + "pekko.http.server.idle-timeout = 300s\n")
          .withFallback(ConfigFactory.load()));
    }
    return system;
  }

  static Materializer materializer() {
    return Materializer.matFromSystem(system());
  }

  /** A loopback port nothing listens on: a node that is down. */
  static int closedPort() {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  int port() {
    return binding.localAddress().getPort();
  }

  /** The URL an agent is given with --node (without the path: the agent adds it). */
  String url() {
    return "ws://127.0.0.1:" + port();
  }

  /** The next {@code n} connect requests are answered with {@code status} instead of an upgrade. */
  void refuseNext(int n, int status) {
    refuseStatus = status;
    refuseNext.set(n);
  }

  /** The next {@code n} GETs of served paths are answered 503 with Retry-After: 0, as a busy node does. */
  void busyNext(int n) {
    busyNext.set(n);
  }

  /** Serves {@code body} to a plain GET of {@code path} (a source archive for put_tar_url). */
  void serve(String path, byte[] body) {
    served.put(path, body);
  }

  /** The URL of something {@link #serve}d. */
  String httpUrl(String path) {
    return "http://127.0.0.1:" + port() + path;
  }

  /** The next plain GET the node answered (not a connect request). */
  Upgrade awaitFetch() {
    return poll(fetches, "a GET of a served path");
  }

  /** The next connect request (refused or not), in arrival order. */
  Upgrade awaitUpgrade() {
    return poll(upgrades, "a connect request");
  }

  /** The next socket an agent opened. */
  NodeSocket awaitSocket() {
    return poll(sockets, "an agent to connect");
  }

  /** Asserts that no socket broke the node's side of the protocol rules (credit, framing). */
  void assertNoViolations() {
    for (NodeSocket s : all) {
      s.assertNoViolations();
    }
  }

  @Override
  public void close() {
    all.forEach(NodeSocket::close);
    join(binding.unbind());
  }

  private CompletionStage<HttpResponse> handle(HttpRequest req) {
    Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    for (HttpHeader h : req.getHeaders()) {
      headers.put(h.name(), h.value());
    }
    byte[] body = served.get(req.getUri().path());
    if (body != null && req.getAttribute(AttributeKeys.webSocketUpgrade).isEmpty()) {
      if (busyNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        fetches.add(new Upgrade(headers, 503));
        return CompletableFuture.completedFuture(HttpResponse.create().withStatus(503)
            .addHeader(org.apache.pekko.http.javadsl.model.headers.RawHeader.create("Retry-After", "0")).withEntity("busy"));
      }
      fetches.add(new Upgrade(headers, 200));
      return CompletableFuture.completedFuture(HttpResponse.create().withEntity(body));
    }
    String refusal = refusal(req, headers);
    int status = refusal == null ? 101 : Integer.parseInt(refusal.substring(0, 3));
    upgrades.add(new Upgrade(headers, status));
    if (refusal != null) {
      return CompletableFuture.completedFuture(
          HttpResponse.create().withStatus(status).withEntity(refusal));
    }
    Optional<WebSocketUpgrade> upgrade = req.getAttribute(AttributeKeys.webSocketUpgrade);
    NodeSocket socket = new NodeSocket(headers, materializer());
    HttpResponse resp = upgrade.get().handleMessagesWith(socket.flow());
    all.add(socket);
    sockets.add(socket);
    return CompletableFuture.completedFuture(resp);
  }

  /** Why the request is refused, or null; the same checks as the real node, in its order. */
  private String refusal(HttpRequest req, Map<String, String> h) {
    if (!req.getUri().path().equals(Handshake.PATH)) {
      return "404 no such path " + req.getUri().path();
    }
    if (req.getAttribute(AttributeKeys.webSocketUpgrade).isEmpty()) {
      return "400 not a WebSocket upgrade";
    }
    if (refuseNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      return refuseStatus + " refused by the test";
    }
    if (!"1".equals(h.get(Handshake.AGENT_VERSION))) {
      return "400 unsupported version " + h.get(Handshake.AGENT_VERSION);
    }
    if (!Handshake.validAgentId(h.get(Handshake.AGENT_ID))) {
      return "400 bad agent id " + h.get(Handshake.AGENT_ID);
    }
    if (!hostType.equals(h.get(Handshake.HOST_TYPE))) {
      return "404 unknown host type " + h.get(Handshake.HOST_TYPE);
    }
    if (!Handshake.keyMatches(key, Handshake.bearer(h.get(Handshake.AUTHORIZATION)))) {
      return "401 bad key";
    }
    return null;
  }

  private static <T> T poll(LinkedBlockingQueue<T> q, String what) {
    try {
      T t = q.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
      if (t == null) {
        throw new AssertionError("no " + what + " within " + WAIT);
      }
      return t;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted waiting for " + what, e);
    }
  }

  static <T> T join(CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
