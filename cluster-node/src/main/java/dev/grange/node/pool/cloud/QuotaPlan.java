package dev.grange.node.pool.cloud;

import dev.grange.protocol.schedule.SchedItem;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Which waiting builds get a new instance now, across the host types of one pool. Pure, so that
 * the rule is tested apart from clouds.
 *
 * <p>Each need is a build that no idle machine and no instance on its way will serve. In the order
 * builds are served ({@link SchedItem#ORDER}), a need whose cost fits what is left of the quota gets
 * an instance; one that does not fit awaits quota, and the needs after it are still considered, so
 * that quota never sits free while something that fits waits (the Go farm's builds stuck waiting
 * with quota free). So that a big need is not starved by a stream of small ones, once it has
 * waited {@code patience} nothing after it is given quota until it fits.
 */
public final class QuotaPlan {
  private QuotaPlan() {}

  /** A build that needs a new instance of {@code hostType}. */
  public record Need(String hostType, String buildId, SchedItem item, long waitingSinceMs, Cost cost) {}

  /** {@code create}: instances to ask for now, best first; {@code awaiting}: needs left waiting, with the reason. */
  public record Plan(List<Need> create, Map<String, String> awaiting) {}

  private static final Comparator<Need> ORDER = Comparator.comparing(Need::item, SchedItem.ORDER);

  public static Plan plan(Quota quota, Collection<Cost> used, Collection<Need> needs, long nowMs, Duration patience) {
    Quota.Left left = quota.left(used);
    List<Need> sorted = new ArrayList<>(needs);
    sorted.sort(ORDER);
    List<Need> create = new ArrayList<>();
    Map<String, String> awaiting = new java.util.LinkedHashMap<>();
    String blockedBy = null;
    for (Need n : sorted) {
      if (blockedBy != null) {
        awaiting.put(n.buildId(), "awaiting quota: " + blockedBy + " waits first");
        continue;
      }
      String short_ = left.shortOf(n.cost());
      if (short_ == null) {
        left.take(n.cost());
        create.add(n);
      } else {
        awaiting.put(n.buildId(), "awaiting quota: " + short_);
        if (nowMs - n.waitingSinceMs() >= patience.toMillis()) {
          blockedBy = n.buildId();
        }
      }
    }
    return new Plan(List.copyOf(create), Map.copyOf(awaiting));
  }

  /**
   * The needs of one host type: its waiters (best first) are served by the instances on their way
   * in the order those were asked for (each such waiter's reason says which, and whether it is
   * being made or its agent is booting); each other waiter needs an instance, and so does each
   * instance missing from the {@code warm} minimum. Adds to {@code wanted} and {@code why}.
   */
  static void needs(CloudPoolState s, String hostType, Cost cost, List<CloudPool.Waiting> waiting, int warm, long now,
      List<Need> wanted, Map<String, String> why) {
    List<CloudPoolState.Owned> way = s.owned().values().stream()
        .filter(o -> o.hostType().equals(hostType)
            && (o.phase() == CloudPoolState.Phase.CREATING || o.phase() == CloudPoolState.Phase.BOOTING))
        .sorted(Comparator.comparingLong(CloudPoolState.Owned::requestedAtMs)).toList();
    for (int i = 0; i < Math.min(way.size(), waiting.size()); i++) {
      CloudPoolState.Owned o = way.get(i);
      why.put(waiting.get(i).buildId(), o.phase() == CloudPoolState.Phase.CREATING ? "creating instance " + o.name()
          : "waiting for the agent of " + o.name() + " to dial in");
    }
    for (int i = way.size(); i < waiting.size(); i++) {
      CloudPool.Waiting w = waiting.get(i);
      wanted.add(new Need(hostType, w.buildId(), w.item(), w.sinceMs(), cost));
    }
    int missingWarm = warm - s.live(hostType) - Math.max(0, waiting.size() - way.size());
    for (int i = 0; i < missingWarm; i++) {
      String id = "warm:" + hostType + ":" + i;
      wanted.add(new Need(hostType, id, new SchedItem(dev.grange.protocol.schedule.PriorityClass.POST_SUBMIT, now, 0, "", id), now, cost));
    }
  }
}
