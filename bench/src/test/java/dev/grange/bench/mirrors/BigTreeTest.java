package dev.grange.bench.mirrors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The big repository's tree: the sizes the README states, the same bytes on every run. */
class BigTreeTest {
  @Test
  void theFullTreeIsElevenThousandFilesOfAbout100MegabytesFortyPercentRandom() {
    List<BigTree.Entry> plan = BigTree.plan(11_000, 100_000_000L, BigTree.SEED);
    long total = plan.stream().mapToLong(BigTree.Entry::size).sum();
    long random = plan.stream().filter(BigTree.Entry::binary).mapToLong(BigTree.Entry::size).sum();
    assertEquals(11_000, plan.size());
    assertEquals(1_000, plan.stream().filter(BigTree.Entry::binary).count());
    assertTrue(Math.abs(total - 100_000_000L) < 3_000_000L, "total " + total);
    assertTrue(Math.abs(random / (double) total - 0.4) < 0.03, "random share " + random / (double) total);
    assertEquals(110, plan.stream().map(e -> e.path().substring(0, e.path().indexOf('/'))).distinct().count(),
        "100 files a directory");
    assertEquals(plan, BigTree.plan(11_000, 100_000_000L, BigTree.SEED), "the same plan every time");
  }

  @Test
  void writingTwiceGivesTheSameBytesAndThePlannedSizes(@TempDir Path tmp) throws Exception {
    BigTree.Written a = BigTree.write(tmp.resolve("a"), 220, 400_000, BigTree.SEED);
    BigTree.Written b = BigTree.write(tmp.resolve("b"), 220, 400_000, BigTree.SEED);
    assertEquals(a, b);
    assertEquals(220, a.files());
    assertEquals(20, a.binaryFiles());
    for (BigTree.Entry e : BigTree.plan(220, 400_000, BigTree.SEED)) {
      byte[] x = Files.readAllBytes(tmp.resolve("a").resolve(e.path()));
      assertEquals(e.size(), x.length, e.path());
      assertArrayEquals(x, Files.readAllBytes(tmp.resolve("b").resolve(e.path())), e.path());
      if (!e.binary()) {
        assertEquals('\n', x[x.length - 1], e.path() + " ends its last line");
        for (byte c : x) {
          assertTrue(c == '\t' || c == '\n' || (c >= 0x20 && c < 0x7f), e.path() + " is plain text");
        }
      }
    }
  }

  @Test
  void aTreeTooSmallToHoldItsKindsIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> BigTree.plan(10, 1_000, BigTree.SEED));
    assertThrows(IllegalArgumentException.class, () -> BigTree.plan(100, 50, BigTree.SEED));
  }
}
