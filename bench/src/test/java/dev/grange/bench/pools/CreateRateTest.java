package dev.grange.bench.pools;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CreateRateTest {
  @Test
  void aFullBucketThenItsRefillIsTheBusiestSecond() {
    // 10 at once, then one every 100 ms: what a bucket of 10 a second with bursts of 10 allows.
    List<Long> at = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      at.add(1_000L);
    }
    for (int i = 1; i <= 30; i++) {
      at.add(1_000L + 100L * i);
    }
    CreateRate r = CreateRate.of(at, 1_000);
    assertEquals(40, r.calls());
    assertEquals(19, r.peakInWindow(), "the call at exactly t + 1 s is the next window's");
    assertEquals(3_000, r.spanMs());
    assertEquals(13.0, r.meanPerSecond(), 1e-9);
  }

  @Test
  void anEvenRateHasItsRateInEveryWindowWhateverTheOrder() {
    List<Long> at = new ArrayList<>();
    for (int i = 49; i >= 0; i--) {
      at.add(5_000L + 200L * i);
    }
    CreateRate r = CreateRate.of(at, 1_000);
    assertEquals(5, r.peakInWindow());
    assertEquals(5.0, r.meanPerSecond(), 1e-9);
  }

  @Test
  void noCallsOrOneCallHaveNoRate() {
    assertEquals(new CreateRate(0, 0, 0, 0), CreateRate.of(List.of(), 1_000));
    assertEquals(new CreateRate(1, 1, 0, 0), CreateRate.of(List.of(7L), 1_000));
  }
}
