package dev.grange.node.buildlet;

import static dev.grange.node.testing.EntityTests.assertRefused;
import static dev.grange.node.testing.EntityTests.receiveUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grange.node.schedule.HostPool;
import dev.grange.node.testing.EntityTests;
import dev.grange.node.testing.ManualClock;
import dev.grange.node.testing.TestPeers;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.Done;
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
 * A {@link Buildlet}'s infrastructure failures and its quarantine, with probes for its session and
 * its pool and a clock the test moves: three failures within the hour quarantine it (no leases,
 * its pool told), older ones have aged out, a repeated report counts once, failed workdir wipes
 * count too; an admin or a health check passed for the whole probation lifts it; and the
 * quarantine survives a restart.
 */
@ExtendWith(TestKitJUnit5Extension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BuildletQuarantineTest {
  private static final String HOST_TYPE = "linux-amd64";
  private static final AtomicInteger AGENTS = new AtomicInteger();
  /** K = 3 in 1 h; health checks every 100 ms (only while quarantined and connected), 10 min of them lift it. */
  private static final QuarantinePolicy POLICY =
      new QuarantinePolicy(3, Duration.ofHours(1), Duration.ofMillis(100), Duration.ofMinutes(10));

  /** What the pool hears once a quarantine is lifted: idle again, failures counted, none in the (fresh) window. */
  private static final java.util.function.Predicate<HostPool.Command> QUARANTINE_LIFTED =
      m -> m instanceof HostPool.BuildletUp u && u.idle() && u.health().infraFailures() > 0 && u.health().infraFailuresInWindow() == 0;

  @JUnit5TestKit final ActorTestKit testKit = EntityTests.testKit();

  private String agentId;
  private BuildletInfo info;
  private TestPeers peers;
  private TestProbe<HostPool.Command> pool;
  private TestProbe<BuildletSession.Command> session;
  private ManualClock clock;
  /** The status request of a health check under way that the test has not answered yet, or null. */
  private BuildletSession.GetStatus pendingStatus;
  private EventSourcedBehaviorTestKit<Buildlet.Command, BuildletEvents.Event, BuildletState> buildlet;

  @BeforeEach
  void setUp() {
    agentId = "quarantine" + AGENTS.incrementAndGet();
    info = new BuildletInfo(agentId, HOST_TYPE, "host-" + agentId, 1, "", "linux", "amd64", 2, "/work", "pekko://node", 0);
    peers = new TestPeers(testKit);
    pool = peers.pool(HOST_TYPE);
    session = testKit.createTestProbe();
    clock = new ManualClock(1_800_000_000_000L);
    pendingStatus = null;
    buildlet = EntityTests.entity(testKit, Buildlet.create(agentId, peers, Duration.ofHours(1), EntityTests.DEADLINE, POLICY, clock));
  }

  @AfterEach
  void everyPersistedEventRoundTrips() {
    EntityTests.assertJournalRoundTrips(testKit, buildlet, "Buildlet|" + agentId);
  }

  @Test
  void threeFailuresWithinTheWindowQuarantineTheBuildletAndItsPoolHearsOfIt() {
    attach(session);
    fail("b1", 1, "agent stopped answering");
    fail("b2", 1, "socket closed");

    var third = buildlet.runCommand(new Buildlet.RecordInfraFailure("b3", 2, "heartbeat lost"));

    assertEquals(BuildletEvents.Quarantined.class, third.events().get(1).getClass());
    BuildletState.Quarantine q = third.state().quarantine();
    assertEquals(clock.millis(), q.sinceMs());
    assertEquals("3 infrastructure failures within 1h; last: heartbeat lost", q.reason());
    HostPool.Command told = receiveUntil(pool, m -> m instanceof HostPool.BuildletUp u && u.health().quarantine() != null);
    assertEquals(new HostPool.BuildletUp(info, false, null, new BuildletState.Health(3, 3, q)), told);
    testKit.serializationTestKit().verifySerialization(told, true);
    assertRefused(lease("b4").reply(), agentId, "quarantined", "heartbeat lost", "/api/v1/buildlets/" + agentId + "/unquarantine");
  }

  @Test
  void failuresOlderThanTheWindowDoNotCount() {
    attach(session);
    fail("b1", 1, "socket closed");
    fail("b2", 1, "socket closed");
    clock.advance(Duration.ofMinutes(61));

    var third = buildlet.runCommand(new Buildlet.RecordInfraFailure("b3", 1, "socket closed"));

    assertEquals(1, third.events().size(), "no quarantine");
    assertNull(third.state().quarantine());
    assertEquals(new BuildletState.Health(3, 1, null), third.state().health(clock.millis(), POLICY.window()));
    assertTrue(lease("b4").reply().isSuccess());
  }

  @Test
  void aRepeatedReportOfTheSameAttemptCountsOnce() {
    attach(session);
    fail("b1", 1, "socket closed");

    assertTrue(buildlet.runCommand(new Buildlet.RecordInfraFailure("b1", 1, "socket closed")).hasNoEvents());
    assertTrue(buildlet.runCommand(new Buildlet.RecordInfraFailure("b1", 0, "no such attempt")).hasNoEvents(), "attempts are 1-based");
    assertEquals(1, buildlet.getState().infraFailures());
  }

  @Test
  void anAdminLiftsTheQuarantineAndTheBuildletIsLeasedAgainWithAFreshWindow() {
    attach(session);
    quarantine();

    var lifted = unquarantine();

    assertTrue(lifted.reply().isSuccess());
    assertEquals(new BuildletEvents.QuarantineLifted(Buildlet.BY_ADMIN, clock.millis()), lifted.event());
    receiveUntil(pool, new HostPool.BuildletUp(info, true, null, new BuildletState.Health(3, 0, null))::equals);
    fail("b9", 1, "socket closed");
    assertNull(buildlet.getState().quarantine(), "the failures before the lift no longer count");
    assertTrue(lease("b10").reply().isSuccess());
  }

  @Test
  void liftingIsRefusedForABuildletThatIsNotQuarantinedOrUnknown() {
    // The test kit cannot follow an entity that stops: this one runs as a plain actor.
    var unknown = testKit.spawn(Buildlet.create(agentId + "-unknown", peers, Duration.ofHours(1), EntityTests.DEADLINE, POLICY, clock));
    TestProbe<StatusReply<Done>> refused = testKit.createTestProbe();
    unknown.tell(new Buildlet.Unquarantine(Buildlet.BY_ADMIN, refused.ref()));
    assertRefused(refused.receiveMessage(), "no buildlet " + agentId + "-unknown");
    refused.expectTerminated(unknown); // a call for an unknown id leaves no entity behind
    assertTrue(buildlet.persistenceTestKit().persistedInStorage("Buildlet|" + agentId + "-unknown").isEmpty());

    attach(session);
    var notQuarantined = unquarantine();

    assertRefused(notQuarantined.reply(), agentId, "not quarantined");
    assertTrue(notQuarantined.hasNoEvents());
  }

  @Test
  void healthChecksPassingForTheWholeProbationOnOneConnectionLiftTheQuarantine() {
    attach(session);
    lease("b1");
    quarantine(); // b1's attempt was lost, its build lets go of the buildlet next
    buildlet.runCommand(new Buildlet.Release("b1"));
    assertEquals("b1", buildlet.getState().dirtyAfter(), "not wiped by the release: the health check wipes");

    passCheck(); // probation starts
    clock.advance(Duration.ofMinutes(6));
    failCheck();
    clock.advance(Duration.ofMinutes(6));
    passCheck(); // probation starts again: the failed check broke it
    assertNull(buildlet.getState().dirtyAfter(), "the check's wipe emptied the workdir");
    clock.advance(Duration.ofMinutes(9));
    passCheck();
    assertNotNull(buildlet.getState().quarantine(), "9 minutes of passing checks are not 10");
    clock.advance(Duration.ofMinutes(1));

    passLastCheck();

    receiveUntil(pool, QUARANTINE_LIFTED);
    assertNull(buildlet.getState().quarantine());
    assertTrue(buildlet.persistenceTestKit().persistedInStorage("Buildlet|" + agentId)
        .contains(new BuildletEvents.QuarantineLifted(Buildlet.BY_HEALTH_CHECK, clock.millis())));
    assertTrue(lease("b2").reply().isSuccess());
  }

  @Test
  void aReconnectRestartsTheProbation() {
    attach(session);
    quarantine();
    passCheck();
    clock.advance(Duration.ofMinutes(11));
    TestProbe<BuildletSession.Command> next = testKit.createTestProbe();

    session = next;
    pendingStatus = null; // the old connection's check is never answered
    attach(next);
    passCheck(); // the first check on the new connection

    assertNotNull(buildlet.getState().quarantine());
    clock.advance(Duration.ofMinutes(10));
    passLastCheck();
    receiveUntil(pool, QUARANTINE_LIFTED);
    assertNull(buildlet.getState().quarantine());
  }

  @Test
  void aBuildletWhoseWipeKeepsFailingIsQuarantinedAndKeepsItsSessionForTheHealthCheck() {
    attach(session);
    lease("b1");
    buildlet.runCommand(new Buildlet.Release("b1"));
    TestProbe<BuildletSession.Command> current = session;
    for (int i = 1; i <= 2; i++) {
      peers.expect(current, BuildletSession.RemoveAll.class).replyTo().tell(StatusReply.error("io_error: disk full"));
      assertEquals(new BuildletSession.Close(1011, "workdir wipe failed"), peers.expect(current, BuildletSession.Close.class));
      current = testKit.createTestProbe();
      attach(current);
    }

    peers.expect(current, BuildletSession.RemoveAll.class).replyTo().tell(StatusReply.error("io_error: disk full"));

    receiveUntil(pool, m -> m instanceof HostPool.BuildletUp u && u.health().quarantine() != null);
    BuildletState s = buildlet.getState();
    assertTrue(s.quarantine().reason().contains("workdir wipe failed: io_error: disk full"), s.quarantine().reason());
    assertEquals(current.ref(), s.session());
    session = current;
    passCheck(); // not closed: the health check talks to it
  }

  @Test
  void theQuarantineSurvivesARestartAndItsHealthCheckRunsAgain() {
    attach(session);
    quarantine();
    peers.expect(session, BuildletSession.GetStatus.class); // a check under way, left unanswered: no other starts
    BuildletState before = buildlet.getState();

    BuildletState after = buildlet.restart().state();

    assertEquals(before, after);
    assertRefused(lease("b9").reply(), "quarantined");
    passCheck(); // the restarted entity checks again
  }

  @Test
  void theReferenceConfigHoldsTheDefaultsAndABadValueIsRefusedNamingItsKey() {
    com.typesafe.config.Config reference = com.typesafe.config.ConfigFactory.defaultReference().getConfig("grange.node.quarantine");
    assertEquals(QuarantinePolicy.DEFAULT, QuarantinePolicy.fromConfig(reference));

    var zero = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> QuarantinePolicy.fromConfig(
        com.typesafe.config.ConfigFactory.parseString("max-failures = 0").withFallback(reference)));
    assertTrue(zero.getMessage().contains("grange.node.quarantine.max-failures"), zero.getMessage());
    var typo = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> QuarantinePolicy.fromConfig(
        com.typesafe.config.ConfigFactory.parseString("probation = soon").withFallback(reference)));
    assertTrue(typo.getMessage().contains("grange.node.quarantine") && typo.getMessage().contains("probation"), typo.getMessage());
  }

  private void quarantine() {
    for (int i = 1; i <= 3 && buildlet.getState().quarantine() == null; i++) {
      fail("q" + i, 1, "socket closed");
    }
    assertNotNull(buildlet.getState().quarantine());
  }

  private void fail(String buildId, int attempt, String cause) {
    var r = buildlet.runCommand(new Buildlet.RecordInfraFailure(buildId, attempt, cause));
    assertEquals(new BuildletEvents.InfraFailureRecorded(buildId, attempt, cause, clock.millis()), r.events().get(0));
  }

  /**
   * A health check passes: it asks the session for the agent's status, then empties the workdir;
   * both succeed. Returns once the next check has begun (left unanswered, so no other starts): it
   * begins only after this one's result was handled, so what that changed is in the state now.
   */
  private void passCheck() {
    passLastCheck();
    pendingStatus = peers.expect(session, BuildletSession.GetStatus.class);
  }

  /** A health check passes that lifts the quarantine, so no check follows it. */
  private void passLastCheck() {
    nextStatus().replyTo().tell(StatusReply.success(new BuildletSession.AgentStatus(1, 60_000, 0.5, 1L << 30, 0)));
    BuildletSession.RemoveAll wipe = peers.expect(session, BuildletSession.RemoveAll.class);
    assertEquals(List.of("."), wipe.paths());
    wipe.replyTo().tell(StatusReply.ack());
  }

  /** A health check fails: the agent does not answer its status request; returns once the next check has begun. */
  private void failCheck() {
    nextStatus().replyTo().tell(StatusReply.error("timeout"));
    pendingStatus = peers.expect(session, BuildletSession.GetStatus.class);
  }

  private BuildletSession.GetStatus nextStatus() {
    BuildletSession.GetStatus s = pendingStatus != null ? pendingStatus : peers.expect(session, BuildletSession.GetStatus.class);
    pendingStatus = null;
    return s;
  }

  private void attach(TestProbe<BuildletSession.Command> s) {
    assertTrue(buildlet.<StatusReply<Done>>runCommand(r -> new Buildlet.Attach(info, s.ref(), r)).reply().isSuccess());
  }

  private EventSourcedBehaviorTestKit.CommandResultWithReply<Buildlet.Command, BuildletEvents.Event, BuildletState, StatusReply<Buildlet.Granted>>
      lease(String buildId) {
    return buildlet.runCommand(r -> new Buildlet.Lease(buildId, r));
  }

  private EventSourcedBehaviorTestKit.CommandResultWithReply<Buildlet.Command, BuildletEvents.Event, BuildletState, StatusReply<Done>>
      unquarantine() {
    return buildlet.runCommand(r -> new Buildlet.Unquarantine(Buildlet.BY_ADMIN, r));
  }
}
