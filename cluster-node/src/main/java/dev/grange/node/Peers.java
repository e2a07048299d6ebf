package dev.grange.node;

import dev.grange.node.buildlet.Buildlet;
import dev.grange.node.buildrun.BuildRun;
import dev.grange.node.pool.cloud.CloudPool;
import dev.grange.node.schedule.HostPool;
import org.apache.pekko.actor.typed.RecipientRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * How one entity addresses the others by id. In a node every address is a Cluster Sharding
 * {@code EntityRef} ({@link #sharded}); a unit test of one entity gives probes instead, so the
 * entity runs without a cluster and the test sees every message it sends to its peers.
 */
public interface Peers {

  /** The {@link HostPool} of a host type. */
  RecipientRef<HostPool.Command> hostPool(String hostType);

  /** The {@link Buildlet} of an agent. */
  RecipientRef<Buildlet.Command> buildlet(String agentId);

  /** The {@link BuildRun} of a build. */
  RecipientRef<BuildRun.Command> buildRun(String buildId);

  /** The {@link CloudPool} of a pool kind ({@code kubernetes}, {@code gce}). */
  RecipientRef<CloudPool.Command> cloudPool(String kind);

  /** The entities as a node runs them: sharded. */
  static Peers sharded(ClusterSharding sharding) {
    return new Peers() {
      @Override
      public RecipientRef<HostPool.Command> hostPool(String hostType) {
        return sharding.entityRefFor(HostPool.ENTITY_KEY, hostType);
      }

      @Override
      public RecipientRef<Buildlet.Command> buildlet(String agentId) {
        return sharding.entityRefFor(Buildlet.ENTITY_KEY, agentId);
      }

      @Override
      public RecipientRef<BuildRun.Command> buildRun(String buildId) {
        return sharding.entityRefFor(BuildRun.ENTITY_KEY, buildId);
      }

      @Override
      public RecipientRef<CloudPool.Command> cloudPool(String kind) {
        return sharding.entityRefFor(CloudPool.ENTITY_KEY, kind);
      }
    };
  }
}
