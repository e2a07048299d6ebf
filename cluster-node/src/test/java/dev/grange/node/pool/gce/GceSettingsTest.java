package dev.grange.node.pool.gce;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code grange.pools.gce} as {@code reference.conf} has it, and what start-up refuses. */
class GceSettingsTest {

  @Test
  void theReferenceConfigNeedsOnlyAProject() {
    GceProvider.Settings s = GceProvider.Settings.fromConfig(config(Map.of("project", "grange-prod")));
    assertEquals(GceProvider.Settings.of("grange-prod", ""), s);
    assertEquals(Duration.ofMinutes(5), s.operationTimeout());
    assertEquals("global/networks/default", s.network());
  }

  @Test
  void anEndpointKeepsItsSchemeAndLosesATrailingSlash() {
    assertEquals("http://127.0.0.1:8089", GceProvider.Settings.fromConfig(
        config(Map.of("project", "p-1", "endpoint", "http://127.0.0.1:8089/"))).endpoint());
  }

  @Test
  void badKeysAreRefusedByName() {
    refused(Map.of(), "grange.pools.gce.project");
    refused(Map.of("project", "p", "endpoint", "127.0.0.1:8089"), "grange.pools.gce.endpoint");
    refused(Map.of("project", "p", "endpoint", "http://127.0.0.1:8089/compute/v1"), "grange.pools.gce.endpoint");
    refused(Map.of("project", "p", "agent-url", "https://x/agent.tar.gz"), "grange.pools.gce.agent-sha256");
    refused(Map.of("project", "p", "agent-url", "https://x/agent.tar.gz", "agent-sha256", "abc"), "grange.pools.gce.agent-sha256");
    refused(Map.of("project", "p", "operation-timeout", "0s"), "grange.pools.gce.operation-timeout");
    refused(Map.of("project", "p", "retries", "-1"), "grange.pools.gce.retries");
    refused(Map.of("project", "p", "external-ip", "maybe"), "external-ip");
  }

  @Test
  void aCredentialsFileThatCannotBeReadStopsStartUp() {
    GceProvider.Settings s = GceProvider.Settings.fromConfig(
        config(Map.of("project", "p", "credentials-file", "/nonexistent/key.json")));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new GceProvider(s, Runnable::run));
    assertTrue(e.getMessage().contains("grange.pools.gce.credentials-file: cannot read /nonexistent/key.json"), e.getMessage());
  }

  private static void refused(Map<String, String> keys, String named) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GceProvider.Settings.fromConfig(config(keys)));
    assertTrue(e.getMessage().contains(named), e.getMessage());
  }

  private static Config config(Map<String, String> gce) {
    Map<String, Object> keys = new java.util.HashMap<>();
    gce.forEach((k, v) -> keys.put("grange.pools.gce." + k, v));
    return ConfigFactory.parseMap(keys).withFallback(ConfigFactory.defaultReference()).resolve();
  }
}
