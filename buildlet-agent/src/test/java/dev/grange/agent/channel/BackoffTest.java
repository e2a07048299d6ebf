package dev.grange.agent.channel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

/**
 * Proves the reconnect delays of {@link Backoff}: the window doubles from its base up to its
 * cap, each delay is a draw inside the current window (full jitter), and a reset after a good
 * session starts again from the base. The random source is pinned, so nothing here is timing.
 */
class BackoffTest {
  @Test
  void theWindowDoublesFromTheBaseUpToTheCap() {
    List<Long> bounds = new ArrayList<>();
    Backoff b = new Backoff(200, 30_000, n -> n);
    for (int i = 0; i < 10; i++) {
      bounds.add(b.next());
    }
    assertEquals(List.of(200L, 400L, 800L, 1_600L, 3_200L, 6_400L, 12_800L, 25_600L, 30_000L, 30_000L), bounds);
  }

  @Test
  void eachDelayIsADrawBetweenZeroAndTheWindow() {
    Backoff b = new Backoff(200, 30_000, n -> ThreadLocalRandom.current().nextLong(n + 1));
    for (int i = 0; i < 200; i++) {
      long bound = b.bound();
      long d = b.next();
      assertTrue(d >= 0 && d <= bound, "delay " + d + " outside [0, " + bound + "]");
    }
    Backoff low = new Backoff(200, 30_000, n -> 0);
    assertEquals(0, low.next(), "full jitter reaches down to 0");
  }

  @Test
  void aDrawOutsideTheWindowIsClamped() {
    Backoff b = new Backoff(200, 30_000, n -> n * 10);
    assertEquals(200, b.next());
    Backoff negative = new Backoff(200, 30_000, n -> -5);
    assertEquals(0, negative.next());
  }

  @Test
  void resetStartsAgainFromTheBase() {
    Backoff b = new Backoff(200, 30_000, n -> n);
    for (int i = 0; i < 6; i++) {
      b.next();
    }
    b.reset();
    assertEquals(200, b.next());
    assertEquals(400, b.next());
  }

  @Test
  void manyFailuresNeverOverflowPastTheCap() {
    Backoff b = new Backoff(200, 30_000, n -> n);
    for (int i = 0; i < 1_000; i++) {
      b.next();
    }
    assertEquals(30_000, b.next());
  }

  @Test
  void aBaseAboveTheCapIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> new Backoff(0, 100, n -> n));
    assertThrows(IllegalArgumentException.class, () -> new Backoff(500, 100, n -> n));
  }
}
