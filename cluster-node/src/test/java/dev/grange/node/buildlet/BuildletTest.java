package dev.grange.node.buildlet;

import static dev.grange.node.testing.EntityTests.assertRefused;
import static dev.grange.node.testing.EntityTests.receiveUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grange.node.schedule.HostPool;
import dev.grange.node.testing.EntityTests;
import dev.grange.node.testing.TestPeers;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.PersistenceTestKit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The {@link Buildlet} entity on its own, with probes for its session and its host pool: it is
 * leased to one build at a time, only while connected, idle and clean; a release wipes the
 * workdir before the machine is offered again, also when the release or the wipe happened with
 * no socket; a newer socket replaces the older; its pool hears of every change; and all of it
 * survives a restart from the journal.
 */
@ExtendWith(TestKitJUnit5Extension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BuildletTest {
  private static final String HOST_TYPE = "linux-amd64";
  private static final AtomicInteger AGENTS = new AtomicInteger();

  @JUnit5TestKit final ActorTestKit testKit = EntityTests.testKit();

  private String agentId;
  private BuildletInfo info;
  private TestPeers peers;
  private TestProbe<HostPool.Command> pool;
  private TestProbe<BuildletSession.Command> session;
  private EventSourcedBehaviorTestKit<Buildlet.Command, BuildletEvents.Event, BuildletState> buildlet;

  @BeforeEach
  void setUp() {
    agentId = "agent" + AGENTS.incrementAndGet();
    info = info(agentId);
    peers = new TestPeers(testKit);
    pool = peers.pool(HOST_TYPE);
    session = testKit.createTestProbe();
    // No announce during a test unless the test asks for it.
    buildlet = EntityTests.entity(testKit, Buildlet.create(agentId, peers, Duration.ofHours(1), EntityTests.DEADLINE));
  }

  @AfterEach
  void everyPersistedEventRoundTrips() {
    EntityTests.assertJournalRoundTrips(testKit, buildlet, "Buildlet|" + agentId);
  }

  @Test
  void anAttachedBuildletIsIdleAndItsPoolHearsOfIt() {
    assertTrue(attach(session).isSuccess());

    assertEquals(new HostPool.BuildletUp(info, true, null), peers.expect(pool, HostPool.BuildletUp.class));
    BuildletState s = buildlet.getState();
    assertTrue(s.idle());
    assertEquals(info, s.info());
    assertEquals(session.ref(), s.session());
  }

  @Test
  void aLeaseGrantsTheSessionToWorkWith() {
    attach(session);

    var result = lease("b1");

    assertEquals(new Buildlet.Granted(agentId, info.hostname(), info.node(), session.ref()), result.reply().getValue());
    assertEquals(new BuildletEvents.Leased("b1"), result.event());
    assertEquals("b1", result.state().leasedTo());
    assertEquals(1, result.state().leases());
  }

  @Test
  void aLeasedBuildletIsNotLeasedTwice() {
    attach(session);
    lease("b1");

    var second = lease("b2");

    assertRefused(second.reply(), agentId, "busy with b1");
    assertTrue(second.hasNoEvents());
    assertEquals("b1", buildlet.getState().leasedTo());
  }

  @Test
  void aRepeatedLeaseForTheSameBuildIsGrantedAgainWithoutANewLease() {
    attach(session);
    lease("b1");

    var again = lease("b1");

    assertTrue(again.reply().isSuccess());
    assertTrue(again.hasNoEvents());
    assertEquals(1, again.state().leases());
  }

  @Test
  void aBuildletThatNeverConnectedIsNotLeased() {
    var result = lease("b1");

    assertRefused(result.reply(), agentId, "not connected");
    assertTrue(result.hasNoEvents());
  }

  @Test
  void aDrainingBuildletIsNotLeasedAndLeavesItsPool() {
    attach(session);
    peers.expect(pool, HostPool.BuildletUp.class);

    buildlet.runCommand(new Buildlet.MarkDraining(session.ref(), "SIGTERM"));

    assertEquals(new HostPool.BuildletDown(agentId, "draining: SIGTERM"), peers.expect(pool, HostPool.BuildletDown.class));
    assertRefused(lease("b1").reply(), agentId, "draining");
  }

  @Test
  void aReleaseWipesTheWorkdirBeforeTheBuildletIsOfferedAgain() {
    attach(session);
    peers.expect(pool, HostPool.BuildletUp.class);
    lease("b1");

    buildlet.runCommand(new Buildlet.Release("b1"));

    BuildletSession.RemoveAll wipe = peers.expect(session, BuildletSession.RemoveAll.class);
    assertEquals(List.of("."), wipe.paths());
    assertFalse(buildlet.getState().idle(), "not idle while its workdir is wiped");
    assertRefused(lease("b2").reply(), agentId, "b1");

    wipe.replyTo().tell(StatusReply.ack());

    assertEquals(new HostPool.BuildletIdle(agentId), peers.expect(pool, HostPool.BuildletIdle.class));
    assertTrue(buildlet.getState().idle());
    assertTrue(lease("b2").reply().isSuccess());
  }

  @Test
  void aBuildCannotTakeItsBuildletBackWhileTheWipeAfterItsReleaseRuns() {
    attach(session);
    lease("b1");
    buildlet.runCommand(new Buildlet.Release("b1"));
    BuildletSession.RemoveAll wipe = peers.expect(session, BuildletSession.RemoveAll.class);

    // E.g. the build's retry, offered this buildlet by a pool that still thinks it idle.
    assertRefused(lease("b1").reply(), agentId, "wip");

    wipe.replyTo().tell(StatusReply.ack());
    peers.expect(pool, HostPool.BuildletUp.class);
    peers.expect(pool, HostPool.BuildletIdle.class);
    assertEquals(2, lease("b1").state().leases(), "leased again only after the wipe, as a new lease");
  }

  @Test
  void aReleaseOfAnotherBuildIsIgnored() {
    attach(session);
    lease("b1");

    var result = buildlet.runCommand(new Buildlet.Release("b2"));

    assertTrue(result.hasNoEvents());
    assertEquals("b1", result.state().leasedTo());
    assertRefused(lease("b3").reply(), "busy with b1");
  }

  @Test
  void aBuildletReleasedWhileDisconnectedIsWipedBeforeItsNextLease() {
    attach(session);
    lease("b1");
    buildlet.runCommand(new Buildlet.Detach(session.ref(), "socket closed"));
    buildlet.runCommand(new Buildlet.Release("b1"));

    TestProbe<BuildletSession.Command> next = testKit.createTestProbe();
    attach(next);

    assertRefused(lease("b2").reply(), agentId, "b1");
    BuildletSession.RemoveAll wipe = peers.expect(next, BuildletSession.RemoveAll.class);
    wipe.replyTo().tell(StatusReply.ack());
    receiveUntil(pool, HostPool.BuildletIdle.class::isInstance);
    assertTrue(lease("b2").reply().isSuccess());
  }

  @Test
  void aFailedWipeClosesTheSessionAndTheNextSessionWipesAgain() {
    attach(session);
    lease("b1");
    buildlet.runCommand(new Buildlet.Release("b1"));

    peers.expect(session, BuildletSession.RemoveAll.class).replyTo().tell(StatusReply.error("io_error: disk full"));

    assertEquals(new BuildletSession.Close(1011, "workdir wipe failed"), peers.expect(session, BuildletSession.Close.class));
    assertRefused(lease("b2").reply(), agentId, "b1");

    TestProbe<BuildletSession.Command> next = testKit.createTestProbe();
    attach(next);
    peers.expect(next, BuildletSession.RemoveAll.class).replyTo().tell(StatusReply.ack());
    receiveUntil(pool, HostPool.BuildletIdle.class::isInstance);
    assertTrue(lease("b2").reply().isSuccess());
  }

  @Test
  void aNewerSessionReplacesTheOlderOne() {
    attach(session);
    TestProbe<BuildletSession.Command> newer = testKit.createTestProbe();

    attach(newer);

    assertEquals(4000, peers.expect(session, BuildletSession.Close.class).code());
    assertEquals(newer.ref(), buildlet.getState().session());
    assertTrue(buildlet.runCommand(new Buildlet.Detach(session.ref(), "closed: replaced")).hasNoEvents(),
        "the old session's end does not detach the new one");
    assertTrue(buildlet.getState().attached());
  }

  @Test
  void aSessionThatStopsDetachesTheBuildletFromItsPool() {
    attach(session);
    peers.expect(pool, HostPool.BuildletUp.class);

    session.stop();

    assertEquals(new HostPool.BuildletDown(agentId, "session stopped"), peers.expect(pool, HostPool.BuildletDown.class));
    BuildletState s = buildlet.getState();
    assertFalse(s.attached());
    assertEquals("session stopped", s.lastDetachCause());
  }

  @Test
  void aLeaseSurvivesItsSessionSoTheBuildStillOwnsTheBuildlet() {
    attach(session);
    lease("b1");

    buildlet.runCommand(new Buildlet.Detach(session.ref(), "socket closed"));
    attach(testKit.createTestProbe());

    assertEquals("b1", buildlet.getState().leasedTo());
    assertRefused(lease("b2").reply(), "busy with b1");
  }

  @Test
  void stateSurvivesRecoveryFromEvents() {
    attach(session);
    lease("b1");
    BuildletState before = buildlet.getState();

    BuildletState after = buildlet.restart().state();

    assertEquals(before, after);
    assertRefused(lease("b2").reply(), "busy with b1");
  }

  @Test
  void afterRecoveryTheBuildletStillNoticesItsSessionStop() {
    attach(session);
    peers.expect(pool, HostPool.BuildletUp.class);
    buildlet.restart();

    session.stop();

    assertEquals(new HostPool.BuildletDown(agentId, "session's node is gone"), peers.expect(pool, HostPool.BuildletDown.class));
  }

  @Test
  void afterRecoveryTheSameSessionMayAttachAgain() {
    attach(session);
    buildlet.restart();

    assertTrue(attach(session).isSuccess());
    assertTrue(buildlet.getState().idle());
  }

  @Test
  void theBuildletReannouncesItselfSoARestartedPoolLearnsItAgain() {
    String id = agentId + "-announcing";
    var announcing = EntityTests.<Buildlet.Command, BuildletEvents.Event, BuildletState>entity(
        testKit, Buildlet.create(id, peers, Duration.ofMillis(200), EntityTests.DEADLINE));
    BuildletInfo i = info(id);
    announcing.<StatusReply<Done>>runCommand(r -> new Buildlet.Attach(i, session.ref(), r));
    assertEquals(new HostPool.BuildletUp(i, true, null), peers.expect(pool, HostPool.BuildletUp.class));
    assertEquals(new HostPool.BuildletUp(i, true, null), peers.expect(pool, HostPool.BuildletUp.class));

    announcing.<StatusReply<Buildlet.Granted>>runCommand(r -> new Buildlet.Lease("b1", r));

    receiveUntil(pool, new HostPool.BuildletUp(i, false, "b1")::equals);
    EntityTests.assertJournalRoundTrips(testKit, announcing, "Buildlet|" + id);
  }

  @Test
  void aBuildletRestartedByAFailedPersistGoesOnAnnouncingItself() {
    // A restart cancels the entity's timers. Without announces after one, a buildlet whose
    // Released failed to persist (Cassandra down) never checked its lease and stayed busy.
    String id = agentId + "-restarted";
    ActorRef<Buildlet.Command> ref = testKit.spawn(Buildlet.create(id, peers, Duration.ofMillis(100), EntityTests.DEADLINE));
    BuildletInfo i = info(id);
    TestProbe<StatusReply<Done>> attached = testKit.createTestProbe();
    ref.tell(new Buildlet.Attach(i, session.ref(), attached.ref()));
    assertTrue(attached.receiveMessage().isSuccess());
    TestProbe<StatusReply<Buildlet.Granted>> granted = testKit.createTestProbe();
    ref.tell(new Buildlet.Lease("b1", granted.ref()));
    assertTrue(granted.receiveMessage().isSuccess());
    receiveUntil(pool, new HostPool.BuildletUp(i, false, "b1")::equals);

    PersistenceTestKit.create(testKit.system()).failNextPersisted("Buildlet|" + id);
    ref.tell(new Buildlet.Release("b1"));

    // The first answer to Get comes from the restarted entity: a Get stashed behind the failed
    // persist is dropped with the incarnation, so ask until one is answered.
    TestProbe<BuildletState> got = testKit.createTestProbe();
    BuildletState after = null;
    for (int k = 0; k < 20 && after == null; k++) {
      ref.tell(new Buildlet.Get(got.ref()));
      try {
        after = got.receiveMessage(Duration.ofMillis(500));
      } catch (AssertionError notYet) {
        // asked again
      }
    }
    assertEquals("b1", after == null ? null : after.leasedTo(), "the release was lost with the failed persist");
    // At most one announce of the old incarnation can still be queued; five more need the timer.
    AtomicInteger announces = new AtomicInteger();
    receiveUntil(pool, m -> m.equals(new HostPool.BuildletUp(i, false, "b1")) && announces.incrementAndGet() == 5);
  }

  @Test
  void aDrainingBuildletIsNotReannouncedToItsPool() {
    String id = agentId + "-draining";
    var announcing = EntityTests.<Buildlet.Command, BuildletEvents.Event, BuildletState>entity(
        testKit, Buildlet.create(id, peers, Duration.ofMillis(100), EntityTests.DEADLINE));
    BuildletInfo i = info(id);
    announcing.<StatusReply<Done>>runCommand(r -> new Buildlet.Attach(i, session.ref(), r));
    receiveUntil(pool, HostPool.BuildletUp.class::isInstance);

    announcing.runCommand(new Buildlet.MarkDraining(session.ref(), "SIGTERM"));

    receiveUntil(pool, new HostPool.BuildletDown(id, "draining: SIGTERM")::equals);
    pool.expectNoMessage(Duration.ofMillis(500)); // five announce periods
    EntityTests.assertJournalRoundTrips(testKit, announcing, "Buildlet|" + id);
  }

  private static BuildletInfo info(String agentId) {
    return new BuildletInfo(agentId, HOST_TYPE, "host-" + agentId, 1, "", "linux", "amd64", 2, "/work", "pekko://node", 0);
  }

  private StatusReply<Done> attach(TestProbe<BuildletSession.Command> s) {
    return buildlet.<StatusReply<Done>>runCommand(r -> new Buildlet.Attach(info, s.ref(), r)).reply();
  }

  private EventSourcedBehaviorTestKit.CommandResultWithReply<Buildlet.Command, BuildletEvents.Event, BuildletState, StatusReply<Buildlet.Granted>>
      lease(String buildId) {
    return buildlet.runCommand(r -> new Buildlet.Lease(buildId, r));
  }
}
