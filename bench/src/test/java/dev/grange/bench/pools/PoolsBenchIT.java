package dev.grange.bench.pools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code bench/pools --quick} with small sizes, on real processes (Cassandra, a node, a real agent
 * per fresh pod and VM, the fakes in this JVM): every build ran on an instance made for it, each
 * burst made one create call per waiter and the node never issued more in a second than the
 * configured api-rate allows (a full bucket and a second's refill), and no pod or VM is left in
 * the fakes. Its
 * timings are the README's business, not this test's.
 */
class PoolsBenchIT {
  @Test
  void everyBuildRunsOnAFreshInstanceAndCreatesKeepToTheApiRate() throws Exception {
    PoolsMain.Options o = PoolsMain.Options.parse("--quick", "--fresh", "2", "--burst", "30", "--root", "..");
    PoolsMain.Result r = PoolsMain.run(o, System.out);
    String t = r.table();
    for (FreshInstance.Result fresh : List.of(r.kube(), r.gce())) {
      assertEquals(2, fresh.samples().size(), t);
      assertEquals(2, fresh.samples().stream().map(FreshInstance.Sample::instance).distinct().count(), "one instance each: " + t);
      assertTrue(fresh.instancesMade() >= 2, t);
      for (FreshInstance.Sample s : fresh.samples()) {
        assertTrue(s.instance().startsWith("grange-" + fresh.hostType() + "-"), s.toString());
        assertTrue(s.submitted() <= s.getStart() && s.getStart() <= s.createStart() && s.createStart() <= s.createEnd()
            && s.createEnd() <= s.waitEnd() && s.waitEnd() <= s.started(), "stages in order: " + s);
        assertTrue(s.agent().connectedMs() > 0, "the agent's log says it connected: " + s);
      }
    }
    for (Burst.Result b : List.of(r.kubeBurst(), r.gceBurst())) {
      assertEquals(30, b.rate().calls(), b.hostType() + ": one create per waiter\n" + t);
      assertEquals(30, b.issued().calls(), b.hostType() + ": every instance still there, its token's time known\n" + t);
      // As the node took them from its bucket: the fake's arrival times bunch (calls queue in the client).
      assertTrue(b.issued().peakInWindow() <= 2 * r.apiRate(), b.hostType() + ": a full bucket and a second's refill at most\n" + t);
    }
    assertEquals(0, r.podsLeft(), t);
    assertEquals(0, r.vmsLeft(), t);
    assertTrue(t.contains("| **arrival -> attempt started**") && t.contains("| Kubernetes: pod creations"), t);
    assertEquals(t, Files.readString(Path.of("target/pools-results.md")));
  }
}
