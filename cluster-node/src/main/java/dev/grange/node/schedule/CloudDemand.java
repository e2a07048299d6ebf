package dev.grange.node.schedule;

import dev.grange.node.buildrun.BuildRunEvents.Stage;
import dev.grange.node.pool.cloud.CloudPool;
import dev.grange.node.schedule.HostPool.InstanceMade;
import dev.grange.node.schedule.HostPool.Machine;
import dev.grange.node.schedule.HostPoolEvents.Waiter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** What a {@link HostPool} of a cloud host type tells its cloud pool and its builds. Pure. */
final class CloudDemand {
  private CloudDemand() {}

  /**
   * The waiters no free machine will serve (the best ones are served first) and the idle
   * instances. Free: idle, or connected and neither leased, quarantined nor retiring (a fresh one
   * still being wiped): counting those keeps the cloud pool from making a second instance for a
   * build whose first one has just connected. Machines and builds with a lease under way are
   * neither free nor waiting.
   */
  static CloudPool.Needs needs(String hostType, Collection<Machine> machines, Set<String> offeredBuildlets, Set<String> retiring,
      List<Waiter> waiters, Set<String> offeringBuilds, Map<String, Long> stateSince) {
    int free = 0;
    Map<String, Long> idleSince = new HashMap<>();
    for (Machine m : machines) {
      String id = m.info().agentId();
      if (offeredBuildlets.contains(id) || retiring.contains(id) || m.quarantined()) {
        continue;
      }
      if (m.idle() || m.leasedTo() == null) {
        free++;
      }
      if (m.idle() && m.info().instance() != null) {
        idleSince.put(m.info().instance(), stateSince.getOrDefault(id, m.info().connectedAtMs()));
      }
    }
    List<CloudPool.Waiting> waiting = new ArrayList<>();
    for (Waiter w : waiters) {
      if (offeringBuilds.contains(w.buildId())) {
        continue;
      }
      if (free > 0) {
        free--;
        continue;
      }
      waiting.add(new CloudPool.Waiting(w.buildId(), w.item(), w.item().requestedAtMs()));
    }
    return new CloudPool.Needs(hostType, waiting, idleSince);
  }

  /**
   * How the waiter got its buildlet: queued until {@code now}, and when the machine is a fresh
   * cloud instance ({@code made}: its times, on its first build; null otherwise), the instance's
   * creation and its agent's boot.
   */
  static List<Stage> stages(Waiter w, Machine m, InstanceMade made, long now) {
    List<Stage> out = new ArrayList<>();
    out.add(new Stage("get_buildlet", w.item().requestedAtMs(), now));
    if (made != null && m != null) {
      long created = made.createdAtMs() > 0 ? made.createdAtMs() : m.info().connectedAtMs();
      long connected = m.info().connectedAtMs() > 0 ? m.info().connectedAtMs() : now;
      out.add(new Stage("create_instance", made.requestedAtMs(), Math.min(created, connected)));
      out.add(new Stage("wait_agent", Math.min(created, connected), connected));
    }
    return out;
  }
}
