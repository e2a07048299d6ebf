package dev.grange.bench.mirrors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Polled commits fall at evenly spread points of the poll cycle. */
class LandingsTest {
  @Test
  void eightPolledCommitsWaitEachEighthOfTheIntervalOnceSoTheyAverageHalfOfIt() {
    List<Duration> w = Landings.waits(Duration.ofSeconds(5), 8, 7);
    assertEquals(List.of(312_500L, 937_500L, 1_562_500L, 2_187_500L, 2_812_500L, 3_437_500L, 4_062_500L, 4_687_500L),
        w.stream().map(d -> d.toNanos() / 1000).sorted().toList(), "microseconds");
    assertEquals(2_500_000L, w.stream().mapToLong(d -> d.toNanos() / 1000).sum() / 8);
    assertEquals(w, Landings.waits(Duration.ofSeconds(5), 8, 7), "the same order for the same seed");
    assertNotEquals(w.stream().sorted().toList(), w, "shuffled");
  }
}
