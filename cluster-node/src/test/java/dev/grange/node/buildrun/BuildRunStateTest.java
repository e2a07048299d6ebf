package dev.grange.node.buildrun;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.grange.node.buildrun.BuildRunState.Attempt;
import dev.grange.node.buildrun.BuildRunState.Status;
import dev.grange.node.buildrun.BuildRunState.StepResult;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A build's state on its own: every attempt runs all steps again from the first, only attempts
 * ended by a communication failure count against the retries, the end of a build closes the
 * attempt that was open, and a step that was running when its attempt ended is shown interrupted.
 */
class BuildRunStateTest {
  private static final BuildSpec SPEC = BuildRunDriver.spec("b1");

  @Test
  void aNewAttemptRunsEveryStepAgainFromTheFirst() {
    BuildRunState s = queued()
        .apply(new BuildRunEvents.AttemptStarted(1, "a1", "h1", "n", 10))
        .apply(new BuildRunEvents.StepStarted(1, 0, 11))
        .apply(new BuildRunEvents.StepFinished(1, 0, "ok", 0, 5, 100, 16))
        .apply(new BuildRunEvents.StepStarted(1, 1, 17))
        .apply(new BuildRunEvents.AttemptFailed(1, "socket closed", 20));

    s = s.apply(new BuildRunEvents.AttemptStarted(2, "a2", "h2", "n", 30));

    assertEquals(List.of(StepResult.PENDING, StepResult.PENDING), s.steps().stream().map(StepResult::state).toList());
    assertEquals(2, s.currentAttempt());
    assertEquals(Status.RUNNING, s.status());
  }

  @Test
  void onlyAttemptsEndedByACommunicationFailureCountAsFailed() {
    BuildRunState s = queued()
        .apply(new BuildRunEvents.AttemptStarted(1, "a1", "h1", "n", 10))
        .apply(new BuildRunEvents.AttemptFailed(1, "socket closed", 20))
        .apply(new BuildRunEvents.AttemptStarted(2, "a2", "h2", "n", 30))
        .apply(new BuildRunEvents.BuildFinished("failed", "step make: exit status 1", 40));

    assertEquals(1, s.failedAttempts());
    assertEquals(List.of(new Attempt(1, "a1", "h1", "n", 10, 20, "socket closed"), new Attempt(2, "a2", "h2", "n", 30, 40, null)),
        s.attempts(), "the build's end closed the open attempt, and only that one");
  }

  @Test
  void aStepRunningWhenItsAttemptEndedIsShownInterruptedAndOnlyThen() {
    BuildRunState running = queued()
        .apply(new BuildRunEvents.AttemptStarted(1, "a1", "h1", "n", 10))
        .apply(new BuildRunEvents.StepStarted(1, 0, 11));
    assertEquals(StepResult.RUNNING, running.shownState(running.steps().get(0)));

    BuildRunState requeued = running.apply(new BuildRunEvents.AttemptFailed(1, "socket closed", 20));
    BuildRunState cancelled = running.apply(new BuildRunEvents.BuildFinished("cancelled", "cancelled by request", 20));

    for (BuildRunState s : List.of(requeued, cancelled)) {
      assertEquals(List.of(StepResult.INTERRUPTED, StepResult.PENDING), s.steps().stream().map(s::shownState).toList());
      assertEquals(StepResult.RUNNING, s.steps().get(0).state(), "stored as it was: the log follower reads up to what is stored");
    }
  }

  private static BuildRunState queued() {
    return BuildRunState.empty().apply(new BuildRunEvents.BuildQueued(SPEC));
  }
}
