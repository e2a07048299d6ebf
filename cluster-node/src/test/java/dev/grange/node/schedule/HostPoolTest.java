package dev.grange.node.schedule;

import static dev.grange.node.testing.EntityTests.receiveUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grange.node.buildlet.Buildlet;
import dev.grange.node.buildlet.BuildletInfo;
import dev.grange.node.buildlet.BuildletState;
import dev.grange.node.buildlet.BuildletSession;
import dev.grange.node.buildrun.BuildRun;
import dev.grange.node.pool.LocalPool;
import dev.grange.node.schedule.HostPoolEvents.Waiter;
import dev.grange.node.testing.EntityTests;
import dev.grange.node.testing.TestPeers;
import dev.grange.protocol.model.HostTypeSpec;
import dev.grange.protocol.model.LocalPoolSpec;
import dev.grange.protocol.model.PoolKind;
import dev.grange.protocol.schedule.PriorityClass;
import dev.grange.protocol.schedule.SchedItem;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The {@link HostPool} entity of one host type, with probes for its buildlets, its builds and
 * the node's local pool: waiting builds are served in {@link SchedItem#ORDER} (release first,
 * newest post-submit commit first), each idle buildlet goes to one build and each build gets one
 * buildlet, a refused lease moves on to the next machine, a cancelled build is never served (and
 * gives back a buildlet leased meanwhile), the queue survives a restart, and a local pool hears
 * how many builds wait with no machine.
 */
@ExtendWith(TestKitJUnit5Extension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostPoolTest {
  private static final AtomicInteger POOLS = new AtomicInteger();

  @JUnit5TestKit final ActorTestKit testKit = EntityTests.testKit();

  private String hostType;
  private TestPeers peers;
  private TestProbe<LocalPool.Command> localPool;
  private TestProbe<BuildletSession.Command> session;
  private EventSourcedBehaviorTestKit<HostPool.Command, HostPoolEvents.Event, HostPoolState> pool;

  @BeforeEach
  void setUp() {
    hostType = "host" + POOLS.incrementAndGet();
    peers = new TestPeers(testKit);
    localPool = testKit.createTestProbe();
    session = testKit.createTestProbe();
    pool = start(reverse());
  }

  @AfterEach
  void everyPersistedEventRoundTrips() {
    EntityTests.assertJournalRoundTrips(testKit, pool, "HostPool|" + hostType);
  }

  @Test
  void releaseBuildIsServedBeforePostSubmit() {
    acquire(waiter("post", PriorityClass.POST_SUBMIT, 1_000, 9_000, "master"));
    acquire(waiter("rel", PriorityClass.RELEASE, 2_000, 1_000, "release-branch.go1.22"));

    up("a1");

    assertEquals("rel", leaseAskedOf("a1").buildId());
  }

  @Test
  void postSubmitRunsNewestCommitFirst() {
    acquire(waiter("older", PriorityClass.POST_SUBMIT, 1_000, 5_000, "master"));
    acquire(waiter("newer", PriorityClass.POST_SUBMIT, 2_000, 7_000, "master"));

    up("a1");
    up("a2");

    assertEquals("newer", leaseAskedOf("a1").buildId());
    assertEquals("older", leaseAskedOf("a2").buildId());
  }

  @Test
  void tryBuildsAreServedInTheOrderTheyWereRequested() {
    acquire(waiter("second", PriorityClass.TRY, 2_000, 9_000, "master"));
    acquire(tryBuild("first", 1_000));

    up("a1");

    assertEquals("first", leaseAskedOf("a1").buildId());
  }

  @Test
  void aGrantedLeaseIsHandedToTheBuildAndTheBuildLeavesTheQueue() {
    acquire(tryBuild("b1", 1_000));
    acquire(tryBuild("b2", 2_000));
    up("a1");

    grant("a1");

    Buildlet.Granted granted = granted("a1");
    BuildRun.BuildletAssigned assigned = peers.expect(peers.build("b1"), BuildRun.BuildletAssigned.class);
    assertEquals(granted, assigned.buildlet());
    assertEquals(List.of("get_buildlet"), assigned.stages().stream().map(dev.grange.node.buildrun.BuildRunEvents.Stage::name).toList(),
        "a machine that was there already: no instance was made for it");
    HostPool.PoolView view = view();
    assertEquals(List.of("b2"), view.waiters().stream().map(Waiter::buildId).toList());
    assertEquals(1, view.served());
    assertEquals(List.of(new HostPool.Machine(info("a1"), false, "b1")), view.machines());
  }

  @Test
  void aBuildletIsOfferedToOneBuildAtATimeAndEachBuildGetsOne() {
    acquire(tryBuild("b1", 1_000));
    acquire(tryBuild("b2", 2_000));
    up("a1");
    assertEquals("b1", leaseAskedOf("a1").buildId());

    up("a1"); // re-announced while its lease is under way
    up("a2");

    assertEquals("b2", leaseAskedOf("a2").buildId());
    peers.buildletProbe("a1").expectNoMessage(Duration.ofMillis(300));
  }

  @Test
  void aRefusedLeaseIsOfferedToTheNextIdleBuildlet() {
    acquire(tryBuild("b1", 1_000));
    up("a1");
    Buildlet.Lease first = leaseAskedOf("a1");
    up("a2");

    first.replyTo().tell(StatusReply.error("buildlet a1 is draining"));

    Buildlet.Lease second = leaseAskedOf("a2");
    assertEquals("b1", second.buildId());
    grant(second, "a2");
    assertEquals("a2", peers.expect(peers.build("b1"), BuildRun.BuildletAssigned.class).buildlet().agentId());
  }

  @Test
  void aLeaseLeftUnansweredIsTakenBackAndTheBuildOfferedTheNextBuildlet() {
    hostType = hostType + "-slow";
    pool = start(reverse(), Duration.ofMillis(500));
    acquire(tryBuild("b1", 1_000));
    up("a1");
    leaseAskedOf("a1"); // a1's entity is slow (say, recovering): it may still grant the lease, too late
    up("a2");

    assertEquals(new Buildlet.Release("b1"), peers.expect(peers.buildletProbe("a1"), Buildlet.Release.class));
    assertEquals("b1", leaseAskedOf("a2").buildId());
  }

  @Test
  void aBuildletFreedByItsBuildServesTheNextWaiter() {
    acquire(tryBuild("b1", 1_000));
    up("a1");
    grant("a1");
    peers.expect(peers.build("b1"), BuildRun.BuildletAssigned.class);
    acquire(tryBuild("b2", 2_000));

    pool.runCommand(new HostPool.BuildletIdle("a1"));

    assertEquals("b2", leaseAskedOf("a1").buildId());
  }

  @Test
  void aQuarantinedBuildletIsNotOfferedAndTheViewShowsItQuarantined() {
    acquire(tryBuild("b1", 1_000));
    BuildletState.Health sick = new BuildletState.Health(4, 3, new BuildletState.Quarantine("3 infrastructure failures within PT1H", 5_000));
    // Said idle by mistake (an older node, say): the quarantine wins.
    pool.runCommand(new HostPool.BuildletUp(info("a1"), true, null, sick));

    up("a2");

    assertEquals("b1", leaseAskedOf("a2").buildId(), "a1 came first but is quarantined");
    HostPool.Machine a1 = view().machines().get(0);
    assertTrue(a1.quarantined());
    assertEquals(new HostPool.Machine(info("a1"), false, null, sick), a1);
  }

  @Test
  void aRetryIsServedByAnotherBuildletThanTheOneItsAttemptFailedOn() {
    up("a1");
    up("a2");

    acquire(retry("b1", "a1"));

    assertEquals("b1", leaseAskedOf("a2").buildId(), "a1 came first but b1 failed on it");
  }

  @Test
  void aRetryWaitsForABusyBuildletRatherThanTakeTheOneItFailedOn() {
    up("a1");
    pool.runCommand(new HostPool.BuildletUp(info("a2"), false, "other"));
    acquire(retry("b1", "a1"));

    pool.runCommand(new HostPool.BuildletIdle("a2"));

    // Had a1 been offered to b1 meanwhile, b1 would not be offered another buildlet now.
    assertEquals("b1", leaseAskedOf("a2").buildId());
  }

  @Test
  void aRetryTakesTheBuildletItFailedOnWhenNoOtherCouldServeIt() {
    BuildletState.Health sick = new BuildletState.Health(3, 3, new BuildletState.Quarantine("3 infrastructure failures within PT1H", 5_000));
    pool.runCommand(new HostPool.BuildletUp(info("a2"), false, null, sick));
    up("a1");

    acquire(retry("b1", "a1"));

    assertEquals("b1", leaseAskedOf("a1").buildId(), "the only other machine is quarantined: a1 rather than wait forever");
  }

  @Test
  void anOlderWaiterWithoutAvoidListIsReadAsAvoidingNothing() {
    Waiter old = new Waiter("b1", new SchedItem(PriorityClass.TRY, 1_000, 1_000, "master", "b1"), "builder", "rev", "alice", null);

    assertEquals(List.of(), old.avoid());
    assertEquals(tryBuild("b1", 1_000).avoid(), old.avoid());
  }

  @Test
  void aBuildletThatWentDownIsNotOffered() {
    up("a1");
    pool.runCommand(new HostPool.BuildletDown("a1", "session stopped"));
    assertTrue(view().machines().isEmpty());

    acquire(tryBuild("b1", 1_000));
    up("a2");

    assertEquals("b1", leaseAskedOf("a2").buildId());
  }

  @Test
  void aCancelledBuildIsNeverServed() {
    acquire(tryBuild("b1", 1_000));
    acquire(tryBuild("b2", 2_000));

    var cancelled = pool.runCommand(new HostPool.CancelWait("b1"));

    assertEquals(new HostPoolEvents.WaiterCancelled("b1"), cancelled.event());
    up("a1");
    assertEquals("b2", leaseAskedOf("a1").buildId());
  }

  @Test
  void aBuildCancelledWhileItsLeaseIsUnderWayGivesTheBuildletBack() {
    acquire(tryBuild("b1", 1_000));
    up("a1");
    Buildlet.Lease lease = leaseAskedOf("a1");
    pool.runCommand(new HostPool.CancelWait("b1"));

    grant(lease, "a1");

    assertEquals(new Buildlet.Release("b1"), peers.expect(peers.buildletProbe("a1"), Buildlet.Release.class));
    HostPool.PoolView view = view();
    assertTrue(view.waiters().isEmpty());
    assertEquals(0, view.served());
  }

  @Test
  void anAcquireRepeatedByTheSameBuildKeepsOnePlaceInTheQueue() {
    Waiter w = tryBuild("b1", 1_000);
    acquire(w);

    assertTrue(pool.runCommand(new HostPool.Acquire(w)).hasNoEvents());
    assertEquals(List.of(w), view().waiters());
  }

  @Test
  void stateSurvivesRecoveryFromEvents() {
    acquire(waiter("post", PriorityClass.POST_SUBMIT, 1_000, 9_000, "master"));
    acquire(tryBuild("try", 2_000));
    acquire(tryBuild("gone", 3_000));
    acquire(waiter("rel", PriorityClass.RELEASE, 4_000, 1_000, "release-branch.go1.22"));
    up("a1");
    grant("a1");
    peers.expect(peers.build("rel"), BuildRun.BuildletAssigned.class);
    pool.runCommand(new HostPool.CancelWait("gone"));
    HostPoolState before = pool.getState();

    HostPoolState after = pool.restart().state();

    assertEquals(before, after);
    assertEquals(List.of("try", "post"), after.waiters().stream().map(Waiter::buildId).toList());
    assertEquals(1, after.served());
    up("a2"); // machines are live facts: they announce themselves again
    assertEquals("try", leaseAskedOf("a2").buildId());
  }

  @Test
  void aLocalPoolHearsHowManyBuildsWaitWithNoMachineToServeThem() {
    hostType = hostType + "-local";
    pool = start(new HostTypeSpec(hostType, PoolKind.LOCAL, 0, 1, "", new LocalPoolSpec(0, 4), null, null,
        HostTypeSpec.DEFAULT_BOOT_TIMEOUT_MS, false));
    acquire(tryBuild("b1", 1_000));
    acquire(tryBuild("b2", 2_000));
    receiveUntil(localPool, new LocalPool.Demand(hostType, 2, 0, 0)::equals);

    up("a1");
    grant("a1");

    receiveUntil(localPool, new LocalPool.Demand(hostType, 1, 1, 0)::equals);
    pool.runCommand(new HostPool.BuildletDown("a1", "session stopped"));
    receiveUntil(localPool, new LocalPool.Demand(hostType, 1, 0, 0)::equals);
  }

  @Test
  void instancesBeingCreatedAreCountedUntilTheirAgentComesOrTheyEnd() {
    hostType = hostType + "-local";
    pool = start(new HostTypeSpec(hostType, PoolKind.LOCAL, 0, 1, "", new LocalPoolSpec(0, 4), null, null,
        HostTypeSpec.DEFAULT_BOOT_TIMEOUT_MS, false));
    assertEquals(4, view().limit(), "a local pool's quota is its max");

    assertTrue(pool.runCommand(new HostPool.InstancesCreating(List.of("i1", "i2"))).hasNoEvents(), "not persisted");
    assertEquals(2, view().creating());

    pool.runCommand(new HostPool.BuildletUp(new BuildletInfo("a1", hostType, "host-a1", 1, "i1", "linux", "amd64", 2, "/work",
        "pekko://node", 0), true, null));
    assertEquals(1, view().creating(), "i1's agent connected");
    pool.runCommand(new HostPool.InstanceEnded("i2"));
    assertEquals(0, view().creating(), "i2 exited before it connected");
  }

  @Test
  void aCloudPoolHearsWhichBuildsNoIdleMachineServesAndOfEachAgentThatComesAndGoes() {
    pool = start(kube(false));
    TestProbe<dev.grange.node.pool.cloud.CloudPool.Command> cloud = peers.cloud("kubernetes");
    acquire(tryBuild("b1", 1_000));
    acquire(tryBuild("b2", 2_000));
    var needs = (dev.grange.node.pool.cloud.CloudPool.Needs) receiveUntil(cloud,
        m -> m instanceof dev.grange.node.pool.cloud.CloudPool.Needs n && n.waiting().size() == 2);
    assertEquals(List.of("b1", "b2"), needs.waiting().stream().map(dev.grange.node.pool.cloud.CloudPool.Waiting::buildId).toList(),
        "best first");

    pool.runCommand(new HostPool.InstanceMade("grange-i1", 1_500, 1_700));
    pool.runCommand(new HostPool.BuildletUp(cloudInfo("a1", "grange-i1"), true, null));
    receiveUntil(cloud, new dev.grange.node.pool.cloud.CloudPool.AgentConnected("grange-i1")::equals);
    Buildlet.Lease lease = leaseAskedOf("a1");
    assertEquals("b1", lease.buildId(), "the new instance serves the best waiter");
    grant(lease, "a1");
    BuildRun.BuildletAssigned assigned = peers.expect(peers.build("b1"), BuildRun.BuildletAssigned.class);
    assertEquals(List.of("get_buildlet", "create_instance", "wait_agent"),
        assigned.stages().stream().map(dev.grange.node.buildrun.BuildRunEvents.Stage::name).toList());
    assertEquals(1_000, assigned.stages().get(0).startMs(), "queued when the build asked");
    assertEquals(new dev.grange.node.buildrun.BuildRunEvents.Stage("create_instance", 1_500, 1_700), assigned.stages().get(1));
    assertEquals(new dev.grange.node.buildrun.BuildRunEvents.Stage("wait_agent", 1_700, 1_900), assigned.stages().get(2),
        "until the agent connected (its info says 1_900)");
    var rest = (dev.grange.node.pool.cloud.CloudPool.Needs) receiveUntil(cloud,
        m -> m instanceof dev.grange.node.pool.cloud.CloudPool.Needs n && n.waiting().size() == 1);
    assertEquals("b2", rest.waiting().get(0).buildId(), "b1 was served: only b2 needs one");

    pool.runCommand(new HostPool.WaitReasons(java.util.Map.of("b2", "awaiting quota: instances 1 of 1 in use")));
    assertEquals("awaiting quota: instances 1 of 1 in use", view().waitReasons().get("b2"));

    pool.runCommand(new HostPool.BuildletDown("a1", "socket closed"));
    receiveUntil(cloud, new dev.grange.node.pool.cloud.CloudPool.AgentDisconnected("grange-i1")::equals);
  }

  @Test
  void aWokenCloudPoolHearsAgainWhichOfItsInstancesHaveTheirAgentHere() {
    pool = start(kube(false));
    TestProbe<dev.grange.node.pool.cloud.CloudPool.Command> cloud = peers.cloud("kubernetes");
    pool.runCommand(new HostPool.BuildletUp(cloudInfo("a1", "grange-i1"), true, null));
    pool.runCommand(new HostPool.BuildletUp(new BuildletInfo("r1", hostType, "host-r1", 1, null, "linux", "amd64", 2, "/work",
        "pekko://node", 0), true, null));
    receiveUntil(cloud, new dev.grange.node.pool.cloud.CloudPool.AgentConnected("grange-i1")::equals);
    // The cloud pool restarted (or moved) and knows only what it persisted: not whose agent is connected.
    pool.runCommand(new HostPool.CloudWake());
    receiveUntil(cloud, new dev.grange.node.pool.cloud.CloudPool.AgentConnected("grange-i1")::equals);
  }

  @Test
  void aFreshCloudMachineNotYetIdleStillCountsForTheBuildItWillServe() {
    pool = start(kube(false));
    TestProbe<dev.grange.node.pool.cloud.CloudPool.Command> cloud = peers.cloud("kubernetes");
    acquire(tryBuild("b1", 1_000));
    receiveUntil(cloud, m -> m instanceof dev.grange.node.pool.cloud.CloudPool.Needs n && n.waiting().size() == 1);
    // Its agent connected; the buildlet is still being wiped (not idle, not leased).
    pool.runCommand(new HostPool.BuildletUp(cloudInfo("a1", "grange-i1"), false, null));
    var needs = (dev.grange.node.pool.cloud.CloudPool.Needs) receiveUntil(cloud, m -> m instanceof dev.grange.node.pool.cloud.CloudPool.Needs);
    assertEquals(List.of(), needs.waiting(), "b1 will get the machine that just connected: no second instance for it");
  }

  @Test
  void aRetiredMachineIsNeverLeasedAndItsInstanceIsReleased() {
    pool = start(kube(false));
    TestProbe<dev.grange.node.pool.cloud.CloudPool.Command> cloud = peers.cloud("kubernetes");
    pool.runCommand(new HostPool.BuildletUp(cloudInfo("a1", "grange-i1"), true, null));
    pool.runCommand(new HostPool.Retire("grange-i1", dev.grange.node.pool.cloud.CloudPoolState.Reason.IDLE, "idle 10 min"));
    var release = (dev.grange.node.pool.cloud.CloudPool.Release) receiveUntil(cloud, m -> m instanceof dev.grange.node.pool.cloud.CloudPool.Release);
    assertEquals("grange-i1", release.instance());
    assertEquals(dev.grange.node.pool.cloud.CloudPoolState.Reason.IDLE, release.reason());

    pool.runCommand(new HostPool.BuildletUp(cloudInfo("a1", "grange-i1"), true, null)); // its heartbeat says idle
    acquire(tryBuild("b1", 1_000));
    peers.buildletProbe("a1").expectNoMessage(Duration.ofMillis(300));
    assertTrue(view().machines().stream().noneMatch(HostPool.Machine::idle), "retiring: not idle");
  }

  @Test
  void aHermeticMachineIsReleasedAfterItsOneBuild() {
    pool = start(kube(true));
    TestProbe<dev.grange.node.pool.cloud.CloudPool.Command> cloud = peers.cloud("kubernetes");
    pool.runCommand(new HostPool.BuildletUp(cloudInfo("a1", "grange-i1"), true, null));
    acquire(tryBuild("b1", 1_000));
    grant("a1");
    // The grant reaches the pool as a message of its own: served (and persisted) before b1 is done.
    peers.expect(peers.build("b1"), BuildRun.BuildletAssigned.class);
    pool.runCommand(new HostPool.BuildletIdle("a1"));
    var release = (dev.grange.node.pool.cloud.CloudPool.Release) receiveUntil(cloud, m -> m instanceof dev.grange.node.pool.cloud.CloudPool.Release);
    assertEquals(dev.grange.node.pool.cloud.CloudPoolState.Reason.HERMETIC, release.reason());
    acquire(tryBuild("b2", 2_000));
    peers.buildletProbe("a1").expectNoMessage(Duration.ofMillis(300));
  }

  private HostTypeSpec kube(boolean hermetic) {
    hostType = hostType + "-kube";
    return new HostTypeSpec(hostType, PoolKind.KUBERNETES, 0, 1, "", null,
        new dev.grange.protocol.model.KubernetesPoolSpec("img:1", "1", "1Gi", java.util.Map.of(), List.of()), null,
        HostTypeSpec.DEFAULT_BOOT_TIMEOUT_MS, hermetic);
  }

  private BuildletInfo cloudInfo(String agentId, String instance) {
    return new BuildletInfo(agentId, hostType, instance, 1, instance, "linux", "amd64", 2, "/work", "pekko://node", 1_900);
  }

  @Test
  void theViewSaysWhatKindOfPoolItIs() {
    HostPool.PoolView view = view();

    assertEquals(hostType, view.hostType());
    assertEquals("reverse", view.pool());
    assertEquals(2, view.expected());
    assertEquals(0, view.limit(), "a reverse pool has no quota");
  }

  private EventSourcedBehaviorTestKit<HostPool.Command, HostPoolEvents.Event, HostPoolState> start(HostTypeSpec spec) {
    return start(spec, EntityTests.DEADLINE);
  }

  private EventSourcedBehaviorTestKit<HostPool.Command, HostPoolEvents.Event, HostPoolState> start(HostTypeSpec spec, Duration leaseTimeout) {
    return EntityTests.entity(testKit, HostPool.create(hostType, spec, peers, localPool.ref(), leaseTimeout));
  }

  private HostTypeSpec reverse() {
    return new HostTypeSpec(hostType, PoolKind.REVERSE, 2, 1, "", null, null, null, HostTypeSpec.DEFAULT_BOOT_TIMEOUT_MS, false);
  }

  private static Waiter waiter(String buildId, PriorityClass cls, long requestedAtMs, long commitTimeMs, String branch) {
    return new Waiter(buildId, new SchedItem(cls, requestedAtMs, commitTimeMs, branch, buildId), "builder-" + buildId, "rev-" + buildId, "alice");
  }

  /** A try build of master, requested at this time. */
  private static Waiter tryBuild(String buildId, long requestedAtMs) {
    return waiter(buildId, PriorityClass.TRY, requestedAtMs, 1_000, "master");
  }

  /** A try build's retry, whose earlier attempts failed on these buildlets. */
  private static Waiter retry(String buildId, String... failedOn) {
    Waiter w = tryBuild(buildId, 1_000);
    return new Waiter(w.buildId(), w.item(), w.builder(), w.rev(), w.user(), List.of(failedOn));
  }

  private void acquire(Waiter w) {
    assertEquals(new HostPoolEvents.WaiterAdded(w), pool.runCommand(new HostPool.Acquire(w)).event());
  }

  private BuildletInfo info(String agentId) {
    return new BuildletInfo(agentId, hostType, "host-" + agentId, 1, "", "linux", "amd64", 2, "/work", "pekko://node", 0);
  }

  private void up(String agentId) {
    assertTrue(pool.runCommand(new HostPool.BuildletUp(info(agentId), true, null)).hasNoEvents(), "machines are not persisted");
  }

  private Buildlet.Granted granted(String agentId) {
    return new Buildlet.Granted(agentId, "host-" + agentId, "pekko://node", session.ref());
  }

  /** The lease the pool asked of this buildlet. */
  private Buildlet.Lease leaseAskedOf(String agentId) {
    return peers.expect(peers.buildletProbe(agentId), Buildlet.Lease.class);
  }

  /** The buildlet grants the lease the pool asks of it next. */
  private void grant(String agentId) {
    grant(leaseAskedOf(agentId), agentId);
  }

  private void grant(Buildlet.Lease lease, String agentId) {
    lease.replyTo().tell(StatusReply.success(granted(agentId)));
  }


  private HostPool.PoolView view() {
    return pool.<HostPool.PoolView>runCommand(HostPool.GetView::new).reply();
  }
}
