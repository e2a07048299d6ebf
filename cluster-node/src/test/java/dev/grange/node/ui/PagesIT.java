package dev.grange.node.ui;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.grange.node.chaos.CuttableProxy;
import dev.grange.node.testing.Browser;
import dev.grange.node.testing.TestNode;
import dev.grange.node.testing.TestRepos;
import dev.grange.protocol.wire.Handshake;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.TestInstance;
import org.openqa.selenium.By;

/**
 * The pages in a real Chromium against a real node on real Cassandra, with real agent processes
 * of a reverse host type that the test starts and kills. Each page loads without a console error
 * and fits a 360 px screen; the pool page shows an agent that connects and drops the one that is
 * killed, without a reload (the first within 1 s of its pool having it); a build's page and the
 * grid go queued, running, ok by themselves and the page shows each log line as the command
 * writes it (the command waits for a gate file the test creates); a failed build's failure is
 * marked; the builders page charts durations; a cut connection (a proxy between browser and node)
 * is reconnected by the page and its log loses and repeats nothing. Screenshots of every page
 * land in {@code cluster-node/target/screenshots/}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PagesIT {
  static final String FARM = """
      grange.hosts {
        ui-rev { pool = reverse, expected = 2, notes = "two boxes under the desk" }
      }
      grange.repos {
        ui-repo { url = "%2$s", branches = [main], poll = 1h }
      }
      grange.builders {
        ui-gated {
          host-type = ui-rev
          notes = "prints a line, waits for its gate file, prints another"
          steps = [
            { name = gated, cmd = "/bin/sh", args = ["-c", "echo first line; while [ ! -f %1$s ]; do sleep 0.05; done; rm -f %1$s; echo second line"], sys = true, timeout = 2m }
          ]
        }
        ui-fails {
          host-type = ui-rev
          steps = [
            { name = breaks, cmd = "/bin/sh", args = ["-c", "echo 'ok  \\tstrings\\t0.1s'; echo '=== RUN   TestFrob'; echo '    frob_test.go:9: frob is 2, want 3'; echo '--- FAIL: TestFrob (0.00s)'; echo FAIL; echo 'FAIL\\texample.com/frob\\t0.01s'; echo 'ok  \\texample.com/other\\t0.1s'; exit 1"], sys = true, timeout = 1m }
          ]
        }
      }
      """;

  private TestNode node;
  private Browser browser;
  private Path repo;
  private Path gates;
  /** Each build's command prints its first line, waits for this file, removes it and prints its second. */
  private Path gate;
  private final List<Process> agents = new ArrayList<>();

  @BeforeAll
  void start() throws Exception {
    gates = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "ui-gates");
    repo = TestRepos.create("ui-repo", Map.of("README", "a repository for the page tests\n"));
    gate = gates.resolve("gate");
    node = new TestNode("pages", FARM.formatted(gate, repo.toUri())).start();
    browser = Browser.start("pages");
  }

  @AfterAll
  void stop() throws Exception {
    for (Process p : agents) {
      p.destroyForcibly();
      p.waitFor(30, TimeUnit.SECONDS);
    }
    if (browser != null) {
      browser.close();
    }
    if (node != null) {
      node.close();
    }
  }

  @Test
  @Order(1)
  void anAgentShowsUpOnThePoolPageWithoutAReloadAndGoesWhenKilled() throws Exception {
    browser.open(node.base() + "/");
    browser.awaitVisible(By.cssSelector("#pools article"));
    browser.script("window.notReloaded = true;");

    Process agent = agent("desk-box-1");
    String hostType = browser.await("desk-box-1 on the pool page",
        d -> d.findElements(By.cssSelector("#machines tr[data-hostname='desk-box-1']")).stream()
            .map(r -> r.findElement(By.xpath("ancestor::section[1]")).getAttribute("data-host-type")).findFirst().orElse(null));
    assertEquals("ui-rev", hostType, "its host type's table");
    // From the moment its pool had it (the machine's stateSinceMs) to its row in the page: one clock, this machine's.
    long shownAfter = ((Number) browser.script(
        "const f = window.grangeUi.firstSeen.get('desk-box-1'); return f.atMs - f.sinceMs;")).longValue();
    assertTrue(shownAfter < 1000, "desk-box-1 was on the page " + shownAfter + " ms after its pool had it (goal: within 1 s)");
    browser.await("the pool card to count it", d -> d.findElement(By.cssSelector("#pools article")).getText().contains(" of 2 expected"));
    browser.screenshot("pools");
    browser.await("the announcement", d -> d.findElement(By.id("announcer")).getAttribute("textContent").contains("desk-box-1 connected"));

    agent.destroyForcibly();
    browser.await("desk-box-1 gone from the pool page",
        d -> d.findElements(By.cssSelector("#machines tr[data-hostname='desk-box-1']")).isEmpty());
    browser.await("the card to name it missing", d -> d.findElement(By.cssSelector("#pools article")).getText().contains("desk-box-1"));
    assertEquals(Boolean.TRUE, browser.script("return window.notReloaded === true;"), "the page was reloaded");
    browser.assertNoConsoleErrors();
  }

  @Test
  @Order(2)
  void aBuildGoesQueuedRunningOkOnItsPageAndItsLogFollowsTheCommand() throws Exception {
    agent("desk-box-2");
    node.await("/api/v1/pools", p -> p.get(0).get("idle").asInt() >= 1, Duration.ofSeconds(60));
    String a = submit("ui-gated");
    node.await("/api/v1/builds/" + a, j -> j.get("state").asText().equals("running"), Duration.ofSeconds(60));
    String b = submit("ui-gated"); // the one machine is busy with a: b waits

    browser.open(node.base() + "/builds/" + b);
    browser.script("window.notReloaded = true;");
    browser.await("b queued", d -> state().equals("queued"));
    browser.screenshot("build-queued");

    browser.open(node.base() + "/queues");
    String waiter = browser.awaitText("b in the queue", By.cssSelector("tr[data-build='" + b + "']"), t -> true);
    assertTrue(waiter.contains("no machine free"), waiter);
    browser.screenshot("queues");
    browser.assertNoConsoleErrors();

    // The grid, in a tab of its own, follows b live: queued now, running, then ok.
    String buildTab = browser.driver().getWindowHandle();
    browser.driver().switchTo().newWindow(org.openqa.selenium.WindowType.TAB);
    String gridTab = browser.driver().getWindowHandle();
    browser.open(node.base() + "/dashboard");
    browser.script("window.notReloaded = true;");
    awaitGridCell(b, "queued");
    browser.driver().switchTo().window(buildTab);

    browser.open(node.base() + "/builds/" + b);
    browser.script("window.notReloaded = true;");
    Files.writeString(gate, "a\n"); // a goes on and takes the gate away: b, next, waits for it again
    browser.await("b running", d -> state().equals("running"));
    browser.await("b's first line", d -> d.findElement(By.id("log")).getText().contains("first line"));
    HttpResponse<String> early = node.get("/api/v1/builds/" + b + "/failure");
    assertEquals(409, early.statusCode(), early.body()); // what failed is known when it is over
    assertTrue(!browser.await("the log's text", d -> d.findElement(By.id("log")).getText()).contains("second line"),
        "the second line is not written yet");
    browser.driver().switchTo().window(gridTab);
    awaitGridCell(b, "running");
    browser.driver().switchTo().window(buildTab);
    browser.screenshot("build-running");
    Files.writeString(gate, "b\n");
    browser.await("b's second line", d -> d.findElement(By.id("log")).getText().contains("second line"));
    browser.await("b ok", d -> state().equals("ok"));
    browser.driver().switchTo().window(gridTab);
    awaitGridCell(b, "ok");
    assertEquals(Boolean.TRUE, browser.script("return window.notReloaded === true;"), "the grid was reloaded");
    browser.driver().close();
    browser.driver().switchTo().window(buildTab);
    assertEquals(0, node.json("/api/v1/builds/" + b + "/failure").get("failures").size());
    assertEquals("first line\nsecond line\n", browser.script("return window.grangeUi.log();"));
    assertEquals(Boolean.TRUE, browser.script("return window.notReloaded === true;"), "the page was reloaded");
    String attempt = String.valueOf(browser.script("return document.querySelector('#attempts tbody tr').textContent;"));
    assertTrue(attempt.contains("desk-box-2"), attempt);
    assertTrue(attempt.contains("pushed by the node"), "how its source came (a repository on the node's disk): " + attempt);
    browser.screenshot("build-ok");
    browser.assertNoConsoleErrors();

    // The builders page charts the durations of the builds that ended (a and b).
    JsonNode durations = node.await("/api/v1/builders/ui-gated/durations", j -> j.get("builds").size() == 2, Duration.ofSeconds(30));
    assertTrue(durations.get("builds").get(0).get("durationMs").asLong() > 0, durations.toString());
    assertEquals("ok", durations.get("builds").get(0).get("state").asText());
    browser.open(node.base() + "/builders");
    browser.await("the durations chart of ui-gated", d -> Long.valueOf(2).equals(browser.script("return window.grangeUi.durations['ui-gated'];")));
    String label = browser.await("the ui-gated row's text", d -> d.findElement(By.cssSelector("tr[data-builder='ui-gated']")).getText());
    assertTrue(label.contains("last ") && label.contains("(ok)"), label);
    assertEquals(404, node.get("/api/v1/builders/no-such/durations").statusCode());
    assertEquals(400, node.get("/api/v1/builders/ui-gated/durations?limit=0").statusCode());
    browser.screenshot("builders");
    browser.assertNoConsoleErrors();
  }

  @Test
  @Order(3)
  void aFailedBuildShowsItsFailingPartAboveTheLogAndMarksItInTheLog() throws Exception {
    String id = submit("ui-fails");
    browser.open(node.base() + "/builds/" + id);
    browser.await("the build failed", d -> state().equals("failed"));
    browser.await("the failure box", d -> d.findElements(By.cssSelector("#failure .failure")).stream().findFirst().orElse(null));
    String text = String.valueOf(browser.script("return document.querySelector('#failure .failure').textContent;"));
    assertTrue(text.contains("example.com/frob TestFrob") && text.contains("frob is 2, want 3"), text);
    String steps = String.valueOf(browser.script("return document.querySelector('#failure').textContent;"));
    assertTrue(steps.contains("breaks") && steps.contains("exit status 1"), steps);
    // The test's lines are marked, not the package that passed before it or after it.
    String marked = String.valueOf(browser.script("return [...document.querySelectorAll('#log mark')].map(m => m.textContent).join('|');"));
    assertEquals("=== RUN   TestFrob\n    frob_test.go:9: frob is 2, want 3\n--- FAIL: TestFrob (0.00s)\n", marked);
    JsonNode failure = node.json("/api/v1/builds/" + id + "/failure");
    assertEquals(1, failure.get("failures").size(), failure.toString());
    JsonNode f = failure.get("failures").get(0);
    assertEquals("example.com/frob", f.get("pkg").asText());
    assertEquals("TestFrob", f.get("test").asText());
    assertEquals("[[2,4]]", f.get("lines").toString());
    browser.screenshot("build-failed");
    browser.assertNoConsoleErrors();
  }

  @Test
  @Order(4)
  void theDashboardShowsTheBuildsOfEachCommitByBuilderAndTheSameAsJson() throws Exception {
    browser.open(node.base() + "/dashboard");
    String okHref = browser.await("the ok cell", d -> d.findElements(By.cssSelector("td.cell[data-builder='ui-gated'] a")).stream()
        .map(a -> a.getAttribute("href")).findFirst().orElse(null));
    String failed = String.valueOf(browser.script("const c = document.querySelector(\"td.cell[data-builder='ui-fails']\"); return c ? c.dataset.state : '';"));
    assertEquals("failed", failed);
    assertTrue(okHref.contains("/builds/"), okHref);
    browser.screenshot("dashboard");
    browser.assertNoConsoleErrors();
    JsonNode grid = node.json("/dashboard?mode=json");
    assertEquals(grid, node.json("/api/v1/dashboard"));
    assertEquals(repo.toString(), grid.get("repo").asText());
    JsonNode cells = grid.get("commits").get(0).get("cells");
    assertEquals("ok", cells.get("ui-gated").get("state").asText(), grid.toString());
    assertEquals("failed", cells.get("ui-fails").get("state").asText(), grid.toString());
    assertEquals("Test", grid.get("commits").get(0).get("author").asText(), "the commit's author, by name only");
    String row = browser.await("the grid's first row's text", d -> d.findElement(By.cssSelector("#grid tbody tr")).getText());
    assertTrue(row.contains("Test") && !row.contains("t@example.com"), row);
  }

  @Test
  @Order(5)
  void everyPageLoadsWithoutConsoleErrorsAndFitsANarrowScreen() throws Exception {
    for (String page : List.of("/", "/queues", "/builders", "/dashboard", "/mirrors")) {
      browser.open(node.base() + page);
      browser.awaitVisible(By.cssSelector("main h1"));
      browser.await("the page's data on " + page, d -> !d.findElement(By.id("conn")).getText().contains("connecting")
          || page.equals("/mirrors"));
      browser.assertNoConsoleErrors();
      browser.screenshot("page" + page.replace('/', '-'));
    }
    browser.open(node.base() + "/mirrors");
    String mirror = browser.awaitText("the ui-repo mirror fetched",
        By.cssSelector("#mirrors tr[data-repo='ui-repo'][data-ok='yes']"), t -> !t.contains("never fetched"));
    assertTrue(mirror.contains("main"), mirror);
    assertTrue(mirror.contains("on " + node.base()), "the node that runs the mirror: " + mirror);
    browser.screenshot("mirrors");
    browser.assertNoConsoleErrors();
    try {
      browser.windowSize(360, 800);
      for (String page : List.of("/", "/queues", "/builders", "/dashboard", "/mirrors")) {
        browser.open(node.base() + page);
        browser.awaitVisible(By.cssSelector("main h1"));
        Object overflow = browser.script("return document.documentElement.scrollWidth - window.innerWidth;");
        assertTrue(((Number) overflow).intValue() <= 0, page + " is wider than 360 px by " + overflow + " px");
        browser.screenshot("narrow" + page.replace('/', '-'));
      }
    } finally {
      browser.windowSize(1280, 900);
    }
  }

  /** The state the build page shows (read in one script: the title is re-rendered as the build changes). */
  @Test
  @Order(6)
  void aCutConnectionIsReconnectedByThePageAndItsLogLosesAndRepeatsNothing() throws Exception {
    String c = submit("ui-gated"); // desk-box-2, from the build test, runs it
    try (CuttableProxy proxy = new CuttableProxy(node.port())) {
      browser.open("http://127.0.0.1:" + proxy.port() + "/builds/" + c);
      browser.script("window.notReloaded = true;");
      browser.await("c's first line", d -> d.findElement(By.id("log")).getText().contains("first line"));
      browser.await("the page live", d -> d.findElement(By.id("conn")).getText().equals("live"));

      proxy.cut(); // the live socket and the log's stream both go, and new connections are refused
      browser.await("the page to say it is reconnecting", d -> d.findElement(By.id("conn")).getText().startsWith("reconnecting"));
      Files.writeString(gate, "c\n"); // the second line is written while the page cannot hear of it
      node.await("/api/v1/builds/" + c, j -> j.get("state").asText().equals("ok"), Duration.ofSeconds(60));
      proxy.heal();

      browser.await("the page live again", d -> d.findElement(By.id("conn")).getText().equals("live"));
      browser.await("c ok on its page", d -> state().equals("ok"));
      browser.await("c's whole log", d -> "first line\nsecond line\n".equals(browser.script("return window.grangeUi.log();")));
      assertTrue(((Number) browser.script("return window.grangeUi.reconnects;")).intValue() >= 1, "the log's stream was picked up again");
      assertEquals(Boolean.TRUE, browser.script("return window.notReloaded === true;"), "the page was reloaded");
    }
    // The cut made the browser log failed connections (expected here); the next page starts clean.
    browser.open(node.base() + "/builds/" + c);
    browser.await("c's page", d -> state().equals("ok"));
    browser.assertNoConsoleErrors();
  }

  private String state() {
    return String.valueOf(browser.script("const b = document.querySelector('#title .badge'); return b ? b.textContent : '';"));
  }

  private String submit(String builder) throws Exception {
    HttpResponse<String> r = node.post("/api/v1/builds",
        "{\"builder\":\"" + builder + "\",\"repo\":\"" + repo + "\",\"rev\":\"HEAD\"}");
    assertEquals(202, r.statusCode(), r.body());
    return TestNode.JSON.readTree(r.body()).get("id").asText();
  }

  /** Waits until the grid's ui-gated cell shows {@code build} in {@code state}, without a reload. */
  private void awaitGridCell(String build, String state) {
    browser.await("the grid cell of " + build + " " + state, d -> {
      Object o = browser.script("const c = document.querySelector(\"td.cell[data-builder='ui-gated']\");"
          + " return c ? c.dataset.state + ' ' + c.dataset.build : '';");
      return String.valueOf(o).equals(state + " " + build);
    });
  }

  private Process agent(String hostname) throws Exception {
    Path key = Files.createTempFile(Path.of("target").toAbsolutePath(), "ui", ".key");
    Files.writeString(key, Handshake.hostKey(TestNode.MASTER_KEY.getBytes(StandardCharsets.UTF_8), "ui-rev"));
    Path log = Files.createTempFile(Path.of("target").toAbsolutePath(), "ui-" + hostname, ".log");
    ProcessBuilder pb = new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx128m",
            "-cp", System.getProperty("java.class.path"), "dev.grange.agent.Main",
            "--node", node.wsUrl(), "--host-type", "ui-rev", "--key-file", key.toString(), "--hostname", hostname)
        .redirectErrorStream(true).redirectOutput(log.toFile());
    Process p = pb.start();
    agents.add(p);
    return p;
  }
}
