package dev.grange.bench.pools;

import java.util.List;

/**
 * The create calls of a burst, by the times the fake API received them (epoch ms): how many,
 * the most in any window of {@code windowMs} (half-open: {@code [t, t + windowMs)} from each
 * call), and the mean rate from the first call to the last. A token bucket of {@code rate}
 * calls a second with bursts of {@code rate} allows at most {@code 2 * rate} in a 1 s window
 * (the full bucket, then a second's refill) and tends to {@code rate} a second on average.
 *
 * @param calls the calls counted
 * @param peakInWindow the most calls in any one window
 * @param meanPerSecond {@code (calls - 1)} over the seconds from the first call to the last; 0 for fewer than two
 * @param spanMs from the first call to the last
 */
public record CreateRate(int calls, int peakInWindow, double meanPerSecond, long spanMs) {

  /** The figures of {@code atMs} (in any order). */
  public static CreateRate of(List<Long> atMs, long windowMs) {
    if (windowMs <= 0) {
      throw new IllegalArgumentException("the window must be positive, was " + windowMs);
    }
    long[] t = atMs.stream().mapToLong(Long::longValue).sorted().toArray();
    if (t.length == 0) {
      return new CreateRate(0, 0, 0, 0);
    }
    int peak = 0;
    for (int i = 0, j = 0; i < t.length; i++) {
      while (j < t.length && t[j] < t[i] + windowMs) {
        j++;
      }
      peak = Math.max(peak, j - i);
    }
    long span = t[t.length - 1] - t[0];
    double mean = t.length < 2 || span == 0 ? 0 : (t.length - 1) * 1000.0 / span;
    return new CreateRate(t.length, peak, mean, span);
  }
}
