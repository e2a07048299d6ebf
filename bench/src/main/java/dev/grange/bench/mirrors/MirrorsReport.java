package dev.grange.bench.mirrors;

import dev.grange.bench.report.Percentiles;
import dev.grange.bench.report.Report;
import java.util.Locale;

/**
 * The results of one {@code bench/mirrors} run as Markdown (printed, and written to {@code
 * bench/target/mirrors-results.md}): commit -> post-submit build queued by webhook and by polling,
 * and archive serving beside {@code git archive | gzip}, with the machine and its load.
 */
final class MirrorsReport {
  private final StringBuilder md = new StringBuilder();

  private MirrorsReport() {}

  static String render(Report.Context c, int agents, Landings.Result hook, Landings.Result poll, long pollSeconds,
      ArchiveServing.Result a, int warmRuns, int gitRuns) {
    MirrorsReport r = new MirrorsReport();
    r.line("## Repository mirrors, %s (`%s`)", c.date(), c.mode());
    r.line("");
    r.line("Machine: %s; 1-minute load average %.2f at the start, %.2f at the end; %s.", c.machine(), c.loadBefore(),
        c.loadAfter(), c.others());
    r.line("Farm: one node (its own JVM, `-Xms256m -Xmx1g`), a Cassandra 5.0.9 (512m heap), a local pool of %d agents;"
        + " the upstreams are git repositories in the run directory, mirrored by `file://` URL.", agents);
    r.line("");
    r.line("### Upstream commit -> post-submit build queued");
    r.line("");
    r.line("| path | commits | p50 | p90 | mean | max | of it, commit -> mirror hands the commit over (node clock), p50 |");
    r.line("|---|---|---|---|---|---|---|");
    r.landing("webhook (`hooked`, polled hourly): signed push sent as `git commit` returns", hook);
    r.landing("polling every " + pollSeconds + " s (`polled`, no webhook), commits evenly spread over the cycle", poll);
    r.line("");
    double p50 = hook.queued().p50();
    r.line("Against the target: webhook p50 <= 1 s: %s ms, %s. Polling: about half the interval (%.1f s) plus the webhook"
        + " path expected on average; measured mean %s ms. Each figure includes up to %d ms of the driver asking for the build.",
        num(p50), p50 <= 1000 ? "met" : "missed", pollSeconds / 2.0, num(poll.queued().mean()), Landings.LOOK_EVERY.toMillis());
    r.line("");
    r.line("### Archive serving: `big`, %,d files, %.1f MB of tree, %.1f MB gzip'd (MB = 10^6 bytes)", a.files(),
        a.treeBytes() / 1e6, a.servedBytes() / 1e6);
    r.line("");
    r.line("| what | seconds | MB/s of tree | MB/s of gzip'd bytes |");
    r.line("|---|---|---|---|");
    r.archive(String.format(Locale.ROOT, "node `/src`, cold: makes the archive from its mirror (%.2f s to the first byte),"
        + " caches it, streams it", a.cold().headersSeconds()), a.cold(), a.treeBytes());
    r.archive("node `/src`, warm: streamed from its cache, median of " + warmRuns, a.warmMedian(), a.treeBytes());
    r.archive("`git archive --format=tar <sha> \\| gzip` in the upstream, median of " + gitRuns, a.gitArchiveMedian(),
        a.treeBytes());
    r.line("");
    r.line("Checked: the archive served holds the tree's %,d files and %,d bytes (gunzip and tar of the whole body); every"
        + " request served the same %,d bytes; `git archive | gzip` wrote %,d.", a.tarFiles(), a.tarFileBytes(),
        a.servedBytes(), a.gitArchiveBytes());
    return r.md.toString();
  }

  private void landing(String name, Landings.Result r) {
    Percentiles q = r.queued();
    line("| %s | %d | %s ms | %s ms | %s ms | %s ms | %s ms |", name, q.count(), num(q.p50()), num(q.at(90)), num(q.mean()),
        num(q.max()), num(r.landed().p50()));
  }

  private void archive(String name, ArchiveServing.Timed t, long treeBytes) {
    line("| %s | %.2f | %.0f | %.0f |", name, t.seconds(), treeBytes / 1e6 / t.seconds(), t.bytes() / 1e6 / t.seconds());
  }

  private static String num(double ms) {
    return String.format(Locale.ROOT, "%,.0f", ms);
  }

  private void line(String format, Object... args) {
    md.append(String.format(Locale.ROOT, format, args)).append('\n');
  }
}
