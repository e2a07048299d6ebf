package dev.grange.node;

import com.typesafe.config.Config;

/**
 * How a node becomes a cluster member, decided from config before its actor system starts: it
 * joins itself (a cluster of one: no seed nodes, no bootstrap), the configured
 * {@code pekko.cluster.seed-nodes} ({@code bin/grange up --nodes N}), or whom Pekko Cluster
 * Bootstrap finds through discovery ({@code grange.node.cluster-bootstrap = on}: the Helm chart,
 * with Kubernetes API discovery). A node with both seed nodes and bootstrap is refused: Pekko
 * would join the seeds and bootstrap would do nothing, which hides the operator's mistake.
 */
enum ClusterJoin {
  SELF,
  SEED_NODES,
  BOOTSTRAP;

  static ClusterJoin fromConfig(Config config) {
    boolean bootstrap = config.getBoolean("grange.node.cluster-bootstrap");
    boolean seeds = !config.getStringList("pekko.cluster.seed-nodes").isEmpty();
    if (bootstrap && seeds) {
      throw new IllegalArgumentException(
          "grange.node.cluster-bootstrap = on and pekko.cluster.seed-nodes is not empty: a node joins either its seed nodes"
              + " or the nodes Cluster Bootstrap discovers; leave pekko.cluster.seed-nodes empty or turn bootstrap off");
    }
    return bootstrap ? BOOTSTRAP : seeds ? SEED_NODES : SELF;
  }
}
