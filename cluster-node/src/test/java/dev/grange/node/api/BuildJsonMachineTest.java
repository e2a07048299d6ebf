package dev.grange.node.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.grange.node.buildlet.BuildletInfo;
import dev.grange.node.buildlet.BuildletState;
import dev.grange.node.schedule.HostPool;
import org.junit.jupiter.api.Test;

/** A machine of {@code GET /api/v1/buildlets}: its infrastructure failures, and its quarantine or null. */
class BuildJsonMachineTest {
  private static final BuildletInfo INFO = new BuildletInfo("a1", "linux-amd64", "h1", 1, "", "linux", "amd64", 2, "/w", "n", 0);

  @Test
  void aQuarantinedMachineShowsSinceWhenAndWhy() {
    BuildletState.Health sick = new BuildletState.Health(5, 3, new BuildletState.Quarantine("3 infrastructure failures within PT1H", 1_800_000_000_000L));

    ObjectNode m = BuildJson.machine(new HostPool.Machine(INFO, false, null, sick));

    assertEquals("quarantined", m.get("state").asText());
    assertEquals(5, m.get("infraFailures").get("total").asLong());
    assertEquals(3, m.get("infraFailures").get("inWindow").asInt());
    assertEquals("2027-01-15T08:00:00Z", m.get("quarantined").get("since").asText());
    assertEquals(1_800_000_000_000L, m.get("quarantined").get("sinceMs").asLong());
    assertEquals("3 infrastructure failures within PT1H", m.get("quarantined").get("reason").asText());
  }

  @Test
  void aHealthyMachineShowsItsFailuresAndNoQuarantine() {
    ObjectNode m = BuildJson.machine(new HostPool.Machine(INFO, true, null, new BuildletState.Health(1, 0, null)));

    assertEquals("idle", m.get("state").asText());
    assertEquals(1, m.get("infraFailures").get("total").asLong());
    assertTrue(m.has("quarantined") && m.get("quarantined").isNull());
  }
}
