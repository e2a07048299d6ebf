package dev.grange.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;

/** How a node joins its cluster: itself, its seed nodes, or the peers Cluster Bootstrap finds. */
class ClusterJoinTest {
  private static Config config(String s) {
    return ConfigFactory.parseString(s).withFallback(ConfigFactory.load()).resolve();
  }

  @Test
  void withoutSeedsOrBootstrapANodeJoinsItself() {
    assertEquals(ClusterJoin.SELF, ClusterJoin.fromConfig(config("")));
  }

  @Test
  void seedNodesAreJoinedWhenConfigured() {
    assertEquals(ClusterJoin.SEED_NODES, ClusterJoin.fromConfig(config("pekko.cluster.seed-nodes = [\"pekko://grange@127.0.0.1:2552\"]")));
  }

  @Test
  void bootstrapNeverJoinsItselfAtStart() {
    assertEquals(ClusterJoin.BOOTSTRAP, ClusterJoin.fromConfig(config("grange.node.cluster-bootstrap = on")));
  }

  @Test
  void bootstrapWithSeedNodesIsRefusedNamingBothKeys() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ClusterJoin.fromConfig(
        config("grange.node.cluster-bootstrap = on\npekko.cluster.seed-nodes = [\"pekko://grange@127.0.0.1:2552\"]")));
    assertTrue(e.getMessage().contains("grange.node.cluster-bootstrap") && e.getMessage().contains("pekko.cluster.seed-nodes"), e.getMessage());
  }
}
