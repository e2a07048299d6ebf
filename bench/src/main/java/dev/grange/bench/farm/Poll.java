package dev.grange.bench.farm;

import java.time.Duration;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

/**
 * Polling with a deadline, the load driver's only way of waiting for the farm: look, and if the
 * answer is not there yet, park for {@code every} and look again, until {@code deadline}.
 */
public final class Poll {
  /** One look: the answer, or null for "not yet". */
  @FunctionalInterface
  public interface Look<T> {
    T look() throws Exception;
  }

  private Poll() {}

  /**
   * Looks until an answer comes.
   *
   * @throws TimeoutException naming {@code what} when the deadline passes first
   */
  public static <T> T until(String what, Duration deadline, Duration every, Look<T> look) throws Exception {
    long end = System.nanoTime() + deadline.toNanos();
    while (true) {
      T answer = look.look();
      if (answer != null) {
        return answer;
      }
      if (System.nanoTime() > end) {
        throw new TimeoutException(what + " did not happen within " + deadline.toSeconds() + " s");
      }
      LockSupport.parkNanos(every.toNanos());
      if (Thread.interrupted()) {
        throw new InterruptedException("interrupted while waiting until " + what);
      }
    }
  }
}
