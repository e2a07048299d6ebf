package dev.grange.node.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.grange.node.api.ApiSettings;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The outage keys of reference.conf: their defaults, and bad values refused naming the key. */
class StoreSettingsTest {
  @Test
  void defaultsAreAProbeASecondAFiveSecondAskAndFiveMinutesOfLogWrites() {
    var c = ConfigFactory.load();
    StoreHealth.Settings h = StoreHealth.Settings.fromConfig(c);
    assertEquals(Duration.ofSeconds(1), h.probeInterval());
    assertEquals(Duration.ofSeconds(2), h.probeTimeout());
    assertEquals(2, h.failuresBeforeDown());
    assertEquals(Duration.ofMinutes(5), LogStore.writeDeadline(c));
    assertEquals(Duration.ofSeconds(5), ApiSettings.fromConfig(c).askTimeout());
    assertEquals(Duration.ofMinutes(10), ApiSettings.fromConfig(c).logOutageDeadline());
  }

  @Test
  void badValuesAreRefusedNamingTheKey() {
    String m = assertThrows(IllegalArgumentException.class, () -> StoreHealth.Settings.fromConfig(
        ConfigFactory.parseString("grange.store.health.probe-interval = 0s").withFallback(ConfigFactory.load()))).getMessage();
    assertTrue(m.contains("grange.store.health.probe-interval"), m);
    m = assertThrows(IllegalArgumentException.class, () -> StoreHealth.Settings.fromConfig(
        ConfigFactory.parseString("grange.store.health.failures-before-down = 0").withFallback(ConfigFactory.load()))).getMessage();
    assertTrue(m.contains("grange.store.health.failures-before-down"), m);
    m = assertThrows(IllegalArgumentException.class, () -> LogStore.writeDeadline(
        ConfigFactory.parseString("grange.store.log-write-deadline = -1s").withFallback(ConfigFactory.load()))).getMessage();
    assertTrue(m.contains("grange.store.log-write-deadline"), m);
    m = assertThrows(IllegalArgumentException.class, () -> ApiSettings.fromConfig(
        ConfigFactory.parseString("grange.node.api.ask-timeout = 0ms").withFallback(ConfigFactory.load()))).getMessage();
    assertTrue(m.contains("grange.node.api.ask-timeout"), m);
    m = assertThrows(IllegalArgumentException.class, () -> ApiSettings.fromConfig(
        ConfigFactory.parseString("grange.node.api.ask-timeout = soon").withFallback(ConfigFactory.load()))).getMessage();
    assertTrue(m.contains("ask-timeout"), m);
  }

  @Test
  void aDownStatusSaysSinceWhenAndWhy() {
    StoreHealth.Status s = new StoreHealth.Status(false, 0, "NoNodeAvailableException: No node was available", 0, 3);
    assertEquals("since 1970-01-01T00:00:00Z: NoNodeAvailableException: No node was available", s.describe());
  }
}
