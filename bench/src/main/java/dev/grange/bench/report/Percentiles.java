package dev.grange.bench.report;

import java.util.Arrays;
import java.util.Collection;

/**
 * Order statistics of a sample, by the nearest-rank method: the p-th percentile is the smallest
 * value with at least p% of the sample at or below it (rank ceil(p/100 * n)). Always a value
 * that was measured, never an interpolation; p100 is the maximum.
 */
public final class Percentiles {
  private final double[] sorted;

  private Percentiles(double[] sorted) {
    this.sorted = sorted;
  }

  /** The statistics of {@code values}; refuses an empty sample. */
  public static Percentiles of(Collection<? extends Number> values) {
    if (values.isEmpty()) {
      throw new IllegalArgumentException("no values: a percentile of an empty sample is undefined");
    }
    double[] a = values.stream().mapToDouble(Number::doubleValue).toArray();
    Arrays.sort(a);
    return new Percentiles(a);
  }

  /** The p-th percentile, 0 < p <= 100. */
  public double at(double p) {
    if (!(p > 0 && p <= 100)) {
      throw new IllegalArgumentException("p must be in (0, 100], was " + p);
    }
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(1, rank) - 1];
  }

  public double p50() {
    return at(50);
  }

  public double p99() {
    return at(99);
  }

  public double min() {
    return sorted[0];
  }

  public double max() {
    return sorted[sorted.length - 1];
  }

  public double mean() {
    return Arrays.stream(sorted).average().orElseThrow();
  }

  public int count() {
    return sorted.length;
  }
}
