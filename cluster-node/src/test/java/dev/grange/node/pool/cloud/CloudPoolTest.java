package dev.grange.node.pool.cloud;

import static dev.grange.node.testing.EntityTests.receiveUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grange.node.pool.cloud.CloudPoolState.Phase;
import dev.grange.node.schedule.HostPool;
import dev.grange.node.testing.EntityTests;
import dev.grange.node.testing.TestPeers;
import dev.grange.protocol.model.HostTypeSpec;
import dev.grange.protocol.model.KubernetesPoolSpec;
import dev.grange.protocol.model.PoolKind;
import dev.grange.protocol.schedule.PriorityClass;
import dev.grange.protocol.schedule.SchedItem;
import dev.grange.protocol.wire.Handshake;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The {@link CloudPool} with a provider the test drives and probes for its host pools: instances
 * are asked for in the order builds are served while the quota allows, the rest await quota and
 * their pool is told why; an instance whose agent never connects is deleted at its boot timeout
 * and its build gets another; the janitor deletes leaked, failed and expired instances; a released
 * instance's quota is free at once; calls keep to the API rate; a failed create backs off; what it
 * owns survives a restart.
 */
@ExtendWith(TestKitJUnit5Extension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CloudPoolTest {
  private static final AtomicInteger N = new AtomicInteger();
  private static final byte[] MASTER = "cloud-pool-test-master-key-0123456789".getBytes(StandardCharsets.US_ASCII);

  @JUnit5TestKit final ActorTestKit testKit = EntityTests.testKit();

  private TestPeers peers;
  private FakeProvider provider;
  private String hostType;

  private static HostTypeSpec kube(String name, long bootMs, boolean hermetic) {
    return new HostTypeSpec(name, PoolKind.KUBERNETES, 0, 1, "", null, new KubernetesPoolSpec("img:1", "2", "4Gi", Map.of(), List.of()),
        null, bootMs, hermetic);
  }

  private static CloudPoolSettings settings(Quota quota, double rate, Duration janitor, Map<String, Integer> warm) {
    return new CloudPoolSettings(quota, rate, janitor, Duration.ofMinutes(10), Duration.ofHours(6), Duration.ofMinutes(2),
        Duration.ofMinutes(1), CloudPoolSettings.Backoff.DEFAULT, warm, List.of("ws://127.0.0.1:1"), MASTER);
  }

  private EventSourcedBehaviorTestKit<CloudPool.Command, CloudPoolEvents.Event, CloudPoolState> start(HostTypeSpec spec,
      CloudPoolSettings s) {
    peers = new TestPeers(testKit);
    provider = new FakeProvider();
    hostType = spec.name();
    return EntityTests.entity(testKit, CloudPool.create("kubernetes-" + N.incrementAndGet(), Map.of(spec.name(), spec), provider, s,
        peers, Clock.systemUTC()));
  }

  private static List<CloudPool.Waiting> waiting(String... ids) {
    List<CloudPool.Waiting> out = new ArrayList<>();
    long t = 1000;
    for (String id : ids) {
      out.add(new CloudPool.Waiting(id, new SchedItem(PriorityClass.TRY, t, 0, "main", id), t));
      t++;
    }
    return out;
  }

  private CloudPool.View view(EventSourcedBehaviorTestKit<CloudPool.Command, CloudPoolEvents.Event, CloudPoolState> pool) {
    return pool.<CloudPool.View>runCommand(CloudPool.GetView::new).reply();
  }

  @Test
  void instancesAreAskedForInServiceOrderWhileTheQuotaAllowsAndTheRestAwaitQuota() throws Exception {
    var pool = start(kube("k" + N.incrementAndGet(), 60_000, false), settings(new Quota(2, 0, Map.of()), 100, Duration.ofHours(1), Map.of()));
    pool.runCommand(new CloudPool.Needs(hostType, waiting("b1", "b2", "b3"), Map.of()));
    FakeProvider.Create first = provider.nextCreate();
    FakeProvider.Create second = provider.nextCreate();
    assertEquals("b1", pool.getState().owned().get(first.request().name()).forBuild());
    assertEquals("b2", pool.getState().owned().get(second.request().name()).forBuild());
    assertEquals(List.of("ws://127.0.0.1:1"), first.request().nodeUrls());
    assertEquals(Handshake.instanceKey(MASTER, first.request().name()), first.request().key(), "the instance's own key");
    assertFalse(first.request().toString().contains(first.request().key()), "a request never shows its key");
    CloudPool.View v = view(pool);
    assertEquals(2, v.requested());
    assertEquals(2, v.instancesUsed());
    assertEquals("awaiting quota: instances 2 of 2 in use", v.awaiting().get("b3"));
    HostPool.WaitReasons told = (HostPool.WaitReasons) receiveUntil(peers.pool(hostType),
        m -> m instanceof HostPool.WaitReasons w && w.reasons().containsKey("b3"));
    assertEquals("creating instance " + first.request().name(), told.reasons().get("b1"));
    assertEquals("awaiting quota: instances 2 of 2 in use", told.reasons().get("b3"));

    // Made, then the agent connects: the next needs count it.
    first.ok();
    pool.runCommand(new CloudPool.AgentConnected(first.request().name()));
    assertEquals(Phase.CONNECTED, pool.getState().owned().get(first.request().name()).phase());
    EntityTests.assertJournalRoundTrips(testKit, pool, "CloudPool|" + v.kind());
  }

  @Test
  void anInstanceWhoseAgentNeverConnectsIsDeletedAtItsBootTimeoutAndItsBuildGetsAnother() throws Exception {
    var pool = start(kube("k" + N.incrementAndGet(), 300, false), settings(new Quota(1, 0, Map.of()), 100, Duration.ofHours(1), Map.of()));
    pool.runCommand(new CloudPool.Needs(hostType, waiting("b1"), Map.of()));
    FakeProvider.Create c = provider.nextCreate();
    c.ok();
    FakeProvider.Delete d = provider.nextDelete();
    assertEquals(c.request().name(), d.instance().name(), "the instance that never booted");
    FakeProvider.Create again = provider.nextCreate();
    assertFalse(again.request().name().equals(c.request().name()), "a second instance, not the first asked again");
    CloudPool.View v = view(pool);
    assertEquals(1L, v.deletions().get("boot-timeout"));
    assertTrue(v.instances().stream().anyMatch(o -> o.name().equals(again.request().name()) && o.forBuild().equals("b1")), v.toString());
    assertEquals(1, v.instancesUsed(), "the deleted one's quota came back at once");
  }

  @Test
  void theJanitorDeletesLeakedFailedAndExpiredInstances() throws Exception {
    var pool = start(kube("k" + N.incrementAndGet(), 60_000, false), settings(new Quota(0, 0, Map.of()), 100, Duration.ofMillis(200), Map.of()));
    provider.autoCreate = true;
    pool.runCommand(new CloudPool.Needs(hostType, waiting("b1", "b2"), Map.of()));
    String failing = provider.nextCreate().request().name();
    String expiring = provider.nextCreate().request().name();
    long past = System.currentTimeMillis() / 1000 - 10;
    provider.listed = List.of(
        new Instance("grange-old-0000", hostType, "ns", InstanceState.RUNNING, "Running", 1, 0),
        new Instance(failing, hostType, "ns", InstanceState.FAILED, "Pending: ImagePullBackOff", 1, 0),
        new Instance(expiring, hostType, "ns", InstanceState.RUNNING, "Running", 1, past));
    List<String> deleted = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      deleted.add(provider.nextDelete().instance().name());
    }
    assertTrue(deleted.containsAll(List.of("grange-old-0000", failing, expiring)), deleted.toString());
    Map<String, Long> counted = view(pool).deletions();
    assertEquals(1L, counted.get("leaked"));
    assertEquals(1L, counted.get("failed"));
    assertEquals(1L, counted.get("expired"));
  }

  @Test
  void aReleasedInstancesQuotaIsFreeAtOnceForTheNextBuild() throws Exception {
    var pool = start(kube("k" + N.incrementAndGet(), 60_000, true), settings(new Quota(1, 0, Map.of()), 100, Duration.ofHours(1), Map.of()));
    provider.autoCreate = true;
    pool.runCommand(new CloudPool.Needs(hostType, waiting("b1"), Map.of()));
    String first = provider.nextCreate().request().name();
    pool.runCommand(new CloudPool.AgentConnected(first));
    // b1 is served by it; b2 arrives: no room until the hermetic instance is released after b1.
    pool.runCommand(new CloudPool.Needs(hostType, waiting("b2"), Map.of()));
    assertEquals(1, view(pool).requested());
    pool.runCommand(new CloudPool.Release(first, CloudPoolState.Reason.HERMETIC, "served its one build"));
    assertEquals(first, provider.nextDelete().instance().name());
    assertEquals("b2", pool.getState().owned().get(provider.nextCreate().request().name()).forBuild());
    assertEquals(1L, view(pool).deletions().get("hermetic"));
  }

  @Test
  void callsKeepToTheApiRate() throws Exception {
    var pool = start(kube("k" + N.incrementAndGet(), 60_000, false), settings(new Quota(0, 0, Map.of()), 4, Duration.ofHours(1), Map.of()));
    provider.autoCreate = true;
    pool.runCommand(new CloudPool.Needs(hostType, waiting("b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8", "b9", "b10", "b11", "b12"),
        Map.of()));
    assertEquals(4, view(pool).requested(), "a burst of at most 4 (the rate, per second)");
    for (int i = 0; i < 12; i++) {
      provider.nextCreate();
    }
    List<Long> t = provider.createNanos;
    // 12 calls at 4/s with a burst of 4: the last one at least 2 s after the first (less a little for the timer).
    assertTrue(t.get(11) - t.get(0) >= 1_900_000_000L, "12 creates took " + (t.get(11) - t.get(0)) / 1e6 + " ms");
  }

  @Test
  void aCreateRefusedForQuotaBacksOffAndSaysWhy() throws Exception {
    var pool = start(kube("k" + N.incrementAndGet(), 60_000, false), settings(new Quota(0, 0, Map.of()), 100, Duration.ofHours(1), Map.of()));
    pool.runCommand(new CloudPool.Needs(hostType, waiting("b1"), Map.of()));
    provider.nextCreate().fail(ProviderException.Kind.QUOTA, "exceeded quota: pods=10");
    HostPool.WaitReasons w = (HostPool.WaitReasons) receiveUntil(peers.pool(hostType),
        m -> m instanceof HostPool.WaitReasons r && r.reasons().getOrDefault("b1", "").contains("exceeded quota"));
    assertTrue(w.reasons().get("b1").startsWith("creating an instance failed (quota: exceeded quota: pods=10); trying again in"), w.toString());
    pool.runCommand(new CloudPool.Needs(hostType, waiting("b1", "b2"), Map.of()));
    CloudPool.View v = view(pool);
    assertEquals(1, v.requested(), "nothing asked for while it backs off");
    assertEquals(1, v.createFailures());
    assertTrue(v.lastErrors().get(hostType).contains("exceeded quota"), v.toString());
  }

  @Test
  void aFailedCreateWaitsTheBackoffOfItsKindAndAnUnavailableCloudDoublesItUpToTheMaximum() {
    var b = new CloudPoolSettings.Backoff(Duration.ofSeconds(3), Duration.ofMinutes(7), Duration.ofSeconds(5));
    assertEquals(Duration.ofSeconds(3), b.after(ProviderException.Kind.QUOTA, 9));
    assertEquals(Duration.ofMinutes(7), b.after(ProviderException.Kind.REFUSED, 1));
    List<Duration> unavailable = new ArrayList<>();
    for (int n = 1; n <= 5; n++) {
      unavailable.add(b.after(ProviderException.Kind.UNAVAILABLE, n));
    }
    assertEquals(List.of(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(4), Duration.ofSeconds(5), Duration.ofSeconds(5)),
        unavailable);
    assertEquals(Duration.ofSeconds(5), b.after(ProviderException.Kind.UNAVAILABLE, 200), "no overflow after many failures");
  }

  private static CloudPoolSettings quick(Duration reconnectGrace, Duration deleteBackoffMax) {
    return new CloudPoolSettings(new Quota(0, 0, Map.of()), 100, Duration.ofHours(1), Duration.ofMinutes(10), Duration.ofHours(6),
        Duration.ofMinutes(2), reconnectGrace, new CloudPoolSettings.Backoff(Duration.ofSeconds(30), Duration.ofMinutes(5), deleteBackoffMax),
        Map.of(), List.of("ws://127.0.0.1:1"), MASTER);
  }

  @Test
  void aDeleteThatFailsIsAskedAgainUntilTheInstanceIsGone() throws Exception {
    var pool = start(kube("k" + N.incrementAndGet(), 60_000, false), quick(Duration.ofMinutes(1), Duration.ofMillis(200)));
    provider.autoCreate = true;
    provider.autoDelete = false;
    pool.runCommand(new CloudPool.Needs(hostType, waiting("b1"), Map.of()));
    String name = provider.nextCreate().request().name();
    pool.runCommand(new CloudPool.AgentConnected(name));
    pool.runCommand(new CloudPool.Release(name, CloudPoolState.Reason.HERMETIC, "served its one build"));
    FakeProvider.Delete first = provider.nextDelete();
    assertEquals(name, first.instance().name());
    first.done().completeExceptionally(new ProviderException(ProviderException.Kind.UNAVAILABLE, "503 from the API server"));
    FakeProvider.Delete second = provider.nextDelete();
    assertEquals(name, second.instance().name(), "the same instance, asked again");
    assertTrue(view(pool).lastErrors().get(hostType).contains("deleting " + name + " failed: 503 from the API server"),
        view(pool).toString());
    second.done().completeExceptionally(new ProviderException(ProviderException.Kind.UNAVAILABLE, "503 again"));
    FakeProvider.Delete third = provider.nextDelete();
    assertEquals(name, third.instance().name());
    third.done().complete(null);
    testKit.createTestProbe().awaitAssert(Duration.ofSeconds(10), () -> {
      assertFalse(pool.getState().owned().containsKey(name), "the instance gone from what the pool owns");
      return null;
    });
  }

  @Test
  void afterARestartAConnectedInstanceWhoseAgentDoesNotComeBackIsDeletedAtTheReconnectGrace() throws Exception {
    var pool = start(kube("k" + N.incrementAndGet(), 60_000, false), quick(Duration.ofSeconds(2), Duration.ofSeconds(1)));
    provider.autoCreate = true;
    pool.runCommand(new CloudPool.Needs(hostType, waiting("b1", "b2"), Map.of()));
    String gone = provider.nextCreate().request().name();
    String back = provider.nextCreate().request().name();
    pool.runCommand(new CloudPool.AgentConnected(gone));
    pool.runCommand(new CloudPool.AgentConnected(back));
    pool.restart();
    assertEquals(Phase.CONNECTED, pool.getState().owned().get(gone).phase());
    // Its host pool, woken, tells of the agent that is still here (well within the 2 s grace); of the other, nothing.
    receiveUntil(peers.pool(hostType), m -> m instanceof HostPool.CloudWake);
    pool.runCommand(new CloudPool.AgentConnected(back));
    FakeProvider.Delete d = provider.nextDelete();
    assertEquals(gone, d.instance().name(), "the instance whose agent is not back");
    CloudPool.View v = view(pool);
    assertEquals(1L, v.deletions().get("agent-gone"), v.toString());
    assertEquals(Phase.CONNECTED, pool.getState().owned().get(back).phase(), "the one whose agent is here stays");
  }

  @Test
  void whatItOwnsSurvivesARestartAndItsHostPoolsAreWoken() throws Exception {
    var pool = start(kube("k" + N.incrementAndGet(), 60_000, false), settings(new Quota(0, 0, Map.of()), 100, Duration.ofHours(1), Map.of()));
    provider.autoCreate = true;
    pool.runCommand(new CloudPool.Needs(hostType, waiting("b1"), Map.of()));
    String name = provider.nextCreate().request().name();
    pool.runCommand(new CloudPool.AgentConnected(name));
    receiveUntil(peers.pool(hostType), m -> m instanceof HostPool.CloudWake);
    provider.listed = List.of(new Instance(name, hostType, "ns", InstanceState.RUNNING, "Running", 1, 0));
    pool.restart();
    assertEquals(Phase.CONNECTED, pool.getState().owned().get(name).phase());
    receiveUntil(peers.pool(hostType), m -> m instanceof HostPool.CloudWake);
  }

  @Test
  void theWarmMinimumIsKeptAndIdleInstancesAboveItAreRetiredLongestIdleFirst() throws Exception {
    String name = "k" + N.incrementAndGet();
    var pool = start(kube(name, 60_000, false),
        new CloudPoolSettings(new Quota(0, 0, Map.of()), 100, Duration.ofMillis(200), Duration.ZERO, Duration.ofHours(6),
            Duration.ofMinutes(2), Duration.ofMinutes(1), CloudPoolSettings.Backoff.DEFAULT, Map.of(name, 1), List.of("ws://127.0.0.1:1"), MASTER));
    provider.autoCreate = true;
    pool.runCommand(new CloudPool.Needs(hostType, List.of(), Map.of()));
    String warm = provider.nextCreate().request().name();
    assertEquals("", pool.getState().owned().get(warm).forBuild(), "made for the warm minimum, no build waits");
    pool.runCommand(new CloudPool.AgentConnected(warm));
    pool.runCommand(new CloudPool.Needs(hostType, waiting("b1", "b2"), Map.of()));
    String a = provider.nextCreate().request().name();
    String b = provider.nextCreate().request().name();
    pool.runCommand(new CloudPool.AgentConnected(a));
    pool.runCommand(new CloudPool.AgentConnected(b));
    // The builds are done; three idle, one to keep: the two idle longest are retired by their host pool.
    pool.runCommand(new CloudPool.Needs(hostType, List.of(), Map.of(a, 1L, b, 2L, warm, 3L)));
    List<String> retired = new ArrayList<>();
    while (retired.size() < 2) {
      HostPool.Retire r = (HostPool.Retire) receiveUntil(peers.pool(hostType), m -> m instanceof HostPool.Retire x && !retired.contains(x.instance()));
      assertEquals(CloudPoolState.Reason.IDLE, r.reason());
      retired.add(r.instance());
    }
    assertEquals(List.of(a, b), retired, "the longest idle first, the warm one kept");
  }
}
