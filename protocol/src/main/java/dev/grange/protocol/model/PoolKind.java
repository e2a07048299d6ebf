package dev.grange.protocol.model;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Where the machines of a host type come from. Each kind has its own pool implementation in
 * {@code cluster-node}; in config it is written in lower case ({@code pool = local}).
 */
public enum PoolKind {
  /** Dedicated machines that dial in by themselves; the pool only waits for them. */
  REVERSE,
  /** Agent processes started by the node itself, on the node's own machine. */
  LOCAL,
  /** Pods created on demand in a Kubernetes cluster. */
  KUBERNETES,
  /** Compute Engine VMs created on demand. */
  GCE;

  /** The spelling in HOCON: {@code reverse}, {@code local}, {@code kubernetes}, {@code gce}. */
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The kind spelled {@code value} in config (exact, lower case), if any. */
  public static Optional<PoolKind> fromConfigName(String value) {
    return Arrays.stream(values()).filter(k -> k.configName().equals(value)).findFirst();
  }

  /** All config spellings, in declaration order, for error messages. */
  public static List<String> configNames() {
    return Arrays.stream(values()).map(PoolKind::configName).toList();
  }
}
