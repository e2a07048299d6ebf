package dev.grange.protocol.model;

/**
 * Capacity of a {@link PoolKind#LOCAL local} pool: the node keeps at least {@code min} agent
 * processes of the host type running and never more than {@code max}.
 *
 * @param min agents kept running even when idle; {@code 0 <= min <= max}
 * @param max upper bound on agents at once; at least 1
 */
public record LocalPoolSpec(int min, int max) {
  public LocalPoolSpec {
    if (max < 1) {
      throw new IllegalArgumentException("max must be at least 1, got " + max);
    }
    if (min < 0 || min > max) {
      throw new IllegalArgumentException("min must be between 0 and max (" + max + "), got " + min);
    }
  }
}
