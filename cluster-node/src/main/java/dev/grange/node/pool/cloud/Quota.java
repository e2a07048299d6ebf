package dev.grange.node.pool.cloud;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

/**
 * The limits of one pool ({@code grange.pools.<kind>}): instances, CPUs, and CPUs per CPU family
 * where configured. 0 means no limit on that count.
 */
public record Quota(int maxInstances, long maxMilliCpus, Map<String, Long> familyMilliCpus) {
  public Quota {
    familyMilliCpus = familyMilliCpus == null ? Map.of() : Map.copyOf(familyMilliCpus);
    if (maxInstances < 0 || maxMilliCpus < 0 || familyMilliCpus.values().stream().anyMatch(v -> v < 0)) {
      throw new IllegalArgumentException("quota limits are not negative");
    }
  }

  /** What is left of this quota once {@code used} is taken. */
  public Left left(Collection<Cost> used) {
    int instances = 0;
    long cpus = 0;
    Map<String, Long> families = new HashMap<>();
    for (Cost c : used) {
      instances += c.instances();
      cpus += c.milliCpus();
      if (!c.family().isEmpty()) {
        families.merge(c.family(), c.milliCpus(), Long::sum);
      }
    }
    return new Left(this, instances, cpus, families);
  }

  /** The quota with what is used so far; {@link #take} when a cost fits. */
  public static final class Left {
    private final Quota quota;
    private int instances;
    private long cpus;
    private final Map<String, Long> families;

    private Left(Quota quota, int instances, long cpus, Map<String, Long> families) {
      this.quota = quota;
      this.instances = instances;
      this.cpus = cpus;
      this.families = families;
    }

    /** Why {@code c} does not fit now, or null when it does. */
    public String shortOf(Cost c) {
      if (quota.maxInstances() > 0 && instances + c.instances() > quota.maxInstances()) {
        return "instances " + instances + " of " + quota.maxInstances() + " in use";
      }
      if (quota.maxMilliCpus() > 0 && cpus + c.milliCpus() > quota.maxMilliCpus()) {
        return "CPUs " + cpus / 1000.0 + " of " + quota.maxMilliCpus() / 1000.0 + " in use";
      }
      Long family = c.family().isEmpty() ? null : quota.familyMilliCpus().get(c.family());
      long usedFamily = families.getOrDefault(c.family(), 0L);
      if (family != null && family > 0 && usedFamily + c.milliCpus() > family) {
        return c.family() + " CPUs " + usedFamily / 1000.0 + " of " + family / 1000.0 + " in use";
      }
      return null;
    }

    public void take(Cost c) {
      instances += c.instances();
      cpus += c.milliCpus();
      if (!c.family().isEmpty()) {
        families.merge(c.family(), c.milliCpus(), Long::sum);
      }
    }

    public int instances() {
      return instances;
    }

    public long milliCpus() {
      return cpus;
    }
  }
}
