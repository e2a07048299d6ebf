package dev.grange.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class UpClusterTest {
  /** grange-up.conf as Main reads it: with the demo repository's url, which it sets at start (DemoRepo). */
  private static final Config UP = ConfigFactory.parseString("grange.repos.demo.url = \"/srv/demo-repo\"")
      .withFallback(ConfigFactory.parseResources("grange-up.conf")).withFallback(ConfigFactory.load()).resolve();

  @Test
  void memberKOfThreeListensOnTheBasePortsPlusKMinusOneAndSeedsWithAllThree() {
    Config c = UpCluster.memberConfig(UP, 2, 3, "127.0.0.1:9042");
    assertEquals(8081, c.getInt("grange.node.http.port"));
    assertEquals(2553, c.getInt("pekko.remote.artery.canonical.port"));
    assertEquals(8559, c.getInt("pekko.management.http.port"));
    assertEquals(List.of("pekko://grange@127.0.0.1:2552", "pekko://grange@127.0.0.1:2553", "pekko://grange@127.0.0.1:2554"),
        c.getStringList("pekko.cluster.seed-nodes"));
    assertEquals(List.of("127.0.0.1:9042"), c.getStringList("datastax-java-driver.basic.contact-points"));
    assertFalse(c.getBoolean("grange.store.embedded"));
  }

  @Test
  void eachMembersAgentsDialItFirstThenTheOthersInTurn() {
    assertEquals(List.of("ws://127.0.0.1:8080", "ws://127.0.0.1:8081", "ws://127.0.0.1:8082"),
        NodeSettings.fromConfig(member(1)).agentUrls());
    assertEquals(List.of("ws://127.0.0.1:8082", "ws://127.0.0.1:8080", "ws://127.0.0.1:8081"),
        NodeSettings.fromConfig(member(3)).agentUrls());
  }

  @Test
  void membersHaveTheirOwnVarDirAndShareTheMasterKey() {
    assertEquals(Path.of("var", "node-3").toString(), member(3).getString("grange.node.var-dir"));
    assertEquals(member(1).getString("grange.node.master-key-file"), member(3).getString("grange.node.master-key-file"));
    assertEquals(Path.of("var/master.key").toAbsolutePath().toString(), member(2).getString("grange.node.master-key-file"));
  }

  @Test
  void aMemberOutsideTheClusterIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> UpCluster.memberConfig(UP, 4, 3, "127.0.0.1:9042"));
    assertThrows(IllegalArgumentException.class, () -> UpCluster.memberConfig(UP, 1, UpCluster.MAX_NODES + 1, "127.0.0.1:9042"));
  }

  @Test
  void theExampleConfigsLocal1To3AreTheClusterUpComputes() {
    for (int k = 1; k <= 3; k++) {
      Config byHand = ConfigFactory.parseResources("local" + k + ".conf").withFallback(ConfigFactory.defaultReference()).resolve();
      Config up = member(k);
      for (String key : List.of("grange.node.http.port", "pekko.remote.artery.canonical.port", "pekko.management.http.port")) {
        assertEquals(up.getInt(key), byHand.getInt(key), "local" + k + ".conf " + key);
      }
      for (String key : List.of("pekko.cluster.seed-nodes", "grange.node.agent-urls", "datastax-java-driver.basic.contact-points")) {
        assertEquals(up.getStringList(key), byHand.getStringList(key), "local" + k + ".conf " + key);
      }
      assertEquals(up.getString("grange.node.var-dir"), byHand.getString("grange.node.var-dir"));
      assertFalse(byHand.getBoolean("grange.store.embedded"));
      assertEquals(UP.getConfig("grange.hosts"), byHand.getConfig("grange.hosts"));
    }
  }

  private static Config member(int k) {
    return ConfigFactory.parseString("grange.node.master-key = \"0123456789abcdef0123456789abcdef\"")
        .withFallback(UpCluster.memberConfig(UP, k, 3, "127.0.0.1:9042"));
  }
}
