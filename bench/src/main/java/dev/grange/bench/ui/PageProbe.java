package dev.grange.bench.ui;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.openqa.selenium.chrome.ChromeDriver;

/**
 * What the benchmark reads off the pool page in Chromium: the lags the page records (ms from a
 * machine's change of state in its pool to its row's DOM patch, {@code window.grangeUi.lags}),
 * the main thread's long tasks and timer delays (an observer and a 100 ms interval it installs:
 * how responsive the page is), and the renderer's heap and DOM size from the DevTools protocol,
 * after a forced garbage collection so the figure is what the page keeps, not what it has not
 * yet collected.
 */
final class PageProbe {
  private static final String INSTALL = """
      window.__bench = { longTasks: 0, longMs: 0, maxLongMs: 0, maxDelayMs: 0, delays: 0 };
      new PerformanceObserver(list => {
        for (const e of list.getEntries()) {
          window.__bench.longTasks++;
          window.__bench.longMs += e.duration;
          window.__bench.maxLongMs = Math.max(window.__bench.maxLongMs, e.duration);
        }
      }).observe({ type: 'longtask', buffered: false });
      // Long animation frames: how much of them was script, and how much style and layout.
      window.__bench.frames = 0; window.__bench.frameMs = 0; window.__bench.layoutMs = 0; window.__bench.scripts = {};
      new PerformanceObserver(list => {
        for (const e of list.getEntries()) {
          window.__bench.frames++;
          window.__bench.frameMs += e.duration;
          if (e.styleAndLayoutStart) window.__bench.layoutMs += e.startTime + e.duration - e.styleAndLayoutStart;
          for (const s of e.scripts || []) {
            const k = (s.sourceFunctionName || s.invoker || '?') + ' ' + String(s.sourceURL || '').split('/').pop();
            window.__bench.scripts[k] = (window.__bench.scripts[k] || 0) + s.duration;
          }
        }
      }).observe({ type: 'long-animation-frame', buffered: false });
      let last = performance.now();
      setInterval(() => {
        const now = performance.now();
        const delay = now - last - 100;
        last = now;
        if (delay > 50) window.__bench.delays++;
        window.__bench.maxDelayMs = Math.max(window.__bench.maxDelayMs, delay);
      }, 100);
      """;

  /**
   * Long tasks, timer delays over 50 ms, and the worst of each; long animation frames (over
   * 50 ms), their total, the part of it spent in style and layout, and the scripts that took the
   * most of it.
   */
  record Responsiveness(long longTasks, double longMs, double maxLongMs, long delays, double maxDelayMs,
      long longFrames, double longFrameMs, double layoutMs, String topScripts) {}

  /** The renderer after a forced GC: JS heap used, elements in the document, event listeners. */
  record Memory(long jsHeapUsedBytes, long elements, long listeners) {}

  private final ChromeDriver driver;

  PageProbe(ChromeDriver driver) {
    this.driver = driver;
    driver.executeCdpCommand("Performance.enable", Map.of());
  }

  void install() {
    driver.executeScript(INSTALL);
  }

  long rows() {
    return ((Number) driver.executeScript("return document.querySelectorAll('#machines tbody tr').length;")).longValue();
  }

  /** The lags recorded since the last call. */
  List<Long> drainLags() {
    Object o = driver.executeScript("return window.grangeUi.lags.splice(0);");
    List<Long> out = new ArrayList<>();
    for (Object x : (List<?>) o) {
      out.add(((Number) x).longValue());
    }
    return out;
  }

  Responsiveness responsiveness() {
    @SuppressWarnings("unchecked")
    Map<String, Object> b = (Map<String, Object>) driver.executeScript("return window.__bench;");
    @SuppressWarnings("unchecked")
    Map<String, Object> scripts = (Map<String, Object>) b.getOrDefault("scripts", Map.of());
    String top = scripts.entrySet().stream()
        .sorted((x, y) -> Double.compare(num(y.getValue()).doubleValue(), num(x.getValue()).doubleValue()))
        .limit(4)
        .map(e -> e.getKey().strip() + " " + Math.round(num(e.getValue()).doubleValue()) + " ms")
        .reduce((x, y) -> x + "; " + y).orElse("none");
    return new Responsiveness(num(b, "longTasks").longValue(), num(b, "longMs").doubleValue(),
        num(b, "maxLongMs").doubleValue(), num(b, "delays").longValue(), num(b, "maxDelayMs").doubleValue(),
        num(b, "frames").longValue(), num(b, "frameMs").doubleValue(), num(b, "layoutMs").doubleValue(), top);
  }

  Memory memory() {
    driver.executeCdpCommand("HeapProfiler.collectGarbage", Map.of());
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> metrics = (List<Map<String, Object>>) driver.executeCdpCommand("Performance.getMetrics", Map.of()).get("metrics");
    Map<String, Number> m = new HashMap<>();
    for (Map<String, Object> x : metrics) {
      m.put(String.valueOf(x.get("name")), (Number) x.get("value"));
    }
    long elements = ((Number) driver.executeScript("return document.getElementsByTagName('*').length;")).longValue();
    return new Memory(m.getOrDefault("JSHeapUsedSize", 0).longValue(), elements, m.getOrDefault("JSEventListeners", 0).longValue());
  }

  /** Each row's hostname and shown state. */
  Map<String, String> shownStates() {
    @SuppressWarnings("unchecked")
    Map<String, String> m = (Map<String, String>) driver.executeScript(
        "const o = {}; for (const r of document.querySelectorAll('#machines tbody tr')) o[r.dataset.hostname] = r.dataset.state; return o;");
    return m;
  }

  /** Rows that do not have a cell under every column heading (a patch that broke its row). */
  long malformedRows() {
    return ((Number) driver.executeScript(
        "const n = document.querySelector('#machines thead tr').cells.length;"
            + " return [...document.querySelectorAll('#machines tbody tr')].filter(r => r.cells.length !== n).length;")).longValue();
  }

  private static Number num(Map<String, Object> m, String k) {
    return num(m.get(k));
  }

  private static Number num(Object v) {
    return v instanceof Number n ? n : 0;
  }
}
