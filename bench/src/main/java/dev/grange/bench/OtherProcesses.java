package dev.grange.bench;

import dev.grange.bench.farm.ProcFs;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The other work on this machine when a run starts (other engineers' nodes, agents, Cassandras
 * and Maven builds share the two cores), so that the report says what the figures competed with.
 */
public final class OtherProcesses {
  private OtherProcesses() {}

  public static String describe() {
    Map<String, Integer> kinds = new LinkedHashMap<>();
    long self = ProcessHandle.current().pid();
    ProcessHandle.allProcesses().filter(p -> p.pid() != self).forEach(p -> {
      String cmd = ProcFs.cmdline(p.pid());
      String kind = cmd.contains("dev.grange.node.Main") ? "node"
          : cmd.contains("dev.grange.agent.Main") ? "agent"
          : cmd.contains("CassandraDaemon") ? "Cassandra"
          : cmd.contains("plexus-classworlds") ? "Maven"
          : cmd.contains("surefire") || cmd.contains("failsafe") ? "test JVM"
          : null;
      if (kind != null) {
        kinds.merge(kind, 1, Integer::sum);
      }
    });
    if (kinds.isEmpty()) {
      return "no other Grange, Cassandra or Maven process running";
    }
    return "also running (other engineers): " + kinds.entrySet().stream()
        .map(e -> e.getValue() + " " + e.getKey() + (e.getValue() > 1 ? "s" : ""))
        .collect(Collectors.joining(", "));
  }
}
