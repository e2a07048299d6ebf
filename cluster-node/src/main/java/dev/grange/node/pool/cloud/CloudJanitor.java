package dev.grange.node.pool.cloud;

import dev.grange.node.pool.cloud.CloudPoolState.Owned;
import dev.grange.node.pool.cloud.CloudPoolState.Phase;
import dev.grange.node.pool.cloud.CloudPoolState.Reason;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What a {@link CloudPool}'s janitor concludes from what the cloud reports, as the events to
 * persist. Pure: the entity carries them out.
 */
final class CloudJanitor {
  private CloudJanitor() {}

  /** An instance asked for that neither the cloud lists nor a call is making after this long is forgotten. */
  static final Duration LOST_AFTER = Duration.ofMinutes(10);
  /** A listing may not show an instance made a moment ago: one missing from it is gone only once it is older than this. */
  static final Duration VANISH_GRACE = Duration.ofMinutes(1);

  /**
   * What one instance as the cloud reports it says ({@code owned}: the pool's record of it, null
   * when it owns none): one event, or null. {@code creating} and {@code deleting}: the instances
   * with a call under way.
   */
  static CloudPoolEvents.Event judge(Owned o, Instance i, Set<String> creating, Set<String> deleting, long now) {
    if (o == null) {
      return i.state() == InstanceState.GONE ? null
          : new CloudPoolEvents.Deleting(i.name(), i.hostType(), Reason.LEAKED.key(), "no live pool owns it (left by an earlier node or a crash)", now);
    }
    if (i.state() == InstanceState.GONE) {
      return o.phase() == Phase.DELETING ? (deleting.contains(i.name()) ? null : new CloudPoolEvents.Gone(i.name(), now))
          : new CloudPoolEvents.Deleting(i.name(), o.hostType(), Reason.FAILED.key(), "deleted outside the farm (" + i.detail() + ")", now);
    }
    if (o.phase() == Phase.DELETING) {
      return null;
    }
    if (i.state() == InstanceState.FAILED) {
      return new CloudPoolEvents.Deleting(i.name(), o.hostType(), Reason.FAILED.key(), i.detail(), now);
    }
    long deleteAt = i.deleteAtEpochSecond() > 0 ? i.deleteAtEpochSecond() : o.deleteAtEpochSecond();
    if (deleteAt > 0 && now / 1000 >= deleteAt) {
      return new CloudPoolEvents.Deleting(i.name(), o.hostType(), Reason.EXPIRED.key(), "past its delete-at " + deleteAt, now);
    }
    if (o.phase() == Phase.CREATING && !creating.contains(i.name())) {
      return new CloudPoolEvents.Created(i.name(), i.location(), now);
    }
    return null;
  }

  /**
   * A whole listing of the cloud's instances against what the pool owns: each listed instance
   * judged, and each owned one the listing lacks (with no call under way) gone: deleted ones
   * forgotten, one asked for {@link #LOST_AFTER} ago and never made forgotten, one that was made
   * and vanished (past {@link #VANISH_GRACE}) counted as failed.
   */
  static List<CloudPoolEvents.Event> reconcile(CloudPoolState s, Collection<Instance> listing, Set<String> creating,
      Set<String> deleting, long now) {
    Map<String, Instance> listed = listing.stream().collect(Collectors.toMap(Instance::name, i -> i, (a, b) -> b));
    List<CloudPoolEvents.Event> events = new ArrayList<>();
    for (Instance i : listed.values()) {
      CloudPoolEvents.Event e = judge(s.owned().get(i.name()), i, creating, deleting, now);
      if (e != null) {
        events.add(e);
      }
    }
    for (Owned o : s.owned().values()) {
      if (listed.containsKey(o.name()) || creating.contains(o.name()) || deleting.contains(o.name())) {
        continue;
      }
      if (o.phase() == Phase.DELETING) {
        events.add(new CloudPoolEvents.Gone(o.name(), now));
      } else if (o.phase() == Phase.CREATING) {
        if (now - o.requestedAtMs() > LOST_AFTER.toMillis()) {
          events.add(new CloudPoolEvents.CreateFailed(o.name(),
              "neither made nor being made " + LOST_AFTER.toMinutes() + " min after it was asked for", now));
        }
      } else if (now - Math.max(o.createdAtMs(), o.requestedAtMs()) > VANISH_GRACE.toMillis()) {
        events.add(new CloudPoolEvents.Deleting(o.name(), o.hostType(), Reason.FAILED.key(), "the cloud no longer has it", now));
        events.add(new CloudPoolEvents.Gone(o.name(), now));
      }
    }
    return events;
  }

  /**
   * The idle instances of {@code hostType} to retire: beyond its {@code warm} minimum, connected,
   * idle for {@code idleTimeout} or more, longest idle first.
   */
  static List<Map.Entry<String, Long>> idleToRetire(CloudPoolState s, String hostType, Map<String, Long> idleSince, int warm,
      Duration idleTimeout, long now) {
    int excess = s.live(hostType) - warm;
    List<Map.Entry<String, Long>> idle = new ArrayList<>(idleSince.entrySet());
    idle.sort(Map.Entry.comparingByValue());
    List<Map.Entry<String, Long>> out = new ArrayList<>();
    for (Map.Entry<String, Long> e : idle) {
      if (excess <= 0) {
        break;
      }
      Owned o = s.owned().get(e.getKey());
      if (o == null || o.phase() != Phase.CONNECTED || now - e.getValue() < idleTimeout.toMillis()) {
        continue;
      }
      out.add(e);
      excess--;
    }
    return out;
  }
}
