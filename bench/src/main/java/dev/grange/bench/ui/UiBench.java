package dev.grange.bench.ui;

import dev.grange.bench.report.Percentiles;
import dev.grange.node.store.EmbeddedCassandra;
import dev.grange.node.store.FreePorts;
import dev.grange.node.testing.Browser;
import dev.grange.node.testing.TestNode;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.openqa.selenium.chrome.ChromeDriver;

/**
 * The pool page at scale ({@code bench/ui}): a node in this JVM on a Cassandra of its own, N
 * machines in K reverse pools announced to their pools ({@link PoolSwarm}), the pool page open in
 * a headless Chromium, then R changes of state a second (a machine leased or freed, at random)
 * for the run's length. Measures, from the page itself ({@link PageProbe}): the lag from each
 * change in its pool to its row's DOM patch, the page's long tasks and timer delays, and its JS
 * heap and DOM size after a forced GC at the start and at the end. Then checks the page is right:
 * once the changes stop, every row shows the state last announced.
 */
final class UiBench {
  record Options(int machines, int hostTypes, int rate, Duration length, Path runDir, Path cassandraClasspathFile) {}

  /** What a run measured. */
  record Result(Options options, long changesSent, Percentiles lags, PageProbe.Memory start, PageProbe.Memory end,
      PageProbe.Responsiveness responsiveness, int wrongRows, double loadSeconds) {

    String table() {
      StringBuilder b = new StringBuilder();
      b.append(String.format(Locale.ROOT, "| %s | %s |%n|---|---|%n", "pool page, " + options.machines() + " machines in "
          + options.hostTypes() + " pools, " + options.rate() + " changes/s for " + fmt(options.length()), "measured"));
      row(b, "changes sent / row patches measured", changesSent + " / " + lags.count());
      row(b, "event in the pool -> DOM patch, p50 / p90 / p99 / max",
          String.format(Locale.ROOT, "%.0f / %.0f / %.0f / %.0f ms", lags.p50(), lags.at(90), lags.p99(), lags.max()));
      row(b, "JS heap after GC, start -> end", mib(start.jsHeapUsedBytes()) + " -> " + mib(end.jsHeapUsedBytes()));
      row(b, "elements in the page, start -> end", start.elements() + " -> " + end.elements());
      row(b, "event listeners, start -> end", start.listeners() + " -> " + end.listeners());
      row(b, "long tasks (> 50 ms): count, total, worst",
          String.format(Locale.ROOT, "%d, %.1f s, %.0f ms", responsiveness.longTasks(), responsiveness.longMs() / 1000, responsiveness.maxLongMs()));
      row(b, "100 ms timer late by > 50 ms: times, worst delay",
          String.format(Locale.ROOT, "%d, %.0f ms", responsiveness.delays(), responsiveness.maxDelayMs()));
      row(b, "long animation frames: count, total, of it style and layout",
          String.format(Locale.ROOT, "%d, %.1f s, %.1f s", responsiveness.longFrames(), responsiveness.longFrameMs() / 1000, responsiveness.layoutMs() / 1000));
      row(b, "scripts in long frames, most time first", responsiveness.topScripts());
      row(b, "first load of all rows", String.format(Locale.ROOT, "%.1f s", loadSeconds));
      row(b, "rows wrong (state, or a cell missing) once the changes stopped", String.valueOf(wrongRows));
      return b.toString();
    }

    private static void row(StringBuilder b, String k, String v) {
      b.append("| ").append(k).append(" | ").append(v).append(" |\n");
    }

    private static String mib(long bytes) {
      return String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }

    private static String fmt(Duration d) {
      return d.toSeconds() % 60 == 0 ? d.toMinutes() + " min" : d.toSeconds() + " s";
    }
  }

  private static final Duration SETTLE = Duration.ofSeconds(15);

  private UiBench() {}

  static Result run(Options o, PrintStream out) throws Exception {
    Files.createDirectories(o.runDir());
    int per = o.machines() / o.hostTypes();
    List<String> hostTypes = new ArrayList<>();
    StringBuilder farm = new StringBuilder("grange.hosts {\n");
    StringBuilder builders = new StringBuilder("grange.builders {\n");
    for (int i = 0; i < o.hostTypes(); i++) {
      String h = String.format(Locale.ROOT, "linux-amd64-ui%02d", i);
      hostTypes.add(h);
      farm.append("  ").append(h).append(" { pool = reverse, expected = ").append(per).append(" }\n");
      builders.append("  ").append(h).append("-build { host-type = ").append(h)
          .append(", steps = [ { name = t, cmd = \"true\", sys = true, timeout = 1m } ] }\n");
    }
    String config = farm.append("}\n").append(builders).append("}\n").toString();

    int[] ports = FreePorts.loopback(2);
    out.printf("bench/ui: Cassandra (data in %s), a node in this JVM, %d machines in %d pools%n",
        o.runDir().resolve("cassandra"), per * o.hostTypes(), o.hostTypes());
    EmbeddedCassandra.Settings cs = EmbeddedCassandra.Settings.defaults(o.runDir().resolve("cassandra"))
        .withPorts(ports[0], ports[1]).withHeap("512m").withClasspathFile(o.cassandraClasspathFile());
    try (EmbeddedCassandra cassandra = EmbeddedCassandra.start(cs);
        TestNode node = new TestNode("uibench", config, cassandra.contactPoint()).start();
        Browser browser = Browser.start("uibench")) {
      ClusterSharding sharding = ClusterSharding.get(node.node().system());
      PoolSwarm swarm = new PoolSwarm(sharding, hostTypes, per, "127.0.0.1:" + node.port());
      node.await("/api/v1/pools", p -> p.size() == hostTypes.size(), Duration.ofSeconds(120));
      swarm.announceAll();
      node.await("/api/v1/pools", p -> {
        int n = 0;
        for (var x : p) {
          n += x.get("connected").asInt();
        }
        return n == swarm.size();
      }, Duration.ofSeconds(120));

      long t0 = System.nanoTime();
      browser.open(node.base() + "/");
      ChromeDriver driver = (ChromeDriver) browser.driver();
      PageProbe page = new PageProbe(driver);
      browser.await("all " + swarm.size() + " rows on the pool page", d -> page.rows() == swarm.size());
      double loadSeconds = (System.nanoTime() - t0) / 1e9;
      // Watch the machines, not the cards above them: the middle pool's table is on screen, so
      // its patches are laid out and painted (a group off screen is skipped by the browser).
      String watched = hostTypes.get(hostTypes.size() / 2);
      driver.executeScript("document.getElementById(arguments[0]).scrollIntoView();", "mg-" + watched);
      PageProbe.Memory start = page.memory();
      page.install(); // after the forced GC, which is no long task of the page's
      page.drainLags();
      out.printf("bench/ui: %d rows after %.1f s; JS heap %.1f MiB, %d elements; %d changes/s for %d s%n",
          swarm.size(), loadSeconds, start.jsHeapUsedBytes() / 1048576.0, start.elements(), o.rate(), o.length().toSeconds());

      List<Long> lags = new ArrayList<>();
      long sent = load(o, swarm, page, lags, out);

      // Quiet: every change has reached the page when every row shows what was last announced.
      Map<String, String> want = swarm.expected();
      long quietUntil = System.nanoTime() + SETTLE.toNanos();
      int wrong;
      do {
        lags.addAll(page.drainLags());
        wrong = wrongRows(want, page.shownStates()) + (int) page.malformedRows();
      } while (wrong > 0 && System.nanoTime() < quietUntil);
      lags.addAll(page.drainLags());
      PageProbe.Responsiveness r = page.responsiveness();
      PageProbe.Memory end = page.memory();
      browser.screenshot("uibench-pools-" + watched);
      if (lags.isEmpty()) {
        throw new IllegalStateException("the page recorded no patched row: its lags (window.grangeUi.lags) stayed empty");
      }
      return new Result(o, sent, Percentiles.of(lags), start, end, r, wrong, loadSeconds);
    }
  }

  /** Sends the changes at the rate asked for, draining the page's lags every second. */
  private static long load(Options o, PoolSwarm swarm, PageProbe page, List<Long> lags, PrintStream out) throws Exception {
    ScheduledExecutorService tick = Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "ui-bench-load"));
    java.util.concurrent.atomic.AtomicLong sent = new java.util.concurrent.atomic.AtomicLong();
    long period = 1_000_000_000L / o.rate();
    tick.scheduleAtFixedRate(() -> {
      swarm.flipOne();
      sent.incrementAndGet();
    }, period, period, TimeUnit.NANOSECONDS);
    long end = System.nanoTime() + o.length().toNanos();
    long nextReport = System.nanoTime() + Duration.ofMinutes(1).toNanos();
    try {
      while (System.nanoTime() < end) {
        long wakeAt = Math.min(end, System.nanoTime() + 1_000_000_000L);
        // The sampling cadence of a benchmark, not a synchronisation: it reads whatever arrived.
        TimeUnit.NANOSECONDS.sleep(Math.max(0, wakeAt - System.nanoTime()));
        lags.addAll(page.drainLags());
        if (System.nanoTime() >= nextReport && !lags.isEmpty()) {
          Percentiles p = Percentiles.of(lags);
          out.printf("bench/ui: %d changes sent, %d rows patched; lag p50 %.0f ms, p99 %.0f ms%n",
              sent.get(), p.count(), p.p50(), p.p99());
          nextReport += Duration.ofMinutes(1).toNanos();
        }
      }
    } finally {
      tick.shutdownNow();
      tick.awaitTermination(5, TimeUnit.SECONDS);
    }
    return sent.get();
  }

  private static int wrongRows(Map<String, String> want, Map<String, String> shown) {
    int wrong = 0;
    for (var e : want.entrySet()) {
      if (!e.getValue().equals(shown.get(e.getKey()))) {
        wrong++;
      }
    }
    return wrong + Math.max(0, shown.size() - want.size());
  }
}
