package dev.grange.node.buildrun;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.grange.node.buildlet.Buildlet;
import dev.grange.node.buildlet.BuildletSession;
import dev.grange.node.testing.EntityTests;
import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A buildlet asks the build it is leased to whether it still needs it (a release can be lost with
 * a node or a failed persist): the build gives back a lease it is done with or that is not the
 * one it runs on at once, and keeps the one it runs on, and a young one while it is queued (its
 * attempt may be on its way to the journal).
 */
@ExtendWith(TestKitJUnit5Extension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BuildRunLeaseCheckTest {
  @JUnit5TestKit final ActorTestKit testKit = EntityTests.testKit();

  private BuildRunDriver run;

  @BeforeEach
  void setUp() {
    run = new BuildRunDriver(testKit, 2, Duration.ofHours(1));
  }

  @AfterEach
  void everyPersistedEventRoundTrips() {
    run.assertJournalRoundTrips();
  }

  @Test
  void aFinishedBuildGivesBackALeaseWhoseReleaseWasLost() {
    run.start();
    TestProbe<BuildletSession.Command> session = run.assign("a1");
    run.runAllStepsOk(session);
    run.released("a1");

    assertEquals(new Buildlet.LeaseNotNeeded(run.buildId), check("a1", 1_000));
  }

  @Test
  void aRunningBuildKeepsTheBuildletItRunsOnAndGivesBackAnyOther() {
    run.start();
    run.assign("a1");

    TestProbe<Buildlet.Command> a1 = testKit.createTestProbe();
    run.kit.runCommand(new BuildRun.CheckLease("a1", 60_000, a1.ref()));
    // a2's check is handled after a1's: had a1's been answered, its answer would already be there.
    assertEquals(new Buildlet.LeaseNotNeeded(run.buildId), check("a2", 60_000));
    a1.expectNoMessage(Duration.ofMillis(1));
  }

  @Test
  void aQueuedBuildKeepsAYoungLeaseAndGivesBackAnOldOne() {
    run.start();

    TestProbe<Buildlet.Command> young = testKit.createTestProbe();
    run.kit.runCommand(new BuildRun.CheckLease("a1", BuildRun.QUEUED_LEASE_KEPT.toMillis() - 1, young.ref()));
    assertEquals(new Buildlet.LeaseNotNeeded(run.buildId), check("a1", BuildRun.QUEUED_LEASE_KEPT.toMillis()));
    young.expectNoMessage(Duration.ofMillis(1));
  }

  /** What the build answers a check of {@code agentId}'s lease of that age. */
  private Buildlet.Command check(String agentId, long leasedForMs) {
    TestProbe<Buildlet.Command> buildlet = testKit.createTestProbe();
    run.kit.runCommand(new BuildRun.CheckLease(agentId, leasedForMs, buildlet.ref()));
    return run.peers.expect(buildlet, Buildlet.LeaseNotNeeded.class);
  }
}
