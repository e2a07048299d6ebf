package dev.grange.node.buildrun;

import static dev.grange.node.buildrun.BuildRunDriver.lose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grange.node.buildlet.Buildlet;
import dev.grange.node.buildlet.BuildletSession;
import dev.grange.node.buildlet.ExecEvent;
import dev.grange.node.buildrun.BuildRunState.Attempt;
import dev.grange.node.buildrun.BuildRunState.Status;
import dev.grange.node.schedule.HostPool;
import dev.grange.node.testing.EntityTests;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * How a {@link BuildRun} survives its infrastructure: a communication failure (a lost agent, a
 * source that could not be shipped, a runner that died, a node that stopped mid-attempt) ends
 * only the attempt, never as a build failure; the lost buildlet is given back, the build queues
 * again in its old place, every retry is recorded with its cause, and after
 * {@code max-infra-retries} retries the build ends in error saying why.
 */
@ExtendWith(TestKitJUnit5Extension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BuildRunRetryTest {
  private static final int MAX_RETRIES = 2;

  @JUnit5TestKit final ActorTestKit testKit = EntityTests.testKit();

  private BuildRunDriver run;

  @BeforeEach
  void setUp() {
    run = new BuildRunDriver(testKit, MAX_RETRIES, Duration.ofHours(1));
  }

  @AfterEach
  void everyPersistedEventRoundTrips() {
    run.assertJournalRoundTrips();
  }

  @Test
  void aLostAttemptIsRetriedAndTheRetryIsRecordedWithItsCause() {
    HostPool.Acquire first = run.start();
    lose(run.shipSource(run.assign("a1")), "socket closed");

    assertEquals(new Buildlet.RecordInfraFailure(run.buildId, 1, "socket closed"), run.failureReported("a1"));
    run.released("a1");
    HostPool.Acquire retry = run.acquired();
    assertEquals(first.waiter().item(), retry.waiter().item(), "queued again in the place it had");
    assertEquals(List.of("a1"), retry.waiter().avoid(), "on another buildlet if there is one");
    BuildRunState queued = run.state();
    assertEquals(Status.QUEUED, queued.status());
    assertEquals("socket closed", queued.lastAttempt().cause());
    assertTrue(queued.lastAttempt().endMs() > 0);
    assertEquals(BuildRunState.StepResult.INTERRUPTED, queued.shownState(queued.steps().get(0)), "its step was cut short");

    TestProbe<BuildletSession.Command> second = run.assign("a2");
    run.runAllStepsOk(second);
    run.released("a2");

    BuildRunState done = run.state();
    assertEquals("ok", done.result());
    assertEquals(Arrays.asList("socket closed", null), done.attempts().stream().map(Attempt::cause).toList());
    assertEquals(List.of("a1", "a2"), done.attempts().stream().map(Attempt::agentId).toList());
    assertEquals(List.of("ok", "ok"), done.steps().stream().map(BuildRunState.StepResult::state).toList());
  }

  @Test
  void aSourceThatCouldNotBeShippedIsAnInfrastructureRetryNotABuildFailure() {
    run.start();
    TestProbe<BuildletSession.Command> session = run.assign("a1");

    run.sourceAsked(session).replyTo().tell(StatusReply.error("io_error: no space left on device"));

    run.failureReported("a1");
    run.released("a1");
    run.acquired();
    BuildRunState queued = run.state();
    assertEquals(Status.QUEUED, queued.status());
    assertEquals("shipping the source failed: io_error: no space left on device", queued.lastAttempt().cause());
  }

  @Test
  void retriesStopAtMaxInfraRetriesAndTheBuildEndsInError() {
    run.start();
    for (int attempt = 1; attempt <= MAX_RETRIES + 1; attempt++) {
      lose(run.shipSource(run.assign("a" + attempt)), "agent a" + attempt + " vanished");
      assertEquals(attempt, run.failureReported("a" + attempt).attempt());
      run.released("a" + attempt);
      if (attempt <= MAX_RETRIES) {
        assertEquals(attempt, run.acquired().waiter().avoid().size(), "every buildlet it failed on is avoided");
      }
    }

    BuildRunState done = run.state();
    assertEquals(Status.DONE, done.status());
    assertEquals("error", done.result());
    assertEquals("communication failure on 3 attempts; last: agent a3 vanished", done.reason());
    assertEquals(List.of("agent a1 vanished", "agent a2 vanished", "agent a3 vanished"),
        done.attempts().stream().map(Attempt::cause).toList());
    run.peers.pool(BuildRunDriver.HOST_TYPE).expectNoMessage(Duration.ofMillis(300));
  }

  @Test
  void aLossReportedForAnEarlierAttemptChangesNothing() {
    run.start();
    BuildletSession.Exec firstExec = run.shipSource(run.assign("a1"));
    lose(firstExec, "socket closed");
    run.failureReported("a1");
    run.released("a1");
    run.acquired();
    TestProbe<BuildletSession.Command> second = run.assign("a2");
    BuildletSession.Exec secondExec = run.shipSource(second);

    // A late event of the first attempt reaches no one: its runner has stopped.
    firstExec.listener().tell(new ExecEvent.Lost(firstExec.spec().execId(), "late", 0));
    BuildRunDriver.exit(secondExec, "ok", 0);

    assertEquals(1, run.exec(second).step());
    assertEquals(Status.RUNNING, run.state().status());
    assertEquals(2, run.state().currentAttempt());
  }

  @Test
  void anAttemptWhoseRunnerFailsIsRetriedNotLeftRunning() {
    run.start();
    BuildletSession.Exec make = run.shipSource(run.assign("a1"));

    // An event the runner cannot handle (no exec id) makes it throw and stop without a report.
    make.listener().tell(new ExecEvent.Lost(null, "garbled", 0));

    run.failureReported("a1");
    run.released("a1");
    run.acquired();
    BuildRunState queued = run.state();
    assertEquals(Status.QUEUED, queued.status());
    assertTrue(queued.lastAttempt().cause().contains("stopped"), queued.lastAttempt().cause());
  }

  @Test
  void aQueuedBuildAsksItsHostPoolAgainUntilItIsServed() {
    HostPool.Acquire first = run.start();
    // The first request was lost (its shard was moving): the build repeats it, unchanged.
    assertEquals(first, run.acquired());
    run.assign("a1");
    run.peers.pool(BuildRunDriver.HOST_TYPE).expectNoMessage(Duration.ofMillis(1500));
  }
}
