package dev.grange.protocol.model;

import java.util.Objects;

/**
 * A host type: a kind of machine (OS, architecture, image) and the pool its machines come from.
 * Builders name the host type they run on; a {@code HostPool} entity per host type hands its
 * buildlets out.
 *
 * <p>Exactly the pool-specific part that matches {@code pool} is set: {@code local} for {@link
 * PoolKind#LOCAL}, {@code kubernetes} for {@link PoolKind#KUBERNETES}, {@code gce} for {@link
 * PoolKind#GCE}; the others are {@code null}. A {@link PoolKind#REVERSE reverse} host type has
 * none.
 *
 * @param name host type name, {@code [a-z0-9][a-z0-9._-]*}, at most 64 characters
 * @param pool where its machines come from
 * @param expected how many machines are expected to be connected (reverse pools: the UI flags a
 *     shortfall); 0 or more
 * @param cost quota units one machine of this type uses; 0 or more
 * @param notes free text for people, shown on the pools page
 * @param local capacity of a local pool, else {@code null}
 * @param kubernetes pod recipe of a Kubernetes pool, else {@code null}
 * @param gce VM recipe of a GCE pool, else {@code null}
 * @param bootTimeoutMs how long a new machine may take to connect before it counts as failed
 * @param hermetic whether a machine is used for one build only and then deleted
 */
public record HostTypeSpec(
    String name,
    PoolKind pool,
    int expected,
    int cost,
    String notes,
    LocalPoolSpec local,
    KubernetesPoolSpec kubernetes,
    GcePoolSpec gce,
    long bootTimeoutMs,
    boolean hermetic) {
  /** Boot timeout used when the config names none: 5 minutes. */
  public static final long DEFAULT_BOOT_TIMEOUT_MS = 5L * 60 * 1000;

  public HostTypeSpec {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(pool, "pool");
    notes = notes == null ? "" : notes;
    if (expected < 0 || cost < 0) {
      throw new IllegalArgumentException("expected and cost must not be negative");
    }
    if (bootTimeoutMs <= 0) {
      throw new IllegalArgumentException("bootTimeoutMs must be positive, got " + bootTimeoutMs);
    }
    if ((local != null) != (pool == PoolKind.LOCAL)
        || (kubernetes != null) != (pool == PoolKind.KUBERNETES)
        || (gce != null) != (pool == PoolKind.GCE)) {
      throw new IllegalArgumentException(
          "host type " + name + ": exactly the " + pool.configName() + " part must be set");
    }
  }
}
