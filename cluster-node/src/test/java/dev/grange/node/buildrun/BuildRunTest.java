package dev.grange.node.buildrun;

import static dev.grange.node.buildrun.BuildRunDriver.exit;
import static dev.grange.node.testing.EntityTests.assertRefused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grange.node.buildlet.BuildletSession;
import dev.grange.node.buildlet.ExecEvent;
import dev.grange.node.buildrun.BuildRunState.Status;
import dev.grange.node.schedule.HostPool;
import dev.grange.node.schedule.HostPoolEvents;
import dev.grange.node.testing.EntityTests;
import dev.grange.protocol.schedule.SchedItem;
import dev.grange.protocol.wire.ExitStates;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The {@link BuildRun} entity and its {@link AttemptRunner}, with probes for the host pool, the
 * buildlets and their sessions: a started build waits in its host type's queue with its priority,
 * runs its steps in order on the buildlet it is given, ends ok or failed by its first failing step,
 * gives its buildlet back once nothing runs on it, can be cancelled while queued or running but
 * not once over, refuses what makes no sense with a reason, survives a restart, and passivates
 * once it is over. Infrastructure failures are {@link BuildRunRetryTest}'s.
 */
@ExtendWith(TestKitJUnit5Extension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BuildRunTest {
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
  void aStartedBuildWaitsInItsHostPoolWithItsPriority() {
    HostPool.Acquire acquire = run.start();

    BuildSpec s = run.spec;
    assertEquals(
        new HostPoolEvents.Waiter(run.buildId, new SchedItem(s.priority(), s.submittedAtMs(), s.commitTimeMs(), s.branch(), run.buildId),
            s.builder(), s.rev(), s.user()),
        acquire.waiter());
    BuildRunState state = run.state();
    assertEquals(Status.QUEUED, state.status());
    assertEquals(List.of("pending", "pending"), state.steps().stream().map(BuildRunState.StepResult::state).toList());
  }

  @Test
  void theStepsRunInOrderOnTheAssignedBuildletAndTheBuildEndsOk() {
    run.start();
    TestProbe<BuildletSession.Command> session = run.assign("a1");

    BuildletSession.PutSource source = run.sourceAsked(session);
    assertEquals(List.of(".", run.spec.repo(), run.spec.rev()), List.of(source.dir(), source.repo(), source.sha()));
    String from = "http://127.0.0.1:9/src/go.tar.gz?rev=" + run.spec.rev();
    source.replyTo().tell(StatusReply.success(new BuildletSession.SourcePut(from, 3, 100)));
    BuildletSession.Exec make = run.exec(session);
    assertEquals(List.of(0, "./make.bash", List.of("-v")), List.of(make.step(), make.spec().cmd(), make.spec().args()));
    assertEquals("running", run.state().steps().get(0).state());
    exit(make, ExitStates.OK, 0);
    BuildletSession.Exec test = run.exec(session);
    assertEquals(1, test.step());
    exit(test, ExitStates.OK, 0);

    run.released("a1");
    BuildRunState done = run.state();
    assertEquals(Status.DONE, done.status());
    assertEquals("ok", done.result());
    assertEquals(List.of("ok", "ok"), done.steps().stream().map(BuildRunState.StepResult::state).toList());
    assertEquals(42, done.steps().get(1).outputBytes());
    BuildRunState.Attempt attempt = done.lastAttempt();
    assertEquals(List.of(1, "a1", "host-a1"), List.of(attempt.attempt(), attempt.agentId(), attempt.hostname()));
    assertTrue(attempt.endMs() >= attempt.startMs() && attempt.endMs() > 0, "the attempt has ended");
    assertEquals(List.of(from, 3L, 100L), List.of(attempt.source().from(), attempt.source().files(), attempt.source().bytes()),
        "how the source came is kept on the attempt");
  }

  @Test
  void aFailingStepEndsTheBuildFailedAndTheLaterStepsNeverRun() {
    run.start();
    TestProbe<BuildletSession.Command> session = run.assign("a1");

    exit(run.shipSource(session), ExitStates.exitStatus(2), 2);

    run.released("a1");
    BuildRunState done = run.state();
    assertEquals("failed", done.result());
    assertEquals("step make: exit status 2", done.reason());
    assertEquals(List.of("exit status 2", "pending"), done.steps().stream().map(BuildRunState.StepResult::state).toList());
    // Once the failure is persisted, the agent may drop the execution; nothing else is asked.
    assertEquals(run.buildId + "-a1-s0", run.peers.expect(session, BuildletSession.Forget.class).execId());
    session.expectNoMessage(Duration.ofMillis(300));
  }

  @Test
  void aCommandTheAgentRefusesFailsTheBuildWithTheAgentsReason() {
    run.start();
    TestProbe<BuildletSession.Command> session = run.assign("a1");
    BuildletSession.Exec make = run.shipSource(session);

    make.listener().tell(new ExecEvent.Refused(make.spec().execId(), "forbidden_path", "dir ../x is outside the workdir"));

    run.released("a1");
    assertEquals("step make: start failed: forbidden_path: dir ../x is outside the workdir", run.state().reason());
  }

  @Test
  void aRepeatedStartOfTheSameBuildIsAcceptedOnce() {
    run.start();

    var again = run.kit.<StatusReply<Done>>runCommand(r -> new BuildRun.Start(run.spec, r));

    assertTrue(again.reply().isSuccess());
    assertTrue(again.hasNoEvents());
  }

  @Test
  void commandsInTheWrongStateAreRefusedWithStatusReplyError() {
    assertRefused(run.kit.<StatusReply<BuildRunState>>runCommand(BuildRun.Get::new).reply(), "no build " + run.buildId);
    assertRefused(run.cancel(), "no build " + run.buildId);
  }

  @Test
  void aStartWithAnotherSpecForAnExistingBuildIsRefused() {
    run.start();
    BuildSpec other = BuildRunDriver.spec(run.buildId);
    BuildSpec changed = new BuildSpec(other.buildId(), "other-builder", other.hostType(), other.steps(), other.repo(), other.rev(),
        other.requestedRev(), other.commitTimeMs(), other.subject(), other.branch(), other.priority(), other.user(), other.submittedAtMs());

    var start = run.kit.<StatusReply<Done>>runCommand(r -> new BuildRun.Start(changed, r));

    assertRefused(start.reply(), run.buildId, "already exists");
    assertTrue(start.hasNoEvents());
    assertEquals(run.spec, run.state().spec());
  }

  @Test
  void aStartThatArrivesAfterItsDeadlineIsRefusedAndQueuesNothing() {
    // Held back by a store outage: the submitter was told 503 long ago.
    var late = run.kit.<StatusReply<Done>>runCommand(r -> new BuildRun.Start(run.spec, r, System.currentTimeMillis() - 1));

    assertRefused(late.reply(), run.buildId, "after its deadline");
    assertTrue(late.hasNoEvents());
    assertEquals(BuildRunState.Status.NEW, run.state().status());
    var inTime = run.kit.<StatusReply<Done>>runCommand(r -> new BuildRun.Start(run.spec, r, System.currentTimeMillis() + 60_000));
    assertTrue(inTime.reply().isSuccess(), () -> inTime.reply().toString());
  }

  @Test
  void aStartWhoseSpecNamesAnotherBuildIsRefused() {
    BuildSpec elsewhere = BuildRunDriver.spec("someone-else");

    var start = run.kit.<StatusReply<Done>>runCommand(r -> new BuildRun.Start(elsewhere, r));

    assertRefused(start.reply(), "someone-else", run.buildId);
    assertTrue(start.hasNoEvents());
  }

  @Test
  void cancelOfAFinishedBuildIsRefusedWithAClearReason() {
    run.start();
    run.runAllStepsOk(run.assign("a1"));
    run.released("a1");

    var cancel = run.kit.<StatusReply<Done>>runCommand(BuildRun.Cancel::new);

    assertRefused(cancel.reply(), run.buildId, "already over", "ok");
    assertTrue(cancel.hasNoEvents());
    assertEquals("ok", cancel.state().result());
  }

  @Test
  void aCancelledQueuedBuildLeavesTheQueueAndGivesBackABuildletServedMeanwhile() {
    run.start();

    assertTrue(run.cancel().isSuccess());

    assertEquals(new HostPool.CancelWait(run.buildId), run.peers.expect(run.peers.pool(BuildRunDriver.HOST_TYPE), HostPool.CancelWait.class));
    assertEquals("cancelled", run.state().result());
    run.kit.runCommand(new BuildRun.BuildletAssigned(BuildRunDriver.granted("a9", testKit.createTestProbe())));
    run.released("a9");
    assertTrue(run.state().attempts().isEmpty(), "a cancelled build starts no attempt");
  }

  @Test
  void aCancelledRunningBuildStopsItsCommandAndReleasesTheBuildletOnlyOnceItExited() {
    run.start();
    TestProbe<BuildletSession.Command> session = run.assign("a1");
    BuildletSession.Exec make = run.shipSource(session);

    assertTrue(run.cancel().isSuccess());

    assertEquals(new BuildletSession.CancelExec(make.spec().execId()), run.peers.expect(session, BuildletSession.CancelExec.class));
    run.peers.buildletProbe("a1").expectNoMessage(Duration.ofMillis(300));
    exit(make, ExitStates.KILLED, -1);
    run.released("a1");
    BuildRunState done = run.state();
    assertEquals(List.of("cancelled", "cancelled by request"), List.of(done.result(), done.reason()));
  }

  @Test
  void aCancelledBuildShowsNoStepAsStillRunning() {
    run.start();
    run.shipSource(run.assign("a1"));

    run.cancel();

    BuildRunState done = run.state();
    assertEquals(List.of(BuildRunState.StepResult.INTERRUPTED, "pending"), done.steps().stream().map(done::shownState).toList());
  }

  @Test
  void aSecondBuildletAssignedToARunningBuildIsGivenBack() {
    run.start();
    TestProbe<BuildletSession.Command> session = run.assign("a1");

    var second = run.kit.runCommand(new BuildRun.BuildletAssigned(BuildRunDriver.granted("a2", testKit.createTestProbe())));

    assertTrue(second.hasNoEvents());
    run.released("a2");
    run.runAllStepsOk(session);
    run.released("a1");
    assertEquals(List.of("a1"), run.state().attempts().stream().map(BuildRunState.Attempt::agentId).toList());
  }

  @Test
  void stateSurvivesRecoveryFromEvents() {
    run.start();
    BuildRunDriver.lose(run.shipSource(run.assign("a1")), "socket closed");
    run.failureReported("a1");
    run.released("a1");
    HostPool.Acquire retry = run.acquired();
    BuildRunState before = run.state();

    BuildRunState after = run.kit.restart().state();

    assertEquals(before, after);
    assertEquals(retry, run.acquired(), "a queued build asks its pool again after a restart, still avoiding a1");
  }

  @Test
  void aFinishedBuildStaysFinishedAfterRecovery() {
    run.start();
    run.runAllStepsOk(run.assign("a1"));
    run.released("a1");
    BuildRunState before = run.state();

    assertEquals(before, run.kit.restart().state());
  }

  @Test
  void aFinishedBuildPassivatesItself() {
    BuildRunDriver quick = new BuildRunDriver(testKit, 2, Duration.ofMillis(100));
    quick.start();

    quick.cancel();

    assertEquals(ClusterSharding.Passivate.class, quick.shard.expectMessageClass(ClusterSharding.Passivate.class, EntityTests.DEADLINE).getClass());
    quick.assertJournalRoundTrips();
  }
}
