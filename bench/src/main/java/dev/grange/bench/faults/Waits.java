package dev.grange.bench.faults;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

/** Polling for a condition with a deadline: the suite's only way to wait. */
final class Waits {
  private Waits() {}

  /** Calls {@code look} every 100 ms until it returns non-null; fails after {@code deadline}. */
  static <T> T until(String what, Duration deadline, Callable<T> look) throws Exception {
    long end = System.nanoTime() + deadline.toNanos();
    while (true) {
      T v = look.call();
      if (v != null) {
        return v;
      }
      if (System.nanoTime() - end > 0) {
        throw new TimeoutException("not within " + deadline.toSeconds() + " s: " + what);
      }
      LockSupport.parkNanos(100_000_000L);
    }
  }
}
