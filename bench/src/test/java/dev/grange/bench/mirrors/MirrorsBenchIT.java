package dev.grange.bench.mirrors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * {@code bench/mirrors --quick} with a 2 s poll, on real processes (Cassandra, a node, two agents,
 * the git CLI): every commit sent by webhook is queued well inside the hourly poll that would
 * otherwise find it, every polled commit is found, and the archive served holds the tree's files
 * and bytes. Its timings are the README's business, not this test's.
 */
class MirrorsBenchIT {
  @Test
  void everyCommitBecomesAQueuedBuildAndTheArchiveHoldsTheTree() throws Exception {
    MirrorsMain.Options o = MirrorsMain.Options.parse("--quick", "--poll-seconds", "2", "--root", "..");
    MirrorsMain.Result r = MirrorsMain.run(o, System.out);
    String t = r.table();
    assertEquals(5, r.webhook().samples().size(), t);
    assertEquals(2, r.polling().samples().size(), t);
    for (Landings.Result path : java.util.List.of(r.webhook(), r.polling())) {
      for (Landings.Sample s : path.samples()) {
        assertTrue(s.queuedMs() > 0 && s.queuedMs() < 60_000, path.path() + " " + s + "\n" + t);
        assertTrue(s.landedMs() > -1 && s.landedMs() <= s.queuedMs() + 1, "handed over before it was seen queued: " + s);
      }
    }
    ArchiveServing.Result a = r.archive();
    assertEquals(1_100, a.files());
    assertEquals(a.files(), a.tarFiles(), t);
    assertEquals(a.treeBytes(), a.tarFileBytes(), t);
    assertTrue(a.servedBytes() > 0 && a.servedBytes() < a.treeBytes(), "gzip'd, and 40% of it random: " + t);
    assertEquals(3, a.warm().size());
    assertTrue(t.contains("| webhook") && t.contains("| polling every 2 s") && t.contains("| node `/src`, cold"), t);
    assertEquals(t, Files.readString(Path.of("target/mirrors-results.md")));
  }
}
