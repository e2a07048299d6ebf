package dev.grange.bench.ui;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * {@code bench/ui} at a small size (200 machines in 4 pools, 50 changes a second for 15 s), as
 * CI runs it: the benchmark measures what it says (a lag for nearly every change sent; a change
 * and the next of the same machine inside one batch make one patch) and the page ends right,
 * every row showing what was last announced, with a cell under every heading. Its timings are
 * the README's business, not this test's.
 */
class UiBenchIT {
  @Test
  void thePoolPageFollowsEveryChangeAndEndsRight() throws Exception {
    Path root = Path.of("..").toAbsolutePath().normalize();
    UiBench.Options o = new UiBench.Options(200, 4, 50, Duration.ofSeconds(15),
        root.resolve("bench/target/ui-it"), root.resolve("cassandra-runtime/target/cassandra.classpath"));
    UiBench.Result r = UiBench.run(o, System.out);
    System.out.print(r.table());
    assertEquals(0, r.wrongRows(), r.table());
    assertTrue(r.lags().count() >= 0.8 * r.changesSent(), "patched rows measured for the changes sent:\n" + r.table());
    assertTrue(r.end().elements() > 200 * 9, "every machine has its row of cells:\n" + r.table());
  }
}
