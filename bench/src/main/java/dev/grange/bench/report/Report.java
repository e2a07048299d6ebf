package dev.grange.bench.report;

import dev.grange.bench.channel.ChannelBench;
import dev.grange.bench.dispatch.DispatchBench;
import dev.grange.bench.farm.CpuMeter;
import dev.grange.bench.memory.MemoryBench;
import java.util.Locale;

/**
 * The results of one run as Markdown: printed at the end of {@code bench/run} and written to
 * {@code bench/target/results.md}. Says what was measured, how, on what machine, and how each
 * figure compares with its target.
 */
public final class Report {
  /** Where and how the run happened. */
  public record Context(String date, String mode, String machine, double loadBefore, double loadAfter, String others) {}

  private final StringBuilder md = new StringBuilder();

  private Report() {}

  public static String render(Context c, DispatchBench.Result d, ChannelBench.Result ch, MemoryBench.Snapshot idle,
      MemoryBench.Snapshot after) {
    Report r = new Report();
    r.line("## Grange benchmarks, %s (%s)", c.date(), c.mode());
    r.line("");
    r.line("Machine: %s; 1-minute load average %.2f before the run, %.2f after; %s.", c.machine(), c.loadBefore(),
        c.loadAfter(), c.others());
    r.line("Farm: one node (its own JVM, `-Xms256m -Xmx1g`, as `bin/grange node` starts it), a Cassandra 5.0.9 started by"
        + " the bench with cluster-node's EmbeddedCassandra (512m heap), a local pool of %d agents (min = max), all on"
        + " loopback.", idle.agentRss().size());
    r.dispatch(d);
    r.channel(ch);
    r.memory(idle, after);
    return r.md.toString();
  }

  private void dispatch(DispatchBench.Result d) {
    DispatchBench.Settings s = d.settings();
    line("");
    line("### 1. Dispatch latency: %d trivial builds (after %d not counted), closed loop, at most %d in flight", s.builds(),
        s.warmup(), s.concurrency());
    line("");
    line("| figure | p50 | p99 | target |");
    line("|---|---|---|---|");
    line("| dispatch: 202 -> the step's first output byte on the agent | %s | %s | p50 <= 2 ms %s, p99 <= 20 ms %s |",
        ms(d.dispatch().p50()), ms(d.dispatch().p99()), met(d.dispatch().p50() <= 2), met(d.dispatch().p99() <= 20));
    line("| end-to-end: 202 -> build finished | %s | %s | |", ms(d.endToEnd().p50()), ms(d.endToEnd().p99()));
    line("| builds completed per second, at most %d in flight | %.1f/s | | >= 500/s %s |", s.concurrency(),
        d.buildsPerSecond(), met(d.buildsPerSecond() >= 500));
    line("| builds completed per second, saturated (%d builds, at most %d in flight) | %.1f/s | | >= 500/s %s |",
        s.saturationBuilds(), s.saturationConcurrency(), d.saturatedBuildsPerSecond(), met(d.saturatedBuildsPerSecond() >= 500));
    line("");
    line("Where a trivial build's time goes (from the node's own timestamps, ms resolution):");
    line("");
    line("| stage | p50 | p99 |");
    line("|---|---|---|");
    stage("accept: node took the request -> 202 at the client (BuildQueued persisted)", d.accept());
    stage("schedule: node took the request -> attempt started (queue, lease: 3 persists)", d.schedule());
    stage("ship source: attempt started -> step started (AttemptStarted persisted, put_tar round trip)", d.shipSource());
    stage("exec: step started -> first output byte (exec frame, agent spawns the process)", d.exec());
    stage("finish: first output byte -> finished (output stored, exit, StepFinished persisted)", d.finish());
    line("");
    line("Builds not ok: %d. The driver read the pool's counters %.0f times a second to pace the loop (no per-build"
        + " status polling); each build's timestamps were read after its loop.", d.failures(), d.poolReadsPerSecond());
    line("");
    line("CPU per trivial build (ms of CPU; the driver's includes its polling):");
    line("");
    line("| loop | node | Cassandra | agents | driver | total | cores busy |");
    line("|---|---|---|---|---|---|---|");
    cpu("latency, " + s.builds() + " builds", d.latencyCpu(), s.builds());
    cpu("saturated, " + s.saturationBuilds() + " builds", d.saturationCpu(), s.saturationBuilds());
  }

  private void channel(ChannelBench.Result c) {
    long mib = c.bytes() >> 20;
    line("");
    line("### 2. Channel throughput: %d MiB, 256 KiB frames, MB = 10^6 bytes", mib);
    line("");
    line("| path | MB/s | of raw TCP |");
    line("|---|---|---|");
    row("raw loopback TCP: Java socket pair, 13 + 256 KiB writes, 256 KiB reads", c.rawTcp(), c.rawTcp());
    row("WebSocket transport alone: JDK client -> Pekko HTTP server, no Grange code", c.webSocket(), c.rawTcp());
    row("LogStore alone: the node's LogStore.append, 4 chunks in flight, same Cassandra", c.logStore(), c.rawTcp());
    row("agent intake: command -> pipe -> agent spool (the step's own duration)", c.realPath().agentIntakeMbPerSecond(),
        c.rawTcp());
    row("**real path**: command -> agent -> WebSocket -> BuildletSession -> LogStore", c.realPath().mbPerSecond(), c.rawTcp());
    line("");
    double share = c.realPath().mbPerSecond() / c.rawTcp() * 100;
    line("Target: real path >= 50%% of raw loopback: %.1f%%, %s.", share, met(share >= 50));
    CpuMeter.Use r = c.realPath().cpu();
    CpuMeter.Use l = c.logStoreCpu();
    line("CPU seconds during the real path (%.1f s): node %.1f, Cassandra %.1f, agents with their commands %.1f, driver %.1f"
        + " (%.0f%% of the cores). During LogStore alone (%.1f s): driver %.1f, Cassandra %.1f (%.0f%%).", r.wallSeconds(),
        r.node(), r.cassandra(), r.agents(), r.driver(), r.coresBusyPercent(), l.wallSeconds(), l.driver(), l.cassandra(),
        l.coresBusyPercent());
  }

  private void cpu(String loop, CpuMeter.Use u, int builds) {
    double k = 1000.0 / builds;
    line("| %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.0f%% |", loop, u.node() * k, u.cassandra() * k, u.agents() * k,
        u.driver() * k, u.total() * k, u.coresBusyPercent());
  }

  private void memory(MemoryBench.Snapshot idle, MemoryBench.Snapshot after) {
    line("");
    line("### 3. Resident memory, all %d agents idle (VmRSS of /proc/<pid>/status, MiB)", idle.agentRss().size());
    line("");
    line("| process | %s | %s | peak so far (VmHWM) |", idle.when(), after.when());
    line("|---|---|---|---|");
    line("| node JVM | %s | %s | %s |", mib(idle.nodeRss()), mib(after.nodeRss()), mib(after.nodeHwm()));
    line("| Cassandra 5.0.9 (512m heap, the embedded default's flags) | %s | %s | %s |", mib(idle.cassandraRss()), mib(after.cassandraRss()),
        mib(after.cassandraHwm()));
    line("| one agent (the first) | %s | %s | %s |", mib(idle.agentRss().get(0)), mib(after.agentRss().get(0)),
        mib(after.agentHwm().get(0)));
    line("| agents, min - max | %s - %s | %s - %s | |", mib(idle.agentMin()), mib(idle.agentMax()), mib(after.agentMin()),
        mib(after.agentMax()));
    line("| all %d agents | %s | %s | |", idle.agentRss().size(), mib(idle.agentSum()), mib(after.agentSum()));
  }

  private void stage(String name, Percentiles p) {
    line("| %s | %s | %s |", name, ms(p.p50()), ms(p.p99()));
  }

  private void row(String name, double mbs, double raw) {
    line("| %s | %.0f | %.1f%% |", name, mbs, mbs / raw * 100);
  }

  private static String ms(double v) {
    return String.format(Locale.ROOT, "%.1f ms", v);
  }

  private static String mib(long bytes) {
    return String.format(Locale.ROOT, "%.0f", bytes / 1048576.0);
  }

  private static String met(boolean ok) {
    return ok ? "met" : "missed";
  }

  private void line(String format, Object... args) {
    md.append(String.format(Locale.ROOT, format, args)).append('\n');
  }
}
