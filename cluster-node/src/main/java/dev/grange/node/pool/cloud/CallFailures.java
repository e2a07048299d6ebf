package dev.grange.node.pool.cloud;

import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * What a {@link CloudPool} remembers of its failed cloud calls, in memory (a restarted pool starts
 * afresh): per host type, the creates that failed in a row, until when it waits before asking
 * again and the last error; per instance, the deletes that failed in a row. The waits are {@link
 * CloudPoolSettings.Backoff}'s. Pure: the pool's timers act on what it answers. Not thread-safe
 * (an entity's own).
 */
final class CallFailures {
  /** How long to wait after a failure, and how many there have been in a row. */
  record Wait(Duration delay, int inARow) {}

  private final CloudPoolSettings.Backoff backoff;
  private final Map<String, Integer> createsInARow = new HashMap<>();
  private final Map<String, Long> waitUntilMs = new HashMap<>();
  private final Map<String, Integer> deletesInARow = new HashMap<>();
  private final Map<String, String> lastErrors = new HashMap<>();

  CallFailures(CloudPoolSettings.Backoff backoff) {
    this.backoff = backoff;
  }

  /** A create of {@code hostType} failed at {@code nowMs}: the host type waits this long. */
  Wait createFailed(String hostType, ProviderException.Kind kind, String message, long nowMs) {
    int n = createsInARow.merge(hostType, 1, Integer::sum);
    Duration wait = backoff.after(kind, n);
    lastErrors.put(hostType, kind.name().toLowerCase(Locale.ROOT) + ": " + message);
    waitUntilMs.put(hostType, nowMs + wait.toMillis());
    return new Wait(wait, n);
  }

  /** An instance of {@code hostType} was made: its creates work again. */
  void created(String hostType) {
    createsInARow.remove(hostType);
    lastErrors.remove(hostType);
  }

  /**
   * Why a build of {@code hostType} waits at {@code nowMs} when the host type is waiting out a
   * failed create; null when it is not.
   */
  String backingOff(String hostType, long nowMs) {
    long until = waitUntilMs.getOrDefault(hostType, 0L);
    if (until <= nowMs) {
      return null;
    }
    return "creating an instance failed (" + lastErrors.getOrDefault(hostType, "?") + "); trying again in "
        + Duration.ofMillis(until - nowMs).toSeconds() + " s";
  }

  /**
   * A delete of {@code instance} (of {@code hostType}, "" when unknown) failed: it is asked again
   * after this, 1 s doubling up to the backoff's {@code unavailableMax}.
   */
  Wait deleteFailed(String instance, String hostType, String message) {
    int n = deletesInARow.merge(instance, 1, Integer::sum);
    if (!hostType.isEmpty()) {
      lastErrors.put(hostType, "deleting " + instance + " failed: " + message);
    }
    return new Wait(backoff.after(ProviderException.Kind.UNAVAILABLE, n), n);
  }

  /** {@code instance} is gone. */
  void deleted(String instance) {
    deletesInARow.remove(instance);
  }

  /** The last error of each host type whose last call failed. */
  Map<String, String> lastErrors() {
    return Map.copyOf(lastErrors);
  }
}
