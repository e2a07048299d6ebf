package dev.grange.bench.pools;

import dev.grange.bench.report.Percentiles;
import dev.grange.bench.report.Report;
import java.util.Locale;
import java.util.function.ToLongFunction;

/**
 * The results of one {@code bench/pools} run as Markdown (printed, and written to {@code
 * bench/target/pools-results.md}): waiter arrival -> build running on a fresh pod and on a fresh
 * VM with where the time goes, and the create calls a second of each provider under a burst of
 * waiters beside the configured API rate, with the machine and its load.
 */
final class PoolsReport {
  private final StringBuilder md = new StringBuilder();

  private PoolsReport() {}

  static String render(Report.Context c, FreshInstance.Result kube, FreshInstance.Result gce, Burst.Result kubeBurst,
      Burst.Result gceBurst, int apiRate, int leftPods, int leftVms) {
    PoolsReport r = new PoolsReport();
    r.line("## Cloud pools, %s (`%s`)", c.date(), c.mode());
    r.line("");
    r.line("Machine: %s; 1-minute load average %.2f at the start, %.2f at the end; %s.", c.machine(), c.loadBefore(),
        c.loadAfter(), c.others());
    r.line("Farm: one node (its own JVM, `-Xms256m -Xmx1g`), a Cassandra 5.0.9 (512m heap); its Kubernetes pool on fabric8's"
        + " mock API server (CRUD) with cluster-node's FakeKubelet, its GCE pool on FakeCompute with the real"
        + " google-cloud-compute client; a real agent JVM per fresh pod or VM.");
    r.line("");
    r.line("### Waiter arrival -> build running on a fresh instance (ms; node clock unless said)");
    r.line("");
    r.line("| figure | Kubernetes (`%s`) | GCE (`%s`) |", kube.hostType(), gce.hostType());
    r.line("|---|---|---|");
    r.line("| builds, each on an instance made for it | %d | %d |", kube.samples().size(), gce.samples().size());
    r.line("| instances the pool made for them (create calls the fake received) | %d | %d |", kube.instancesMade(),
        gce.instancesMade());
    r.row3("**arrival -> attempt started**, p50 / p90 / max", kube, gce, FreshInstance.Sample::arrivalToStarted);
    r.row1("driver: POST sent -> seen started (10 ms polls), p50", kube, gce, FreshInstance.Sample::driverMs);
    r.row1("stage `create_instance` (the provider's create call), p50", kube, gce, FreshInstance.Sample::create);
    r.row1("stage `wait_agent` (created -> the agent registered), p50", kube, gce, FreshInstance.Sample::waitAgent);
    r.row1("`create_instance` ends -> agent process started (the fake kubelet; GCE: negative, see below), p50", kube, gce,
        FreshInstance.Sample::createdToProcess);
    r.row1("agent process started -> \"Connected to\" in its log (JVM start and dial: the fake machine), p50",
        kube, gce, FreshInstance.Sample::processToConnected);
    r.row1("agent connected -> registered, `wait_agent`'s end (the node's hello and key check), p50", kube, gce,
        FreshInstance.Sample::connectedToRegistered);
    r.row1("`get_buildlet` less those two (the waiter seen, the instance asked for, the lease), p50", kube, gce,
        FreshInstance.Sample::getBuildletRest);
    r.row3("the fakes': instance made (or its agent started, if earlier) -> agent connected, p50 / p90 / max", kube, gce,
        FreshInstance.Sample::fakes);
    r.row3("**Grange's own**: arrival -> started less the fakes', p50 / p90 / max", kube, gce, FreshInstance.Sample::grangeOwn);
    r.line("");
    r.line("### Create calls under a burst of waiters (instances that never boot; `api-rate = %d`: bursts of %d, then %d/s)",
        apiRate, apiRate, apiRate);
    r.line("");
    r.line("| provider | waiters | create calls | most in any 1 s as issued (node: `requestedAtMs`; bound %d) | most in any 1 s as"
        + " received | mean rate, first -> last call | first -> last call | POSTs took |", 2 * apiRate);
    r.line("|---|---|---|---|---|---|---|---|");
    r.burst("Kubernetes: pod creations received (mock server)", kubeBurst);
    r.burst("GCE: instance inserts received (FakeCompute)", gceBurst);
    r.line("");
    r.line("Left in the fakes after the run: %d pods, %d VMs.", leftPods, leftVms);
    return r.md.toString();
  }

  private void burst(String name, Burst.Result b) {
    CreateRate r = b.rate();
    line("| %s | %d | %d | %d | %d | %.1f/s | %.1f s | %.1f s |", name, b.waiters(), r.calls(), b.issued().peakInWindow(),
        r.peakInWindow(), r.meanPerSecond(), r.spanMs() / 1000.0, b.submitMs() / 1000.0);
  }

  private void row1(String name, FreshInstance.Result k, FreshInstance.Result g, ToLongFunction<FreshInstance.Sample> f) {
    line("| %s | %s | %s |", name, p50(k.of(f)), p50(g.of(f)));
  }

  private void row3(String name, FreshInstance.Result k, FreshInstance.Result g, ToLongFunction<FreshInstance.Sample> f) {
    line("| %s | %s | %s |", name, three(k.of(f)), three(g.of(f)));
  }

  private static String p50(Percentiles p) {
    return p == null ? "n/a" : num(p.p50());
  }

  private static String three(Percentiles p) {
    return p == null ? "n/a" : num(p.p50()) + " / " + num(p.at(90)) + " / " + num(p.max());
  }

  private static String num(double ms) {
    return String.format(Locale.ROOT, "%,.0f", ms);
  }

  private void line(String format, Object... args) {
    md.append(String.format(Locale.ROOT, format, args)).append('\n');
  }
}
