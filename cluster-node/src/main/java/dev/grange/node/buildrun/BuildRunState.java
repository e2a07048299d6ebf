package dev.grange.node.buildrun;

import dev.grange.protocol.CborSerializable;
import java.util.ArrayList;
import java.util.List;

/** A build's state, derived from its events only. */
public record BuildRunState(
    BuildSpec spec,
    Status status,
    List<Attempt> attempts,
    List<StepResult> steps,
    String result,
    String reason,
    long finishedAtMs)
    implements CborSerializable {

  public enum Status {
    NEW,
    QUEUED,
    RUNNING,
    DONE
  }

  /**
   * One try on one buildlet; {@code cause} is set when it ended by a communication failure;
   * {@code source} once its source is on the buildlet (null before, and in builds recorded before
   * it was kept).
   */
  public record Attempt(int attempt, String agentId, String hostname, String node, long startMs, long endMs, String cause,
      Source source, List<BuildRunEvents.Stage> stages) implements CborSerializable {
    public Attempt {
      stages = stages == null ? List.of() : List.copyOf(stages);
    }

    public Attempt(int attempt, String agentId, String hostname, String node, long startMs, long endMs, String cause) {
      this(attempt, agentId, hostname, node, startMs, endMs, cause, null, List.of());
    }

    public Attempt(int attempt, String agentId, String hostname, String node, long startMs, long endMs, String cause, Source source) {
      this(attempt, agentId, hostname, node, startMs, endMs, cause, source, List.of());
    }

    Attempt ended(long atMs, String why) {
      return new Attempt(attempt, agentId, hostname, node, startMs, atMs, why, source, stages);
    }
  }

  /** How an attempt's source reached its buildlet ({@link BuildRunEvents.SourceShipped}). */
  public record Source(String from, long files, long bytes, long durationMs) implements CborSerializable {}

  /**
   * A step's outcome; state is pending, running, or the agent's exit state. While it runs,
   * {@code outputBytes} is how much of its output is known stored (the offset to resume from).
   */
  public record StepResult(String name, String state, int exitCode, long startMs, long durationMs, long outputBytes)
      implements CborSerializable {
    public static final String PENDING = "pending";
    public static final String RUNNING = "running";
    /** Shown, never stored: the step was running when its attempt or its build ended without its exit. */
    public static final String INTERRUPTED = "interrupted";

    public boolean finished() {
      return !state.equals(PENDING) && !state.equals(RUNNING);
    }
  }

  public BuildRunState {
    attempts = List.copyOf(attempts);
    steps = List.copyOf(steps);
  }

  public static BuildRunState empty() {
    return new BuildRunState(null, Status.NEW, List.of(), List.of(), null, null, 0);
  }

  public int currentAttempt() {
    return attempts.size();
  }

  public Attempt lastAttempt() {
    return attempts.isEmpty() ? null : attempts.get(attempts.size() - 1);
  }

  /**
   * A step's state as a user should read it: a step still marked running in a build that is not
   * running (cancelled, ended in error, or queued for a retry) was interrupted. The stored state
   * stays running: the log follower reads such a step's output up to what was stored.
   */
  public String shownState(StepResult step) {
    return step.state().equals(StepResult.RUNNING) && status != Status.RUNNING ? StepResult.INTERRUPTED : step.state();
  }

  public int failedAttempts() {
    return (int) attempts.stream().filter(a -> a.cause() != null).count();
  }

  public BuildRunState apply(BuildRunEvents.Event e) {
    if (e instanceof BuildRunEvents.BuildQueued q) {
      List<StepResult> st = new ArrayList<>();
      q.spec().steps().forEach(s -> st.add(new StepResult(s.name(), StepResult.PENDING, 0, 0, 0, 0)));
      return new BuildRunState(q.spec(), Status.QUEUED, List.of(), st, null, null, 0);
    } else if (e instanceof BuildRunEvents.AttemptStarted a) {
      List<Attempt> at = new ArrayList<>(attempts);
      at.add(new Attempt(a.attempt(), a.agentId(), a.hostname(), a.node(), a.atMs(), 0, null, null, a.stages()));
      // A new attempt runs every step again from the start.
      List<StepResult> st = new ArrayList<>();
      steps.forEach(s -> st.add(new StepResult(s.name(), StepResult.PENDING, 0, 0, 0, 0)));
      return new BuildRunState(spec, Status.RUNNING, at, st, null, null, 0);
    } else if (e instanceof BuildRunEvents.SourceShipped sh) {
      List<Attempt> at = new ArrayList<>(attempts);
      Attempt last = at.remove(at.size() - 1);
      at.add(new Attempt(last.attempt(), last.agentId(), last.hostname(), last.node(), last.startMs(), last.endMs(), last.cause(),
          new Source(sh.from(), sh.files(), sh.bytes(), sh.durationMs()), last.stages()));
      return new BuildRunState(spec, status, at, steps, result, reason, finishedAtMs);
    } else if (e instanceof BuildRunEvents.StepStarted s) {
      return withStep(s.step(), new StepResult(steps.get(s.step()).name(), StepResult.RUNNING, 0, s.atMs(), 0, 0));
    } else if (e instanceof BuildRunEvents.StepProgress p) {
      StepResult old = steps.get(p.step());
      return withStep(p.step(), new StepResult(old.name(), old.state(), old.exitCode(), old.startMs(), old.durationMs(),
          Math.max(old.outputBytes(), p.offset())));
    } else if (e instanceof BuildRunEvents.StepFinished f) {
      StepResult old = steps.get(f.step());
      return withStep(f.step(), new StepResult(old.name(), f.state(), f.exitCode(), old.startMs(), f.durationMs(), f.outputBytes()));
    } else if (e instanceof BuildRunEvents.AttemptFailed f) {
      List<Attempt> at = new ArrayList<>(attempts);
      Attempt last = at.remove(at.size() - 1);
      at.add(last.ended(f.atMs(), f.cause()));
      return new BuildRunState(spec, Status.QUEUED, at, steps, null, null, 0);
    } else if (e instanceof BuildRunEvents.BuildFinished f) {
      List<Attempt> at = new ArrayList<>(attempts);
      if (!at.isEmpty() && at.get(at.size() - 1).endMs() == 0) {
        Attempt last = at.remove(at.size() - 1);
        at.add(last.ended(f.atMs(), last.cause()));
      }
      return new BuildRunState(spec, Status.DONE, at, steps, f.result(), f.reason(), f.atMs());
    }
    throw new IllegalArgumentException("unknown event " + e);
  }

  private BuildRunState withStep(int i, StepResult r) {
    List<StepResult> st = new ArrayList<>(steps);
    st.set(i, r);
    return new BuildRunState(spec, status, attempts, st, result, reason, finishedAtMs);
  }
}
