package dev.grange.protocol.model;

import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How a {@link PoolKind#GCE} pool makes a VM for one buildlet (the node's {@code GceProvider}).
 *
 * @param machineType Compute Engine machine type, e.g. {@code e2-standard-8}; required
 * @param image boot image that starts the agent; required
 * @param zones zones to create VMs in, tried in order; at least one
 * @param diskGb boot disk size in GB; positive
 * @param cpus vCPUs one VM counts against the quota; positive. The config may leave it out when
 *     the machine type's name says it ({@link #vcpusOf})
 */
public record GcePoolSpec(
    String machineType, String image, List<String> zones, int diskGb, int cpus) {
  /** Boot disk size used when the config names none. */
  public static final int DEFAULT_DISK_GB = 10;

  /** {@code e2-standard-8}, {@code n2-highmem-16}, {@code c3-standard-22-lssd}: the vCPUs are the number. */
  private static final Pattern PREDEFINED =
      Pattern.compile("[a-z][a-z0-9]*-(?:standard|highmem|highcpu|megamem|ultramem|hypermem)-(\\d{1,4})(?:-lssd)?");

  /** {@code custom-4-16384}, {@code n2-custom-8-32768-ext}: vCPUs, then memory in MB. */
  private static final Pattern CUSTOM = Pattern.compile("(?:[a-z][a-z0-9]*-)?custom-(\\d{1,4})-\\d+(?:-ext)?");

  /**
   * The vCPUs of a Compute Engine machine type, from its name: predefined types ({@code
   * e2-standard-8}: 8), custom ones ({@code n2-custom-6-24576}: 6) and the shared-core ones
   * ({@code e2-micro}, {@code e2-small}, {@code e2-medium}: 2; {@code f1-micro}, {@code g1-small}:
   * 1). Empty for a name that does not say (GPU and TPU types: their number counts accelerators).
   */
  public static OptionalInt vcpusOf(String machineType) {
    for (Pattern p : List.of(PREDEFINED, CUSTOM)) {
      Matcher m = p.matcher(machineType);
      if (m.matches()) {
        int n = Integer.parseInt(m.group(1));
        return n > 0 ? OptionalInt.of(n) : OptionalInt.empty();
      }
    }
    return switch (machineType) {
      case "e2-micro", "e2-small", "e2-medium" -> OptionalInt.of(2);
      case "f1-micro", "g1-small" -> OptionalInt.of(1);
      default -> OptionalInt.empty();
    };
  }

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
