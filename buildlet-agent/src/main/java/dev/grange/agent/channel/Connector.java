package dev.grange.agent.channel;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the agent connected: dials the node URLs in turn (PROTOCOL.md section 1), holds one
 * {@link Session} at a time, and after it ends dials again after a {@link Backoff} delay. Runs
 * on its own thread from {@link #start()} to {@link #stop()}.
 *
 * <p>A refused upgrade (401 bad key, 400 bad header or version, 404 unknown host type, 403
 * revoked) is logged with its status and body, then retried like any failure: the operator may
 * fix the node's configuration while the agent waits.
 */
public final class Connector {
  private static final Logger log = LoggerFactory.getLogger(Connector.class);
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

  private final List<URI> nodes;
  private final Map<String, String> headers;
  private final FrameHandler handler;
  private final HttpClient http;
  private final ScheduledExecutorService timers;
  private final Backoff backoff;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private final CountDownLatch finished = new CountDownLatch(1);
  private final AtomicBoolean started = new AtomicBoolean();
  private final Thread thread;
  private volatile Session current;
  private volatile int stopCode = 1001;
  private volatile String stopReason = "agent stopping";

  /**
   * @param headers the handshake headers, the key's among them (never logged)
   */
  public Connector(
      List<URI> nodes,
      Map<String, String> headers,
      FrameHandler handler,
      HttpClient http,
      ScheduledExecutorService timers,
      Backoff backoff) {
    if (nodes.isEmpty()) {
      throw new IllegalArgumentException("no node URL");
    }
    this.nodes = List.copyOf(nodes);
    this.headers = Map.copyOf(headers);
    this.handler = handler;
    this.http = http;
    this.timers = timers;
    this.backoff = backoff;
    this.thread = new Thread(this::run, "grange-connector");
    this.thread.setDaemon(true);
  }

  public void start() {
    if (started.compareAndSet(false, true)) {
      thread.start();
    }
  }

  /**
   * Stops dialling and closes the current socket with {@code code}; {@link #awaitStopped} then
   * tells when the close is done.
   */
  public void stop(int code, String reason) {
    stopCode = code;
    stopReason = reason;
    stopped.countDown();
    if (started.compareAndSet(false, true)) {
      finished.countDown();
      return;
    }
    Session s = current;
    if (s != null) {
      s.close(code, reason);
    }
    thread.interrupt();
  }

  /**
   * After {@link #stop}: waits until the last socket is closed (the node answered the close, or
   * the session gave up waiting for it) and nothing dials any more.
   *
   * @return false if that took longer than {@code timeoutMs}
   */
  public boolean awaitStopped(long timeoutMs) throws InterruptedException {
    return finished.await(timeoutMs, TimeUnit.MILLISECONDS);
  }

  /** The session now connected, or null. */
  public Session current() {
    return current;
  }

  private boolean isStopped() {
    return stopped.getCount() == 0;
  }

  private void run() {
    try {
      dialUntilStopped();
    } finally {
      finished.countDown();
    }
    log.info("Connector stopped");
  }

  private void dialUntilStopped() {
    int next = 0;
    while (!isStopped()) {
      URI uri = nodes.get(next);
      next = (next + 1) % nodes.size();
      Session session = new Session(uri, handler, timers);
      if (dial(uri, session)) {
        current = session;
        if (isStopped()) {
          session.close(stopCode, stopReason);
        }
        String why = await(session);
        current = null;
        log.info("Disconnected from [{}]: {}", uri, why);
        if (session.greeted()) {
          backoff.reset();
        }
      }
      if (isStopped()) {
        break;
      }
      long delay = backoff.next();
      log.info("Reconnecting in {} ms (next node [{}])", delay, nodes.get(next));
      try {
        if (stopped.await(delay, TimeUnit.MILLISECONDS)) {
          break;
        }
      } catch (InterruptedException e) {
        if (isStopped()) {
          break;
        }
      }
    }
  }

  private boolean dial(URI uri, Session session) {
    WebSocket.Builder builder = http.newWebSocketBuilder().connectTimeout(CONNECT_TIMEOUT);
    headers.forEach(builder::header);
    long limitMs = CONNECT_TIMEOUT.toMillis() * 2;
    CompletableFuture<WebSocket> opening = builder.buildAsync(uri, session);
    try {
      try {
        opening.get(limitMs, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        // stop() interrupts a dial in progress. The socket may be open already (the node may
        // even have said hello): let the dial settle, so an open socket is closed as the
        // current one, not left open for the node to find stale.
        opening.get(limitMs, TimeUnit.MILLISECONDS);
      }
      log.info("Connected to [{}]", uri);
      return true;
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof WebSocketHandshakeException h) {
        log.warn("Node [{}] refused the upgrade: HTTP {} {}", uri, h.getResponse().statusCode(), body(h));
      } else {
        log.warn("Cannot connect to [{}]: {}", uri, cause == null ? e.toString() : cause.toString());
      }
    } catch (TimeoutException e) {
      log.warn("Cannot connect to [{}]: no answer within {} ms", uri, limitMs);
      // Should it open after all, nobody uses it.
      opening.thenAccept(WebSocket::abort);
    } catch (InterruptedException e) {
      // Interrupted again while the dial settled: give it up.
      opening.thenAccept(WebSocket::abort);
    }
    return false;
  }

  private String await(Session session) {
    while (true) {
      try {
        return session.closed().get();
      } catch (InterruptedException e) {
        // stop() already asked the session to close; keep waiting for it to finish.
      } catch (ExecutionException e) {
        return e.getCause().toString();
      }
    }
  }

  private static String body(WebSocketHandshakeException h) {
    Object body = h.getResponse().body();
    String text;
    if (body instanceof byte[] b) {
      text = new String(b, StandardCharsets.UTF_8);
    } else if (body instanceof String s) {
      text = s;
    } else {
      return "";
    }
    text = text.strip();
    return text.length() > 500 ? text.substring(0, 500) + "..." : text;
  }
}
