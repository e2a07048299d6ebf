package dev.grange.agent.channel;

import java.util.function.LongUnaryOperator;

/**
 * Reconnect delays: exponential from {@code baseMs}, doubling up to {@code capMs}, with full
 * jitter (a uniform draw between 0 and the current bound). Full jitter spreads a fleet of agents
 * that lost the same node over the whole window instead of having them all knock at once.
 * {@link #reset()} after a session that reached {@code ready}, so a healthy node that drops one
 * socket is redialled at once. Not thread-safe: the connector's one thread uses it.
 */
public final class Backoff {
  private final long baseMs;
  private final long capMs;
  private final LongUnaryOperator random;
  private int attempt;

  /**
   * @param random maps a bound {@code n > 0} to a value in {@code [0, n]}
   */
  public Backoff(long baseMs, long capMs, LongUnaryOperator random) {
    if (baseMs <= 0 || capMs < baseMs) {
      throw new IllegalArgumentException("need 0 < base <= cap, got " + baseMs + ", " + capMs);
    }
    this.baseMs = baseMs;
    this.capMs = capMs;
    this.random = random;
  }

  /** The 200 ms doubling to 30 s of the agent, with a thread-local random. */
  public static Backoff standard() {
    return new Backoff(
        200,
        30_000,
        n -> java.util.concurrent.ThreadLocalRandom.current().nextLong(n + 1));
  }

  /** The current bound, before jitter. */
  public long bound() {
    // 2^attempt overflows past ~62; the cap is reached long before.
    int shift = Math.min(attempt, 30);
    return Math.min(capMs, baseMs << shift);
  }

  /** The next delay; each call widens the window until the cap. */
  public long next() {
    long bound = bound();
    attempt++;
    return Math.max(0, Math.min(bound, random.applyAsLong(bound)));
  }

  public void reset() {
    attempt = 0;
  }
}
