package dev.grange.node.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.grange.node.buildlet.BuildletInfo;
import dev.grange.node.buildlet.BuildletState;
import dev.grange.node.schedule.HostPool;
import dev.grange.node.schedule.HostPoolEvents;
import dev.grange.protocol.schedule.PriorityClass;
import dev.grange.protocol.schedule.SchedItem;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the pool and queues pages show of a pool: shortfall named, the oldest wait, and why each build waits. */
class LiveJsonTest {
  private static final long NOW = 1_800_000_000_000L;

  @Test
  void aPoolShortOfItsExpectedMachinesNamesTheOnesThatLeftNewestFirst() {
    HostPool.PoolView v = view(3, List.of(machine("a1", true, null)), List.of(),
        List.of(new HostPool.Departed("a3", "box-3", NOW - 1000, "socket closed"), new HostPool.Departed("a2", "box-2", NOW - 5000, "killed")));

    JsonNode p = LiveJson.pool(v, NOW);

    assertEquals(1, p.get("connected").asInt());
    assertEquals(List.of("box-3", "box-2"), List.of(p.get("missing").get(0).get("hostname").asText(), p.get("missing").get(1).get("hostname").asText()));
    assertEquals(0, p.get("missingUnnamed").asInt());
  }

  @Test
  void machinesNeverSeenAreCountedNotNamedAndAFullPoolNamesNone() {
    assertEquals(2, LiveJson.pool(view(3, List.of(machine("a1", true, null)), List.of(), List.of()), NOW).get("missingUnnamed").asInt());
    HostPool.PoolView full = view(1, List.of(machine("a1", true, null)), List.of(),
        List.of(new HostPool.Departed("a2", "box-2", NOW - 1000, "gone")));
    assertEquals(0, LiveJson.pool(full, NOW).get("missing").size());
  }

  @Test
  void theOldestWaitIsTheEarliestRequest() {
    HostPool.PoolView v = view(1, List.of(machine("a1", false, "b0")), List.of(waiter("b1", NOW - 7000), waiter("b2", NOW - 2000)), List.of());
    JsonNode p = LiveJson.pool(v, NOW);
    assertEquals(NOW - 7000, p.get("oldestWaitSinceMs").asLong());
    assertEquals(7000, p.get("oldestWaitMs").asLong());
  }

  @Test
  void eachWaiterSaysWhyItWaits() {
    assertEquals("no machine connected", why(view(1, List.of(), List.of(waiter("b1", NOW)), List.of())));
    assertEquals("no machine free (2 busy)",
        why(view(2, List.of(machine("a1", false, "x"), machine("a2", false, "y")), List.of(waiter("b1", NOW)), List.of())));
    assertEquals("a machine is being leased to it", why(view(1, List.of(machine("a1", true, null)), List.of(waiter("b1", NOW)), List.of())));
    HostPool.Machine sick = new HostPool.Machine(info("a1"), false, null,
        new BuildletState.Health(3, 3, new BuildletState.Quarantine("3 infrastructure failures", NOW)));
    assertEquals("every machine is quarantined", why(view(1, List.of(sick), List.of(waiter("b1", NOW)), List.of())));
  }

  @Test
  void aPoolThatCreatesMachinesSaysWhenOneIsOnItsWayAndWhenItsQuotaIsReached() {
    HostPool.PoolView starting = new HostPool.PoolView("linux-amd64", "local", 0, List.of(machine("a1", false, "x")),
        List.of(waiter("b1", NOW)), 9, Map.of(), List.of(), "", 2, 4);
    assertEquals("instance being created (2 starting)", why(starting));
    JsonNode p = LiveJson.pool(starting, NOW);
    assertEquals(2, p.get("creating").asInt());
    assertEquals(3, p.get("quotaUsed").asInt());
    assertEquals(4, p.get("quotaLimit").asInt());
    HostPool.PoolView full = new HostPool.PoolView("linux-amd64", "local", 0, List.of(machine("a1", false, "x"), machine("a2", false, "y")),
        List.of(waiter("b1", NOW)), 9, Map.of(), List.of(), "", 0, 2);
    assertEquals("quota: 2 of 2 machines, all busy", why(full));
    assertTrue(LiveJson.pool(view(1, List.of(), List.of(), List.of()), NOW).get("quotaLimit").isNull(), "a reverse pool has no quota");
  }

  private static String why(HostPool.PoolView v) {
    return LiveJson.queue(v, NOW).get("waiters").get(0).get("why").asText();
  }

  private static HostPool.PoolView view(int expected, List<HostPool.Machine> machines, List<HostPoolEvents.Waiter> waiters,
      List<HostPool.Departed> departed) {
    return new HostPool.PoolView("linux-amd64", "reverse", expected, machines, waiters, 9, Map.of(), departed, "");
  }

  private static HostPool.Machine machine(String id, boolean idle, String leasedTo) {
    return new HostPool.Machine(info(id), idle, leasedTo);
  }

  private static BuildletInfo info(String id) {
    return new BuildletInfo(id, "linux-amd64", "host-" + id, 1, "", "linux", "amd64", 2, "/w", "n", NOW - 60_000);
  }

  private static HostPoolEvents.Waiter waiter(String build, long at) {
    return new HostPoolEvents.Waiter(build, new SchedItem(PriorityClass.TRY, at, at, "main", build), "b", "rev", "u");
  }
}
