package dev.grange.node.pool.cloud;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * A token bucket: at most {@code perSecond} calls a second on average, bursts of at most {@code
 * max(1, perSecond)}. Not thread-safe: one actor owns it.
 */
public final class CallRate {
  private final double perSecond;
  private final double burst;
  private final LongSupplier nanos;
  private double tokens;
  private long lastNanos;

  public CallRate(double perSecond, LongSupplier nanos) {
    if (perSecond <= 0) {
      throw new IllegalArgumentException("a call rate must be positive");
    }
    this.perSecond = perSecond;
    this.burst = Math.max(1, perSecond);
    this.nanos = nanos;
    this.tokens = burst;
    this.lastNanos = nanos.getAsLong();
  }

  /** Takes up to {@code n} calls' worth now; how many it took. */
  public int take(int n) {
    refill();
    int got = (int) Math.min(n, Math.floor(tokens));
    tokens -= got;
    return got;
  }

  /** How long until the next call may be made. */
  public Duration untilNext() {
    refill();
    if (tokens >= 1) {
      return Duration.ZERO;
    }
    return Duration.ofNanos((long) Math.ceil((1 - tokens) / perSecond * 1e9));
  }

  private void refill() {
    long now = nanos.getAsLong();
    tokens = Math.min(burst, tokens + (now - lastNanos) / 1e9 * perSecond);
    lastNanos = now;
  }
}
