package dev.grange.bench.farm;

/**
 * CPU seconds each part of the farm spends over one phase of a run (from {@code /proc}): the
 * node, Cassandra, the agents with the commands they ran, and this load driver. Divided by the
 * work done it is the phase's cost; beside the wall time it says how busy the two cores were.
 */
public final class CpuMeter {
  /** CPU seconds over {@code wallSeconds}. */
  public record Use(double node, double cassandra, double agents, double driver, double wallSeconds) {
    public double total() {
      return node + cassandra + agents + driver;
    }

    /** Share of the machine's cores the farm and the driver kept busy, in %. */
    public double coresBusyPercent() {
      return total() / (Runtime.getRuntime().availableProcessors() * wallSeconds) * 100;
    }
  }

  private final BenchFarm farm;
  private final Use start;
  private final long t0 = System.nanoTime();

  private CpuMeter(BenchFarm farm) {
    this.farm = farm;
    this.start = now(farm, 0);
  }

  public static CpuMeter start(BenchFarm farm) {
    return new CpuMeter(farm);
  }

  /** The CPU spent since {@link #start}. */
  public Use stop() {
    Use end = now(farm, (System.nanoTime() - t0) / 1e9);
    return new Use(end.node() - start.node(), end.cassandra() - start.cassandra(), end.agents() - start.agents(),
        end.driver() - start.driver(), end.wallSeconds());
  }

  private static Use now(BenchFarm farm, double wall) {
    return new Use(
        ProcFs.cpuSeconds(farm.nodePid()),
        ProcFs.cpuSeconds(farm.cassandraPid()),
        farm.agentPids().stream().mapToDouble(ProcFs::cpuSeconds).sum(),
        ProcFs.cpuSeconds(ProcessHandle.current().pid()),
        wall);
  }
}
