package dev.grange.bench.memory;

import dev.grange.bench.farm.BenchFarm;
import dev.grange.bench.farm.ProcFs;
import java.util.List;

/**
 * Benchmark 3, resident memory of a farm whose agents are all idle: {@code VmRSS} (and the peak,
 * {@code VmHWM}) of the node's JVM, of the Cassandra server it runs as its child, and of its
 * agent processes, read from {@code /proc/<pid>/status}.
 */
public final class MemoryBench {
  /** One reading, bytes. {@code agentRss} is in the order of the farm's agent pids. */
  public record Snapshot(String when, long nodeRss, long nodeHwm, long cassandraRss, long cassandraHwm,
      List<Long> agentRss, List<Long> agentHwm) {

    public long agentMin() {
      return agentRss.stream().mapToLong(Long::longValue).min().orElse(0);
    }

    public long agentMax() {
      return agentRss.stream().mapToLong(Long::longValue).max().orElse(0);
    }

    public long agentSum() {
      return agentRss.stream().mapToLong(Long::longValue).sum();
    }
  }

  private MemoryBench() {}

  public static Snapshot read(BenchFarm farm, String when) {
    List<Long> agents = farm.agentPids();
    return new Snapshot(
        when,
        rss(farm.nodePid()),
        hwm(farm.nodePid()),
        rss(farm.cassandraPid()),
        hwm(farm.cassandraPid()),
        agents.stream().map(MemoryBench::rss).toList(),
        agents.stream().map(MemoryBench::hwm).toList());
  }

  private static long rss(long pid) {
    return ProcFs.statusBytes(pid, "VmRSS").orElse(0);
  }

  private static long hwm(long pid) {
    return ProcFs.statusBytes(pid, "VmHWM").orElse(0);
  }
}
