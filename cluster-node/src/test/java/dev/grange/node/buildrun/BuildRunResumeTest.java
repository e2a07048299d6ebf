package dev.grange.node.buildrun;

import static dev.grange.node.buildrun.BuildRunDriver.exit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grange.node.buildlet.Buildlet;
import dev.grange.node.buildlet.BuildletSession;
import dev.grange.node.buildlet.ExecEvent;
import dev.grange.node.buildrun.BuildRunState.Status;
import dev.grange.node.testing.EntityTests;
import dev.grange.protocol.wire.ExitStates;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A build whose buildlet lost its session, or whose own node stopped, goes on where it was
 * (PROTOCOL.md section 5): it finds the buildlet's next session through an idempotent lease,
 * resumes the running step from the stored offset, and only counts an infrastructure failure
 * when the buildlet does not come back in time or no longer has the command.
 */
@ExtendWith(TestKitJUnit5Extension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BuildRunResumeTest {
  @JUnit5TestKit final ActorTestKit testKit = EntityTests.testKit();

  private BuildRunDriver run;

  @BeforeEach
  void newBuild() {
    run = new BuildRunDriver(testKit, 2, Duration.ofMinutes(5));
  }

  @AfterEach
  void everyPersistedEventRoundTrips() {
    run.assertJournalRoundTrips();
  }

  /** The buildlet entity answers the runner's lease with this session. */
  private void buildletAnswers(TestProbe<BuildletSession.Command> session) {
    Buildlet.Lease l = run.peers.expect(run.peers.buildletProbe("a1"), Buildlet.Lease.class);
    assertEquals(run.buildId, l.buildId());
    l.replyTo().tell(StatusReply.success(BuildRunDriver.granted("a1", session)));
  }

  /** Polls the entity's state until it holds (the runner's reports are persisted asynchronously). */
  private void awaitState(java.util.function.Predicate<BuildRunState> holds) {
    long end = System.nanoTime() + EntityTests.DEADLINE.toNanos();
    while (!holds.test(run.state())) {
      assertTrue(System.nanoTime() < end, () -> "state never reached: " + run.state());
      java.util.concurrent.locks.LockSupport.parkNanos(10_000_000L);
    }
  }

  private void buildletNotConnected() {
    Buildlet.Lease l = run.peers.expect(run.peers.buildletProbe("a1"), Buildlet.Lease.class);
    l.replyTo().tell(StatusReply.error("buildlet a1 is not connected"));
  }

  @Test
  void aLostSessionMidStepIsResumedOnTheNextSessionFromTheStoredOffsetWithoutARetry() {
    run.start();
    TestProbe<BuildletSession.Command> first = run.assign("a1");
    BuildletSession.Exec make = run.shipSource(first);
    make.listener().tell(new ExecEvent.Suspended(make.spec().execId(), "socket closed by the agent", 7_000));

    buildletAnswers(first); // the old session is still the attached one: keep looking
    buildletNotConnected();
    TestProbe<BuildletSession.Command> second = testKit.createTestProbe();
    buildletAnswers(second);

    BuildletSession.Resume resume = run.next(second, BuildletSession.Resume.class);
    assertEquals(make.spec().execId(), resume.execId());
    assertEquals(7_000, resume.fromOffset());
    assertEquals(0, resume.step());
    resume.listener().tell(new ExecEvent.Exited(resume.execId(), ExitStates.OK, 0, 10, 9_000));

    BuildletSession.Exec test = run.exec(second);
    assertEquals(1, test.step());
    exit(test, ExitStates.OK, 0);
    run.released("a1");
    BuildRunState done = run.state();
    assertEquals("ok", done.result());
    assertEquals(1, done.attempts().size());
    assertNull(done.lastAttempt().cause());
    assertEquals(9_000, done.steps().get(0).outputBytes());
  }

  @Test
  void progressIsPersistedThenAckedAndARecoveredBuildResumesFromIt() {
    run.start();
    TestProbe<BuildletSession.Command> session = run.assign("a1");
    BuildletSession.Exec make = run.shipSource(session);
    make.listener().tell(new ExecEvent.Progress(make.spec().execId(), 4 << 20));
    BuildletSession.AckOutput ack = run.peers.expect(session, BuildletSession.AckOutput.class);
    assertEquals(new BuildletSession.AckOutput(make.spec().execId(), 4 << 20), ack);

    run.kit.restart(); // the build's node stopped; the entity recovers elsewhere

    buildletAnswers(session);
    BuildletSession.Resume resume = run.next(session, BuildletSession.Resume.class);
    assertEquals(make.spec().execId(), resume.execId());
    assertEquals(4 << 20, resume.fromOffset());
    resume.listener().tell(new ExecEvent.Exited(resume.execId(), ExitStates.exitStatus(1), 1, 10, 5 << 20));
    run.released("a1");
    BuildRunState done = run.state();
    assertEquals("failed", done.result()); // the command's own verdict, heard after the recovery
    assertEquals(1, done.attempts().size());
    assertNull(done.lastAttempt().cause());
  }

  @Test
  void aRecoveredBuildResumesTheNextStepTooForTheRunnerBeforeItMayHaveStartedIt() {
    run.start();
    TestProbe<BuildletSession.Command> session = run.assign("a1");
    BuildletSession.Exec make = run.shipSource(session);

    run.kit.restart(); // the old runner may go on to start step 1 before its node stops

    buildletAnswers(session);
    BuildletSession.Resume first = run.next(session, BuildletSession.Resume.class);
    first.listener().tell(new ExecEvent.Exited(first.execId(), ExitStates.OK, 0, 10, 42));
    // Not an exec: the agent may already run step 1 under this id (it would refuse a second).
    BuildletSession.Resume second = run.next(session, BuildletSession.Resume.class);
    assertEquals(1, second.step());
    assertEquals(0, second.fromOffset());
    second.listener().tell(new ExecEvent.Exited(second.execId(), ExitStates.OK, 0, 10, 42));
    run.released("a1");
    assertEquals("ok", run.state().result());
    assertEquals(1, run.state().attempts().size());
    assertEquals(make.spec().execId(), first.execId());
  }

  @Test
  void aRecoveredBuildBetweenStepsStartsTheNextStepWhenTheAgentDoesNotKnowIt() {
    run.start();
    TestProbe<BuildletSession.Command> session = run.assign("a1");
    exit(run.shipSource(session), ExitStates.OK, 0);
    run.exec(session); // step 1 sent
    awaitState(s -> s.steps().get(1).state().equals("running")); // its start is persisted

    run.kit.restart();

    buildletAnswers(session);
    BuildletSession.Resume resume = run.next(session, BuildletSession.Resume.class);
    assertEquals(1, resume.step());
    resume.listener().tell(new ExecEvent.Unknown(resume.execId(), "no exec " + resume.execId()));
    BuildletSession.Exec test = run.exec(session); // nothing stored: it starts afresh, no source again
    assertEquals(1, test.step());
    exit(test, ExitStates.OK, 0);
    run.released("a1");
    assertEquals("ok", run.state().result());
    assertEquals(1, run.state().attempts().size());
  }

  @Test
  void aStepTheAgentDroppedAfterItsOutputWasStoredIsAnInfrastructureRetry() {
    run.outputStored.set(true);
    run.start();
    TestProbe<BuildletSession.Command> session = run.assign("a1");
    BuildletSession.Exec make = run.shipSource(session);
    make.listener().tell(new ExecEvent.Suspended(make.spec().execId(), "missed 3 heartbeats", 100));
    TestProbe<BuildletSession.Command> second = testKit.createTestProbe();
    buildletAnswers(second);
    BuildletSession.Resume resume = run.next(second, BuildletSession.Resume.class);
    resume.listener().tell(new ExecEvent.Unknown(resume.execId(), "no exec"));

    run.failureReported("a1");
    run.released("a1");
    run.acquired();
    BuildRunState queued = run.state();
    assertEquals(Status.QUEUED, queued.status());
    assertTrue(queued.lastAttempt().cause().contains("no longer has"), queued.lastAttempt().cause());
  }

  @Test
  void aBuildletThatDoesNotComeBackWithinTheGraceIsRetriedWithTheCause() {
    run.start();
    TestProbe<BuildletSession.Command> session = run.assign("a1");
    BuildletSession.Exec make = run.shipSource(session);
    make.listener().tell(new ExecEvent.Suspended(make.spec().execId(), "missed 3 heartbeats", 0));

    TestProbe<Buildlet.Command> buildlet = run.peers.buildletProbe("a1");
    long deadline = System.nanoTime() + BuildRunDriver.RESUME_WAIT.multipliedBy(5).toNanos();
    waiting: while (true) {
      assertTrue(System.nanoTime() < deadline, "the build never gave the buildlet up");
      Buildlet.Command c = buildlet.receiveMessage(EntityTests.DEADLINE);
      if (c instanceof Buildlet.Lease l) {
        l.replyTo().tell(StatusReply.error("buildlet a1 is not connected"));
      } else if (c instanceof Buildlet.RecordInfraFailure f) {
        assertEquals(run.buildId, f.buildId());
      } else if (c instanceof Buildlet.Release r) {
        assertEquals(run.buildId, r.buildId());
        break waiting;
      }
    }
    run.acquired();
    BuildRunState queued = run.state();
    assertEquals(Status.QUEUED, queued.status());
    String cause = queued.lastAttempt().cause();
    assertTrue(cause.contains("did not come back") && cause.contains("missed 3 heartbeats"), cause);
    assertEquals(List.of("running", "pending"), queued.steps().stream().map(BuildRunState.StepResult::state).toList());
  }
}
