package dev.grange.bench.ui;

import dev.grange.node.buildlet.BuildletInfo;
import dev.grange.node.schedule.HostPool;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * The machines of the UI benchmark, announced to their {@link HostPool} entities with the
 * messages a {@code Buildlet} sends ({@code BuildletUp}: idle, or leased to a build), so the
 * pools, the live hub, the WebSocket and the page do their real work while no agent process or
 * build has to exist: 1,000 agents and 50 builds a second do not fit on two cores next to the
 * node, Cassandra and Chromium. Not thread-safe: one thread calls {@link #flipOne}.
 */
final class PoolSwarm {
  private final ClusterSharding sharding;
  private final List<BuildletInfo> machines = new ArrayList<>();
  /** Each machine's state as last announced: the build it is leased to, or null when idle. */
  private final String[] leasedTo;
  private final Random random = new Random(42);
  private long builds;

  PoolSwarm(ClusterSharding sharding, List<String> hostTypes, int perHostType, String node) {
    this.sharding = sharding;
    long now = System.currentTimeMillis();
    for (String h : hostTypes) {
      for (int i = 0; i < perHostType; i++) {
        String name = h + "-" + String.format("%04d", i);
        machines.add(new BuildletInfo("ui-" + name, h, name, 1, "", "linux", "amd64", 8, "/workdir", node, now));
      }
    }
    leasedTo = new String[machines.size()];
  }

  int size() {
    return machines.size();
  }

  /** Announces every machine, idle. */
  void announceAll() {
    for (int i = 0; i < machines.size(); i++) {
      announce(i);
    }
  }

  /** Turns one machine, chosen at random, from idle to leased or back. */
  void flipOne() {
    int i = random.nextInt(machines.size());
    leasedTo[i] = leasedTo[i] == null ? "ui-build-" + (++builds) : null;
    announce(i);
  }

  /** What the page must show for each machine, by hostname: "idle" or "busy". */
  java.util.Map<String, String> expected() {
    java.util.Map<String, String> m = new java.util.HashMap<>();
    for (int i = 0; i < machines.size(); i++) {
      m.put(machines.get(i).hostname(), leasedTo[i] == null ? "idle" : "busy");
    }
    return m;
  }

  private void announce(int i) {
    BuildletInfo info = machines.get(i);
    sharding.entityRefFor(HostPool.ENTITY_KEY, info.hostType())
        .tell(new HostPool.BuildletUp(info, leasedTo[i] == null, leasedTo[i]));
  }
}
