package dev.grange.protocol.model;

import java.util.List;
import java.util.Objects;

/**
 * How a {@link PoolKind#GCE} pool makes a VM for one buildlet. Only validated for now: the VM
 * provider that uses it is not written yet.
 *
 * @param machineType Compute Engine machine type, e.g. {@code e2-standard-8}; required
 * @param image boot image that starts the agent; required
 * @param zones zones to create VMs in, tried in order; at least one
 * @param diskGb boot disk size in GB; positive
 * @param cpus vCPUs one VM counts against the quota; positive
 */
public record GcePoolSpec(
    String machineType, String image, List<String> zones, int diskGb, int cpus) {
  /** Boot disk size used when the config names none. */
  public static final int DEFAULT_DISK_GB = 10;

  /** vCPU count used when the config names none. */
  public static final int DEFAULT_CPUS = 1;

  public GcePoolSpec {
    Objects.requireNonNull(machineType, "machineType");
    Objects.requireNonNull(image, "image");
    zones = zones == null ? List.of() : List.copyOf(zones);
    if (zones.isEmpty()) {
      throw new IllegalArgumentException("zones must name at least one zone");
    }
    if (diskGb < 1 || cpus < 1) {
      throw new IllegalArgumentException("diskGb and cpus must be positive");
    }
  }
}
