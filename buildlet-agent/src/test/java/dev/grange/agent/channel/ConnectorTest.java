package dev.grange.agent.channel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grange.protocol.wire.NodeFrame;
import java.io.IOException;
import java.net.Authenticator;
import java.net.CookieHandler;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Proves a race of the {@link Connector} that a real socket hits only now and then, with a
 * WebSocket whose opening the test steps through: the socket opens (the node may even have said
 * hello) before the dial's future completes, and the agent is stopped in between. The open
 * socket must then be closed with the stop's code, not left open for the node to find stale.
 */
class ConnectorTest {
  private static final long WAIT_S = 20;

  private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
  private final SteppedClient http = new SteppedClient();

  @AfterEach
  void tearDown() {
    timers.shutdownNow();
  }

  @Test
  void aStopWhileTheOpeningDialCompletesClosesTheSocketInsteadOfLeakingIt() throws Exception {
    Connector c = new Connector(List.of(URI.create("ws://127.0.0.1:1/buildlet/v1/connect")), Map.of(),
        new NoOps(), http, timers, new Backoff(200, 1_000, n -> n));
    c.start();
    Dial dial = http.dials.poll(WAIT_S, TimeUnit.SECONDS);
    FakeSocket ws = new FakeSocket();
    dial.listener().onOpen(ws);

    c.stop(1001, "agent stopping");
    dial.opened().complete(ws);

    Object[] close = ws.closes.poll(WAIT_S, TimeUnit.SECONDS);
    assertTrue(close != null, "the socket that opened during the stop was left open");
    assertEquals(1001, close[0]);
    // The node answers the close; the connector is then done.
    dial.listener().onClose(ws, 1001, "");
    assertTrue(c.awaitStopped(WAIT_S * 1000), "the connector did not stop");
  }

  /** A dial the test completes: the listener it was given and the future it returned. */
  record Dial(WebSocket.Listener listener, CompletableFuture<WebSocket> opened) {}

  private static final class SteppedClient extends HttpClient {
    final LinkedBlockingQueue<Dial> dials = new LinkedBlockingQueue<>();

    @Override
    public WebSocket.Builder newWebSocketBuilder() {
      return new WebSocket.Builder() {
        @Override
        public WebSocket.Builder header(String name, String value) {
          return this;
        }

        @Override
        public WebSocket.Builder connectTimeout(Duration timeout) {
          return this;
        }

        @Override
        public WebSocket.Builder subprotocols(String most, String... lesser) {
          return this;
        }

        @Override
        public CompletableFuture<WebSocket> buildAsync(URI uri, WebSocket.Listener listener) {
          CompletableFuture<WebSocket> f = new CompletableFuture<>();
          dials.add(new Dial(listener, f));
          return f;
        }
      };
    }

    @Override
    public Optional<CookieHandler> cookieHandler() {
      return Optional.empty();
    }

    @Override
    public Optional<Duration> connectTimeout() {
      return Optional.empty();
    }

    @Override
    public Redirect followRedirects() {
      return Redirect.NEVER;
    }

    @Override
    public Optional<ProxySelector> proxy() {
      return Optional.empty();
    }

    @Override
    public SSLContext sslContext() {
      throw new UnsupportedOperationException();
    }

    @Override
    public SSLParameters sslParameters() {
      throw new UnsupportedOperationException();
    }

    @Override
    public Optional<Authenticator> authenticator() {
      return Optional.empty();
    }

    @Override
    public Version version() {
      return Version.HTTP_1_1;
    }

    @Override
    public Optional<Executor> executor() {
      return Optional.empty();
    }

    @Override
    public <T> HttpResponse<T> send(HttpRequest req, HttpResponse.BodyHandler<T> h) throws IOException {
      throw new UnsupportedOperationException();
    }

    @Override
    public <T> CompletableFuture<HttpResponse<T>> sendAsync(HttpRequest req, HttpResponse.BodyHandler<T> h) {
      throw new UnsupportedOperationException();
    }

    @Override
    public <T> CompletableFuture<HttpResponse<T>> sendAsync(
        HttpRequest req, HttpResponse.BodyHandler<T> h, HttpResponse.PushPromiseHandler<T> p) {
      throw new UnsupportedOperationException();
    }
  }

  /** Records the closes sent on it; every send completes at once. */
  private static final class FakeSocket implements WebSocket {
    final LinkedBlockingQueue<Object[]> closes = new LinkedBlockingQueue<>();

    @Override
    public CompletableFuture<WebSocket> sendText(CharSequence data, boolean last) {
      return CompletableFuture.completedFuture(this);
    }

    @Override
    public CompletableFuture<WebSocket> sendBinary(ByteBuffer data, boolean last) {
      return CompletableFuture.completedFuture(this);
    }

    @Override
    public CompletableFuture<WebSocket> sendPing(ByteBuffer message) {
      return CompletableFuture.completedFuture(this);
    }

    @Override
    public CompletableFuture<WebSocket> sendPong(ByteBuffer message) {
      return CompletableFuture.completedFuture(this);
    }

    @Override
    public CompletableFuture<WebSocket> sendClose(int statusCode, String reason) {
      closes.add(new Object[] {statusCode, reason});
      return CompletableFuture.completedFuture(this);
    }

    @Override
    public void request(long n) {}

    @Override
    public String getSubprotocol() {
      return "";
    }

    @Override
    public boolean isOutputClosed() {
      return !closes.isEmpty();
    }

    @Override
    public boolean isInputClosed() {
      return false;
    }

    @Override
    public void abort() {}
  }

  private static final class NoOps implements FrameHandler {
    @Override
    public void onHello(SessionLink link, NodeFrame.Hello hello) {}

    @Override
    public void onRequest(SessionLink link, NodeFrame frame) {}

    @Override
    public void onClosed(SessionLink link) {}
  }
}
