package dev.grange.node.ui;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.grange.node.testing.Browser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.http.javadsl.model.ws.TextMessage;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.openqa.selenium.By;

/**
 * Proves the browser harness ({@link Browser}) on a page of its own, before any UI page exists: a
 * Pekko HTTP server on a free loopback port serves a page whose script opens a WebSocket to the
 * same server and shows the one message it receives, and a page that logs a console error, so the
 * "no console errors" check is shown to catch one.
 */
@ExtendWith(TestKitJUnit5Extension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BrowserSmokeIT {
  private static final String GREETING = "hello from the server";
  private static final String DELIBERATE = "smoke: a deliberate console error";
  private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G'};

  private static final String LIVE_PAGE = """
      <!doctype html>
      <html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>live</title></head>
      <body><p id="status">waiting</p>
      <script>
        const ws = new WebSocket(`ws://${location.host}/ws`);
        ws.onmessage = (e) => {
          const p = document.createElement('p');
          p.id = 'from-server';
          p.textContent = e.data;
          document.body.appendChild(p);
        };
        ws.onerror = () => console.error('websocket failed');
      </script></body></html>
      """;

  private static final String BROKEN_PAGE = """
      <!doctype html>
      <html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>broken</title></head>
      <body><p id="status">loaded</p><script>console.error('%s');</script></body></html>
      """.formatted(DELIBERATE);

  @JUnit5TestKit
  final ActorTestKit testKit =
      new JUnit5TestKitBuilder().withCustomConfig(ConfigFactory.parseString("pekko.actor.provider = local")).build();

  private ServerBinding binding;
  private Browser browser;
  private String base;

  @BeforeAll
  void start() throws Exception {
    binding = Http.get(testKit.system())
        .newServerAt("127.0.0.1", 0)
        .bind(routes())
        .toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
    base = "http://127.0.0.1:" + binding.localAddress().getPort();
    browser = Browser.start(getClass().getSimpleName());
  }

  @AfterAll
  void stop() throws Exception {
    try {
      if (browser != null) {
        browser.close();
      }
    } finally {
      binding.unbind().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void aPageShowsWhatItsWebSocketReceivesWithoutConsoleErrors() throws Exception {
    browser.open(base + "/live");

    assertEquals(GREETING, browser.awaitVisible(By.id("from-server")).getText());
    browser.assertNoConsoleErrors();
    assertTrue(browser.jsHeapBytes() > 0, "performance.memory reports a heap");

    Path shot = browser.screenshot("browser-smoke");
    byte[] head = Arrays.copyOf(Files.readAllBytes(shot), PNG_MAGIC.length);
    assertArrayEquals(PNG_MAGIC, head, shot + " is a PNG");
  }

  @Test
  void aNarrowWindowIsWhatThePageSees() {
    browser.open(base + "/live");
    try {
      browser.windowSize(360, 800);

      browser.await("a 360 px wide viewport", d -> Long.valueOf(360).equals(browser.script("return window.innerWidth;")));
    } finally {
      browser.windowSize(1280, 800);
    }
  }

  @Test
  void aConsoleErrorIsReported() {
    browser.open(base + "/broken");

    browser.await("the page's console error", d -> !browser.consoleErrors().isEmpty());
    AssertionError failure = assertThrows(AssertionError.class, browser::assertNoConsoleErrors);
    assertTrue(failure.getMessage().contains(DELIBERATE), failure.getMessage());
  }

  private static Route routes() {
    // The outgoing side stays open after its one message: the socket lives until the page goes away.
    Flow<Message, Message, ?> greet = Flow.fromSinkAndSourceCoupled(
        Sink.ignore(), Source.<Message>single(TextMessage.create(GREETING)).concat(Source.maybe()));
    return Directives.concat(
        Directives.path("live", () -> Directives.complete(HttpEntities.create(ContentTypes.TEXT_HTML_UTF8, LIVE_PAGE))),
        Directives.path("broken", () -> Directives.complete(HttpEntities.create(ContentTypes.TEXT_HTML_UTF8, BROKEN_PAGE))),
        Directives.path("ws", () -> Directives.handleWebSocketMessages(greet)));
  }
}
