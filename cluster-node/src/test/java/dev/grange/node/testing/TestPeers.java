package dev.grange.node.testing;

import dev.grange.node.Peers;
import dev.grange.node.buildlet.Buildlet;
import dev.grange.node.buildrun.BuildRun;
import dev.grange.node.pool.cloud.CloudPool;
import dev.grange.node.schedule.HostPool;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.RecipientRef;

/**
 * {@link Peers} made of test probes, one per entity id, created on first use: an entity under test
 * talks to these instead of sharded entities, and the test reads what it sent to whom.
 */
public final class TestPeers implements Peers {
  private final ActorTestKit kit;
  private final Map<String, TestProbe<HostPool.Command>> pools = new ConcurrentHashMap<>();
  private final Map<String, TestProbe<Buildlet.Command>> buildlets = new ConcurrentHashMap<>();
  private final Map<String, TestProbe<BuildRun.Command>> builds = new ConcurrentHashMap<>();
  private final Map<String, TestProbe<CloudPool.Command>> clouds = new ConcurrentHashMap<>();

  public TestPeers(ActorTestKit kit) {
    this.kit = kit;
  }

  public TestProbe<HostPool.Command> pool(String hostType) {
    return pools.computeIfAbsent(hostType, k -> kit.createTestProbe());
  }

  public TestProbe<Buildlet.Command> buildletProbe(String agentId) {
    return buildlets.computeIfAbsent(agentId, k -> kit.createTestProbe());
  }

  public TestProbe<BuildRun.Command> build(String buildId) {
    return builds.computeIfAbsent(buildId, k -> kit.createTestProbe());
  }

  public TestProbe<CloudPool.Command> cloud(String kind) {
    return clouds.computeIfAbsent(kind, k -> kit.createTestProbe());
  }

  @Override
  public RecipientRef<CloudPool.Command> cloudPool(String kind) {
    return cloud(kind).ref();
  }

  @Override
  public RecipientRef<HostPool.Command> hostPool(String hostType) {
    return pool(hostType).ref();
  }

  @Override
  public RecipientRef<Buildlet.Command> buildlet(String agentId) {
    return buildletProbe(agentId).ref();
  }

  @Override
  public RecipientRef<BuildRun.Command> buildRun(String buildId) {
    return build(buildId).ref();
  }

  /**
   * The next message a probe got, which must be of this class, after checking that it survives
   * jackson-cbor: between entities it crosses nodes.
   */
  /** The next message of {@code type}, passing over messages of the {@code ignored} types. */
  @SafeVarargs
  public final <M, T extends M> T expectSkipping(TestProbe<M> probe, Class<T> type, Class<? extends M>... ignored) {
    java.util.List<M> got =
        probe.fishForMessage(
            EntityTests.DEADLINE,
            m -> {
              for (Class<? extends M> c : ignored) {
                if (c.isInstance(m)) {
                  return org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.continueAndIgnore();
                }
              }
              return type.isInstance(m)
                  ? org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.complete()
                  : org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.fail("expected " + type.getSimpleName() + ", got " + m);
            });
    T m = type.cast(got.get(got.size() - 1));
    kit.serializationTestKit().verifySerialization(m, true);
    return m;
  }

  public <M, T extends M> T expect(TestProbe<M> probe, Class<T> type) {
    T m = probe.expectMessageClass(type, EntityTests.DEADLINE);
    kit.serializationTestKit().verifySerialization(m, true);
    return m;
  }
}
