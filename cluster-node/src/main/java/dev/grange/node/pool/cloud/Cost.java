package dev.grange.node.pool.cloud;

import dev.grange.protocol.CborSerializable;
import dev.grange.protocol.model.HostTypeSpec;
import dev.grange.protocol.model.PoolKind;
import java.util.Locale;
import java.util.Objects;

/**
 * What one instance of a host type takes from its pool's quota: one instance, its CPUs (in
 * thousandths, as Kubernetes counts them) and, on GCE, the CPU family its machine type belongs to
 * ({@code e2} for {@code e2-standard-8}; "" when none).
 */
public record Cost(int instances, long milliCpus, String family) implements CborSerializable {
  public static final Cost NONE = new Cost(0, 0, "");

  public Cost {
    family = family == null ? "" : family;
    if (instances < 0 || milliCpus < 0) {
      throw new IllegalArgumentException("a cost is not negative");
    }
  }

  /** The cost of one instance of {@code spec} (a Kubernetes or GCE host type). */
  public static Cost of(HostTypeSpec spec) {
    Objects.requireNonNull(spec, "spec");
    if (spec.pool() == PoolKind.KUBERNETES) {
      return new Cost(1, milliCpus(spec.kubernetes().cpu()), "");
    }
    if (spec.pool() == PoolKind.GCE) {
      String type = spec.gce().machineType();
      int dash = type.indexOf('-');
      return new Cost(1, spec.gce().cpus() * 1000L, (dash > 0 ? type.substring(0, dash) : type).toLowerCase(Locale.ROOT));
    }
    return new Cost(1, 0, "");
  }

  /** A Kubernetes CPU quantity ({@code "2"}, {@code "500m"}, {@code "1.5"}) in thousandths of a CPU. */
  public static long milliCpus(String quantity) {
    String q = quantity.strip();
    try {
      if (q.endsWith("m")) {
        return Long.parseLong(q.substring(0, q.length() - 1));
      }
      return new java.math.BigDecimal(q).movePointRight(3).setScale(0, java.math.RoundingMode.CEILING).longValueExact();
    } catch (NumberFormatException | ArithmeticException e) {
      throw new IllegalArgumentException("not a CPU quantity: \"" + quantity + "\"");
    }
  }

  public Cost plus(Cost o) {
    return new Cost(instances + o.instances, milliCpus + o.milliCpus, family.isEmpty() ? o.family : family);
  }

  @Override
  public String toString() {
    return instances + " instance(s), " + (milliCpus % 1000 == 0 ? milliCpus / 1000 + "" : milliCpus / 1000.0 + "") + " CPU"
        + (family.isEmpty() ? "" : " (" + family + ")");
  }
}
