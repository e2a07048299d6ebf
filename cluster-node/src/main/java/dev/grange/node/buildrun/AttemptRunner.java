package dev.grange.node.buildrun;

import dev.grange.node.buildlet.Buildlet;
import dev.grange.node.buildlet.BuildletSession;
import dev.grange.node.buildlet.ExecEvent;
import dev.grange.node.buildlet.ExecSpec;
import dev.grange.node.buildlet.SessionNodes;
import dev.grange.protocol.model.StepSpec;
import dev.grange.protocol.wire.ExitStates;
import java.time.Duration;
import java.util.function.Function;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.RecipientRef;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.pattern.StatusReply;

/**
 * Drives one attempt of a build on one buildlet: ships the source, then runs the steps in order
 * through the buildlet's {@link BuildletSession}, stopping at the first failure. A child of its
 * {@link BuildRun}, not persistent: it reports every step to the parent, which persists, and
 * tells the agent to drop what the parent has persisted (acks of output, forget of an exit).
 *
 * <p>When the session that carries a step ends (socket gone, heartbeats missed, the session's
 * node stopped), the command goes on running on the agent for its grace period: the runner asks
 * the buildlet entity for its next session (the agent reconnects to any node) and resumes the
 * step there from the output already stored. A runner started for a recovered build (the build's
 * node stopped) does the same from the offset its parent persisted. Only when the buildlet does
 * not come back within the grace period, or the agent no longer has the command, is the attempt
 * reported as {@link BuildRun.AttemptLost}: a communication failure, never a step failure.
 */
final class AttemptRunner extends AbstractBehavior<AttemptRunner.Command> {

  sealed interface Command {}

  /** The build was cancelled: kill what runs and stop. */
  enum Cancel implements Command {
    INSTANCE
  }

  /** The parent persisted the end of {@code step}: the agent may drop its execution. */
  record StepRecorded(int step) implements Command {}

  /** The parent persisted that {@code step}'s output below {@code offset} is stored. */
  record ProgressRecorded(int step, long offset) implements Command {}

  /** Where an attempt starts: from scratch, or (recovered) by resuming a step that may run on the agent. */
  record Plan(int attempt, String agentId, int step, boolean tryResume, long fromOffset, boolean sourceNeeded) {
    static Plan fresh(int attempt, String agentId) {
      return new Plan(attempt, agentId, 0, false, 0, true);
    }
  }

  /** What a runner needs besides its build. */
  record Deps(Function<String, RecipientRef<Buildlet.Command>> buildlets, StoredOutput logs, Duration resumeWait, Duration pollEvery) {}

  private enum Phase {
    SHIPPING,
    STEP,
    WAITING,
    ENDING
  }

  private record SourceShipped(ActorRef<BuildletSession.Command> via, StatusReply<BuildletSession.SourcePut> result, long startNanos)
      implements Command {}

  private record FromExec(ExecEvent event) implements Command {}

  private record SessionGone(ActorRef<BuildletSession.Command> session) implements Command {}

  private record LeaseAnswer(Buildlet.Granted granted, Throwable refused) implements Command {}

  private record OutputChecked(int step, boolean any, Throwable failure) implements Command {}

  private enum Poll implements Command {
    INSTANCE
  }

  private enum CancelTimeout implements Command {
    INSTANCE
  }

  static Behavior<Command> create(
      BuildSpec spec, Plan plan, ActorRef<BuildletSession.Command> session, Deps deps, ActorRef<BuildRun.Command> parent) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(t -> new AttemptRunner(ctx, t, spec, plan, session, deps, parent).begin()));
  }

  private final TimerScheduler<Command> timers;
  private final BuildSpec spec;
  private final int attempt;
  private final String agentId;
  private final Deps deps;
  private final ActorRef<BuildRun.Command> parent;
  private final ActorRef<ExecEvent> execEvents;
  private ActorRef<BuildletSession.Command> session;
  /** The session that failed us: the next one must be another. */
  private ActorRef<BuildletSession.Command> failedSession;
  private Phase phase;
  private int step;
  private String execId;
  /** The step's execution may exist on the agent: resume it rather than start it. */
  private boolean tryResume;
  private boolean sourceNeeded;
  /** How much of the step's output is known to be stored. */
  private long stored;
  private boolean lastStepDone;
  /**
   * A runner of a recovered build: the runner before it may have started any step up to the one
   * after the last it reported, so each step is first resumed, and started only if the agent
   * does not know it.
   */
  private final boolean recovered;
  /** The agent does not know this step and none of its output is stored: start it. */
  private boolean startNow;
  private long waitDeadline;
  private String waitCause;
  private boolean cancelled;

  private AttemptRunner(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      BuildSpec spec,
      Plan plan,
      ActorRef<BuildletSession.Command> session,
      Deps deps,
      ActorRef<BuildRun.Command> parent) {
    super(ctx);
    this.timers = timers;
    this.spec = spec;
    this.attempt = plan.attempt();
    this.agentId = plan.agentId();
    this.deps = deps;
    this.parent = parent;
    this.session = session;
    this.step = plan.step();
    this.execId = execIdOf(plan.step());
    this.tryResume = plan.tryResume();
    this.stored = plan.fromOffset();
    this.sourceNeeded = plan.sourceNeeded();
    this.recovered = plan.tryResume();
    this.execEvents = ctx.messageAdapter(ExecEvent.class, FromExec::new);
  }

  private Behavior<Command> begin() {
    if (session == null) {
      return waitForSession("the build's node stopped while the attempt ran");
    }
    watchSession();
    return proceed();
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(SourceShipped.class, this::onSourceShipped)
        .onMessage(FromExec.class, m -> onExec(m.event()))
        .onMessage(SessionGone.class, this::onSessionGone)
        .onMessageEquals(Poll.INSTANCE, this::onPoll)
        .onMessage(LeaseAnswer.class, this::onLeaseAnswer)
        .onMessage(OutputChecked.class, this::onOutputChecked)
        .onMessage(StepRecorded.class, this::onStepRecorded)
        .onMessage(ProgressRecorded.class, this::onProgressRecorded)
        .onMessageEquals(Cancel.INSTANCE, this::onCancel)
        .onMessageEquals(CancelTimeout.INSTANCE, Behaviors::stopped)
        .build();
  }

  /** With a session: resume the step, ship the source, or start the step. */
  private Behavior<Command> proceed() {
    if (tryResume) {
      phase = Phase.STEP;
      session.tell(new BuildletSession.Resume(spec.buildId(), attempt, step, execId, stored, execEvents));
      return this;
    }
    if (sourceNeeded) {
      phase = Phase.SHIPPING;
      ActorRef<BuildletSession.Command> via = session;
      long t0 = System.nanoTime();
      getContext().askWithStatus(
          BuildletSession.SourcePut.class,
          via,
          Duration.ofMinutes(10),
          r -> new BuildletSession.PutSource(".", spec.repo(), spec.rev(), r),
          (ok, err) -> new SourceShipped(via, err == null ? StatusReply.success(ok) : StatusReply.error(err), t0));
      return this;
    }
    return startStep();
  }

  private Behavior<Command> onSourceShipped(SourceShipped m) {
    if (m.via() != session || phase != Phase.SHIPPING) {
      return this;
    }
    if (cancelled) {
      return Behaviors.stopped();
    }
    if (m.result().isError()) {
      String err = m.result().getError().getMessage();
      if (err != null && err.contains(BuildletSession.SESSION_ENDED)) {
        return suspend("shipping the source: " + err);
      }
      parent.tell(new BuildRun.AttemptLost(attempt, "shipping the source failed: " + err));
      return Behaviors.stopped();
    }
    sourceNeeded = false;
    BuildletSession.SourcePut put = m.result().getValue();
    parent.tell(new BuildRun.SourceReady(attempt, put.from(), put.files(), put.bytes(), (System.nanoTime() - m.startNanos()) / 1_000_000));
    return startStep();
  }

  private Behavior<Command> startStep() {
    if (step >= spec.steps().size()) {
      parent.tell(new BuildRun.AttemptSucceeded(attempt));
      return Behaviors.stopped();
    }
    phase = Phase.STEP;
    StepSpec s = spec.steps().get(step);
    execId = execIdOf(step);
    stored = 0;
    parent.tell(new BuildRun.StepBegan(attempt, step));
    tryResume = true;
    if (recovered && !startNow) {
      session.tell(new BuildletSession.Resume(spec.buildId(), attempt, step, execId, 0, execEvents));
      return this;
    }
    startNow = false;
    session.tell(
        new BuildletSession.Exec(
            spec.buildId(),
            attempt,
            step,
            new ExecSpec(execId, s.cmd(), s.args(), s.env(), s.dir(), java.util.List.of(), s.sys(), s.timeoutMs()),
            execEvents));
    // Once the exec is sent, a lost session means: resume it (the agent may run it), never start it twice.
    tryResume = true;
    return this;
  }

  private String execIdOf(int i) {
    return spec.buildId() + "-a" + attempt + "-s" + i;
  }

  private Behavior<Command> onExec(ExecEvent e) {
    if (!e.execId().equals(execId) || phase != Phase.STEP) {
      return this;
    }
    if (e instanceof ExecEvent.Started) {
      return this;
    }
    if (e instanceof ExecEvent.Progress p) {
      stored = Math.max(stored, p.storedBytes());
      parent.tell(new BuildRun.StepProgressed(attempt, step, p.storedBytes()));
      return this;
    }
    if (e instanceof ExecEvent.Suspended s) {
      stored = Math.max(stored, s.storedBytes());
      return cancelled ? Behaviors.stopped() : suspend(s.cause());
    }
    if (e instanceof ExecEvent.Unknown u) {
      // Nothing to resume: start the step afresh, but only if none of its output was stored
      // (the same log must never hold two runs of one step).
      int checking = step;
      getContext().pipeToSelf(
          deps.logs().any(spec.buildId(), attempt, checking),
          (any, err) -> new OutputChecked(checking, any != null && any, err));
      return this;
    }
    if (e instanceof ExecEvent.Lost l) {
      if (!cancelled) {
        parent.tell(new BuildRun.AttemptLost(attempt, l.cause()));
      }
      return Behaviors.stopped();
    }
    String state;
    int code;
    long duration = 0;
    long bytes = 0;
    if (e instanceof ExecEvent.Exited x) {
      state = x.state();
      code = x.exitCode();
      duration = x.durationMs();
      bytes = x.outputBytes();
    } else {
      ExecEvent.Refused r = (ExecEvent.Refused) e;
      state = ExitStates.startFailed(r.code() + ": " + r.message());
      code = -1;
    }
    tryResume = false;
    parent.tell(new BuildRun.StepEnded(attempt, step, state, code, duration, bytes));
    if (cancelled) {
      // The build is over: nobody persists this step any more.
      session.tell(new BuildletSession.Forget(execId));
      return Behaviors.stopped();
    }
    if (!ExitStates.OK.equals(state)) {
      // Wait for the parent to persist the end, then tell the agent to forget it, then stop.
      phase = Phase.ENDING;
      return this;
    }
    step++;
    if (step >= spec.steps().size()) {
      lastStepDone = true;
      phase = Phase.ENDING;
      parent.tell(new BuildRun.AttemptSucceeded(attempt));
      return this;
    }
    return startStep();
  }

  private Behavior<Command> onOutputChecked(OutputChecked m) {
    if (m.step() != step || phase != Phase.STEP) {
      return this;
    }
    if (m.failure() != null || m.any()) {
      parent.tell(new BuildRun.AttemptLost(attempt, "the agent no longer has step " + spec.steps().get(step).name()
          + "'s command (its grace period passed)" + (m.failure() != null ? "; the log store is unavailable: " + m.failure().getMessage() : "")));
      return Behaviors.stopped();
    }
    tryResume = false;
    startNow = true;
    return cancelled ? Behaviors.stopped() : proceed();
  }

  private Behavior<Command> onStepRecorded(StepRecorded m) {
    ActorRef<BuildletSession.Command> s = session;
    if (s != null) {
      s.tell(new BuildletSession.Forget(execIdOf(m.step())));
    }
    if (phase == Phase.ENDING && (lastStepDone ? m.step() == spec.steps().size() - 1 : m.step() == step)) {
      return Behaviors.stopped();
    }
    return this;
  }

  private Behavior<Command> onProgressRecorded(ProgressRecorded m) {
    if (m.step() == step && session != null && phase == Phase.STEP) {
      session.tell(new BuildletSession.AckOutput(execId, m.offset()));
    }
    return this;
  }

  // ---- a lost session ----

  private Behavior<Command> onSessionGone(SessionGone m) {
    if (m.session() != session || phase == Phase.WAITING || phase == Phase.ENDING) {
      return this;
    }
    if (cancelled) {
      return Behaviors.stopped();
    }
    return suspend("the buildlet's session stopped (its node left the cluster?)");
  }

  private Behavior<Command> suspend(String cause) {
    getContext().getLog().info("Build [{}] attempt {}: buildlet [{}] lost its session ({}); waiting up to {} for it to come back",
        spec.buildId(), attempt, agentId, cause, deps.resumeWait());
    failedSession = session;
    if (session != null) {
      getContext().unwatch(session);
    }
    session = null;
    return waitForSession(cause);
  }

  private Behavior<Command> waitForSession(String cause) {
    phase = Phase.WAITING;
    waitCause = cause;
    waitDeadline = System.nanoTime() + deps.resumeWait().toNanos();
    return onPoll();
  }

  private Behavior<Command> onPoll() {
    if (phase != Phase.WAITING) {
      return this;
    }
    // An idempotent lease: the buildlet answers with its current session while it is ours.
    getContext().askWithStatus(
        Buildlet.Granted.class,
        deps.buildlets().apply(agentId),
        deps.pollEvery().multipliedBy(4),
        r -> new Buildlet.Lease(spec.buildId(), r),
        LeaseAnswer::new);
    return this;
  }

  private Behavior<Command> onLeaseAnswer(LeaseAnswer m) {
    if (phase != Phase.WAITING) {
      return this;
    }
    if (cancelled) {
      return Behaviors.stopped();
    }
    Buildlet.Granted g = m.granted();
    if (g != null && !g.session().equals(failedSession) && !SessionNodes.gone(getContext().getSystem(), g.session())) {
      session = g.session();
      getContext().getLog().info("Build [{}] attempt {}: buildlet [{}] is back on {}; resuming",
          spec.buildId(), attempt, agentId, g.node());
      watchSession();
      return proceed();
    }
    if (System.nanoTime() - waitDeadline > 0) {
      parent.tell(new BuildRun.AttemptLost(attempt, "buildlet " + agentId + " did not come back within "
          + deps.resumeWait().toSeconds() + " s: " + waitCause));
      return Behaviors.stopped();
    }
    timers.startSingleTimer(Poll.INSTANCE, deps.pollEvery());
    return this;
  }

  private void watchSession() {
    ActorRef<BuildletSession.Command> s = session;
    getContext().watchWith(s, new SessionGone(s));
  }

  // ---- cancel ----

  private Behavior<Command> onCancel() {
    if (cancelled) {
      return this;
    }
    cancelled = true;
    if (phase == Phase.WAITING || phase == Phase.ENDING || execId == null || session == null) {
      return Behaviors.stopped();
    }
    if (phase == Phase.SHIPPING) {
      return this; // stops when the source is shipped
    }
    session.tell(new BuildletSession.CancelExec(execId));
    // Wait for the exit so the workdir is wiped after the process tree is gone, but not forever.
    timers.startSingleTimer(CancelTimeout.INSTANCE, Duration.ofSeconds(30));
    return this;
  }
}
