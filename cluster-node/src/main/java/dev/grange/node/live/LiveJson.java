package dev.grange.node.live;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.grange.node.api.ApiErrors;
import dev.grange.node.api.BuildJson;
import dev.grange.node.schedule.HostPool;
import dev.grange.node.schedule.HostPoolEvents;

/**
 * The JSON the pool page shows, made from a pool's view: its summary, its machines and its queue
 * (each waiter with why it waits). Shared by {@code /api/v1/pools} and the live feed, so the page
 * and the API never disagree.
 */
public final class LiveJson {
  private LiveJson() {}

  /** The summary line of a pool. */
  public static ObjectNode pool(HostPool.PoolView v, long now) {
    ObjectNode p = ApiErrors.JSON.createObjectNode();
    p.put("hostType", v.hostType());
    p.put("pool", v.pool());
    p.put("expected", v.expected());
    p.put("connected", v.machines().size());
    p.put("idle", v.machines().stream().filter(HostPool.Machine::idle).count());
    p.put("busy", v.machines().stream().filter(m -> m.leasedTo() != null).count());
    p.put("quarantined", v.machines().stream().filter(HostPool.Machine::quarantined).count());
    p.put("waiting", v.waiters().size());
    long oldest = v.waiters().stream().mapToLong(w -> w.item().requestedAtMs()).min().orElse(0);
    if (oldest > 0) {
      p.put("oldestWaitSinceMs", oldest);
      p.put("oldestWaitMs", Math.max(0, now - oldest));
    } else {
      p.putNull("oldestWaitSinceMs");
    }
    p.put("served", v.served());
    p.put("creating", v.creating());
    if (v.limit() > 0) {
      p.put("quotaUsed", v.machines().size() + v.creating());
      p.put("quotaLimit", v.limit());
    } else {
      p.putNull("quotaLimit");
    }
    p.put("notes", v.notes());
    ArrayNode missing = p.putArray("missing");
    int shortBy = v.expected() - v.machines().size();
    for (HostPool.Departed d : v.departed()) {
      if (missing.size() >= Math.max(0, shortBy)) {
        break;
      }
      ObjectNode m = missing.addObject();
      m.put("hostname", d.hostname());
      m.put("goneAtMs", d.goneAtMs());
      m.put("cause", d.cause());
    }
    p.put("missingUnnamed", Math.max(0, shortBy - missing.size()));
    return p;
  }

  /** One machine as the pool page shows it: the API's buildlet and when its state began. */
  public static ObjectNode machine(HostPool.PoolView v, HostPool.Machine m) {
    ObjectNode b = BuildJson.machine(m);
    b.put("stateSinceMs", v.since(m));
    return b;
  }

  /** The queue of a pool in the order it serves, each waiter with why it waits. */
  public static ObjectNode queue(HostPool.PoolView v, long now) {
    ObjectNode q = ApiErrors.JSON.createObjectNode();
    q.put("hostType", v.hostType());
    ArrayNode w = q.putArray("waiters");
    for (HostPoolEvents.Waiter x : v.waiters()) {
      ObjectNode n = BuildJson.waiter(x, now);
      n.put("why", why(v, x));
      w.add(n);
    }
    return q;
  }

  /** Why a waiter waits, in words for the queues page. */
  static String why(HostPool.PoolView v, HostPoolEvents.Waiter w) {
    String told = v.waitReasons().get(w.buildId());
    if (told != null) {
      return told;
    }
    long idle = v.machines().stream().filter(HostPool.Machine::idle).count();
    if (idle > 0) {
      boolean onlyAvoided = v.machines().stream().filter(HostPool.Machine::idle).allMatch(m -> w.avoid().contains(m.info().agentId()));
      return onlyAvoided ? "waits for a machine its failed attempt did not run on" : "a machine is being leased to it";
    }
    if (v.creating() > 0) {
      return "instance being created (" + v.creating() + " starting)";
    }
    if (v.limit() > 0 && v.machines().size() >= v.limit()) {
      return "quota: " + v.machines().size() + " of " + v.limit() + " machines, all busy";
    }
    if (v.machines().isEmpty()) {
      return v.pool().equals("reverse") ? "no machine connected" : "no machine yet";
    }
    long quarantined = v.machines().stream().filter(HostPool.Machine::quarantined).count();
    if (quarantined == v.machines().size()) {
      return "every machine is quarantined";
    }
    return "no machine free (" + (v.machines().size() - quarantined) + " busy)";
  }

  static String text(JsonNode n) {
    return n.toString();
  }
}
