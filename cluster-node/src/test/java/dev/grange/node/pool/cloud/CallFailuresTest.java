package dev.grange.node.pool.cloud;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CallFailuresTest {
  private final CallFailures f = new CallFailures(new CloudPoolSettings.Backoff(Duration.ofSeconds(30), Duration.ofMinutes(5),
      Duration.ofSeconds(3)));

  @Test
  void aFailedCreateMakesItsHostTypeWaitSayingWhyUntilAnInstanceIsMade() {
    assertEquals(new CallFailures.Wait(Duration.ofSeconds(30), 1), f.createFailed("k", ProviderException.Kind.QUOTA, "pods=10", 1_000));
    assertEquals("creating an instance failed (quota: pods=10); trying again in 20 s", f.backingOff("k", 11_000));
    assertNull(f.backingOff("k", 31_000), "waited out");
    assertNull(f.backingOff("other", 11_000));
    assertEquals(2, f.createFailed("k", ProviderException.Kind.UNAVAILABLE, "503", 31_000).inARow());
    f.created("k");
    assertEquals(Map.of(), f.lastErrors());
    assertEquals(1, f.createFailed("k", ProviderException.Kind.UNAVAILABLE, "503", 40_000).inARow(), "counted afresh");
  }

  @Test
  void aFailedDeleteWaitsLongerEachTimeInARowAndIsForgottenOnceGone() {
    assertEquals(Duration.ofSeconds(1), f.deleteFailed("i1", "k", "503").delay());
    assertEquals(Duration.ofSeconds(2), f.deleteFailed("i1", "k", "503").delay());
    assertEquals(Duration.ofSeconds(3), f.deleteFailed("i1", "k", "503").delay(), "at most unavailable-max");
    assertEquals(Map.of("k", "deleting i1 failed: 503"), f.lastErrors());
    f.deleted("i1");
    assertEquals(1, f.deleteFailed("i1", "", "again").inARow());
    assertEquals(Map.of("k", "deleting i1 failed: 503"), f.lastErrors(), "an instance of no known host type leaves the errors alone");
  }
}
