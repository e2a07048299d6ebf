package dev.grange.node.pool.cloud;

import dev.grange.node.pool.cloud.CloudPoolEvents.Connected;
import dev.grange.node.pool.cloud.CloudPoolEvents.CreateFailed;
import dev.grange.node.pool.cloud.CloudPoolEvents.Created;
import dev.grange.node.pool.cloud.CloudPoolEvents.Deleting;
import dev.grange.node.pool.cloud.CloudPoolEvents.Gone;
import dev.grange.node.pool.cloud.CloudPoolEvents.Requested;
import dev.grange.protocol.CborSerializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The instances a {@link CloudPool} owns and what became of the others: for each deletion reason,
 * how many; creations asked for and failed.
 */
public record CloudPoolState(Map<String, Owned> owned, Map<String, Long> deletions, long requested, long createFailures)
    implements CborSerializable {

  /** Why an instance is deleted (the counters' keys). */
  public enum Reason {
    /** Its agent did not connect within the host type's boot timeout. */
    BOOT_TIMEOUT,
    /** The cloud reports it failed (a pod Failed or stuck pulling its image, a VM terminated). */
    FAILED,
    /** Past its delete-at label. */
    EXPIRED,
    /** No live pool owns it: left by an earlier node generation or a crash. */
    LEAKED,
    /** Idle for the idle timeout above the warm minimum. */
    IDLE,
    /** A hermetic host type's instance after its one build. */
    HERMETIC,
    /** Its agent went away and did not come back. */
    AGENT_GONE;

    public String key() {
      return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
  }

  public enum Phase { CREATING, BOOTING, CONNECTED, DELETING }

  /** One instance: its cost counts against the quota until it is {@link Phase#DELETING}. */
  public record Owned(String name, String hostType, Cost cost, String forBuild, long requestedAtMs, long createdAtMs,
      String location, long connectedAtMs, long deleteAtEpochSecond, Phase phase, String why) implements CborSerializable {
    Owned with(Phase p) {
      return new Owned(name, hostType, cost, forBuild, requestedAtMs, createdAtMs, location, connectedAtMs, deleteAtEpochSecond, p, why);
    }
  }

  public CloudPoolState {
    owned = Map.copyOf(owned);
    deletions = Map.copyOf(deletions);
  }

  public static CloudPoolState empty() {
    return new CloudPoolState(Map.of(), Map.of(), 0, 0);
  }

  /** What the quota counts: every instance not being deleted. */
  public List<Cost> used() {
    List<Cost> out = new ArrayList<>();
    for (Owned o : owned.values()) {
      if (o.phase() != Phase.DELETING) {
        out.add(o.cost());
      }
    }
    return out;
  }

  /** Instances of {@code hostType} on their way: asked for or booting. */
  public int onTheirWay(String hostType) {
    int n = 0;
    for (Owned o : owned.values()) {
      if (o.hostType().equals(hostType) && (o.phase() == Phase.CREATING || o.phase() == Phase.BOOTING)) {
        n++;
      }
    }
    return n;
  }

  /** Instances of {@code hostType} that count: all but those being deleted. */
  public int live(String hostType) {
    int n = 0;
    for (Owned o : owned.values()) {
      if (o.hostType().equals(hostType) && o.phase() != Phase.DELETING) {
        n++;
      }
    }
    return n;
  }

  public CloudPoolState apply(CloudPoolEvents.Event e) {
    Map<String, Owned> o = new LinkedHashMap<>(owned);
    Map<String, Long> d = deletions;
    long req = requested;
    long failed = createFailures;
    if (e instanceof Requested r) {
      o.put(r.name(), new Owned(r.name(), r.hostType(), r.cost(), r.forBuild(), r.atMs(), 0, "", 0, r.deleteAtEpochSecond(),
          Phase.CREATING, ""));
      req++;
    } else if (e instanceof Created c) {
      Owned was = o.get(c.name());
      if (was != null) {
        o.put(c.name(), new Owned(was.name(), was.hostType(), was.cost(), was.forBuild(), was.requestedAtMs(), c.atMs(), c.location(),
            0, was.deleteAtEpochSecond(), was.phase() == Phase.CREATING ? Phase.BOOTING : was.phase(), was.why()));
      }
    } else if (e instanceof CreateFailed f) {
      if (o.remove(f.name()) != null) {
        failed++;
      }
    } else if (e instanceof Connected c) {
      Owned was = o.get(c.name());
      if (was != null && was.phase() != Phase.DELETING) {
        o.put(c.name(), new Owned(was.name(), was.hostType(), was.cost(), was.forBuild(), was.requestedAtMs(), was.createdAtMs(),
            was.location(), c.atMs(), was.deleteAtEpochSecond(), Phase.CONNECTED, was.why()));
      }
    } else if (e instanceof Deleting x) {
      Owned was = o.get(x.name());
      if (was == null) {
        o.put(x.name(), new Owned(x.name(), x.hostType(), Cost.NONE, "", 0, 0, "", 0, 0, Phase.DELETING, x.why()));
      } else {
        o.put(x.name(), new Owned(was.name(), was.hostType(), was.cost(), was.forBuild(), was.requestedAtMs(), was.createdAtMs(),
            was.location(), was.connectedAtMs(), was.deleteAtEpochSecond(), Phase.DELETING, x.why()));
      }
      if (was == null || was.phase() != Phase.DELETING) {
        Map<String, Long> nd = new LinkedHashMap<>(d);
        nd.merge(x.reason(), 1L, Long::sum);
        d = nd;
      }
    } else if (e instanceof Gone g) {
      o.remove(g.name());
    } else {
      throw new IllegalArgumentException("unknown event " + e);
    }
    return new CloudPoolState(o, d, req, failed);
  }
}
