package dev.grange.node.buildrun;

import dev.grange.node.buildlet.BuildletSession;
import dev.grange.node.buildlet.ExecEvent;
import dev.grange.node.buildlet.ExecSpec;
import dev.grange.protocol.model.StepSpec;
import dev.grange.protocol.wire.ExitStates;
import java.time.Duration;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.pattern.StatusReply;

/**
 * Drives one attempt of a build on one buildlet: ships the source, then runs the steps in order
 * through the buildlet's {@link BuildletSession}, stopping at the first failure. A child of its
 * {@link BuildRun}, not persistent: it reports every step to the parent, which persists. Ends
 * (stops) after telling the parent how the attempt ended; a communication failure is reported
 * as {@link BuildRun.AttemptLost}, never as a step failure.
 */
final class AttemptRunner extends AbstractBehavior<AttemptRunner.Command> {

  sealed interface Command {}

  /** The build was cancelled: kill what runs and stop. */
  enum Cancel implements Command {
    INSTANCE
  }

  private record SourceShipped(StatusReply<Done> result) implements Command {}

  private record FromExec(ExecEvent event) implements Command {}

  private enum CancelTimeout implements Command {
    INSTANCE
  }

  static Behavior<Command> create(BuildSpec spec, int attempt, int firstStep, ActorRef<BuildletSession.Command> session, ActorRef<BuildRun.Command> parent) {
    return Behaviors.setup(ctx -> new AttemptRunner(ctx, spec, attempt, firstStep, session, parent));
  }

  private final BuildSpec spec;
  private final int attempt;
  private final ActorRef<BuildletSession.Command> session;
  private final ActorRef<BuildRun.Command> parent;
  private final ActorRef<ExecEvent> execEvents;
  private int step = -1;
  private String execId;
  private boolean cancelled;

  private AttemptRunner(ActorContext<Command> ctx, BuildSpec spec, int attempt, int firstStep, ActorRef<BuildletSession.Command> session, ActorRef<BuildRun.Command> parent) {
    super(ctx);
    this.spec = spec;
    this.attempt = attempt;
    this.session = session;
    this.parent = parent;
    this.execEvents = ctx.messageAdapter(ExecEvent.class, FromExec::new);
    ctx.askWithStatus(
        Done.class,
        session,
        Duration.ofMinutes(10),
        r -> new BuildletSession.PutSource(".", spec.repo(), spec.rev(), r),
        (ok, err) -> new SourceShipped(err == null ? StatusReply.ack() : StatusReply.error(err)));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(SourceShipped.class, this::onSourceShipped)
        .onMessage(FromExec.class, m -> onExec(m.event()))
        .onMessageEquals(Cancel.INSTANCE, this::onCancel)
        .onMessageEquals(CancelTimeout.INSTANCE, Behaviors::stopped)
        .build();
  }

  private Behavior<Command> onSourceShipped(SourceShipped m) {
    if (cancelled) {
      return Behaviors.stopped();
    }
    if (m.result().isError()) {
      parent.tell(new BuildRun.AttemptLost(attempt, "shipping the source failed: " + m.result().getError().getMessage()));
      return Behaviors.stopped();
    }
    return nextStep();
  }

  private Behavior<Command> nextStep() {
    step++;
    if (step >= spec.steps().size()) {
      parent.tell(new BuildRun.AttemptSucceeded(attempt));
      return Behaviors.stopped();
    }
    StepSpec s = spec.steps().get(step);
    execId = spec.buildId() + "-a" + attempt + "-s" + step;
    parent.tell(new BuildRun.StepBegan(attempt, step));
    session.tell(
        new BuildletSession.Exec(
            spec.buildId(),
            attempt,
            step,
            new ExecSpec(execId, s.cmd(), s.args(), s.env(), s.dir(), java.util.List.of(), s.sys(), s.timeoutMs()),
            execEvents));
    return this;
  }

  private Behavior<Command> onExec(ExecEvent e) {
    if (!e.execId().equals(execId)) {
      return this;
    }
    if (e instanceof ExecEvent.Started || e instanceof ExecEvent.Progress) {
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
    parent.tell(new BuildRun.StepEnded(attempt, step, state, code, duration, bytes));
    if (cancelled) {
      return Behaviors.stopped();
    }
    if (!ExitStates.OK.equals(state)) {
      return Behaviors.stopped();
    }
    return nextStep();
  }

  private Behavior<Command> onCancel() {
    if (cancelled) {
      return this;
    }
    cancelled = true;
    if (execId == null || step >= spec.steps().size()) {
      return Behaviors.stopped();
    }
    session.tell(new BuildletSession.CancelExec(execId));
    // Wait for the exit so the workdir is wiped after the process tree is gone, but not forever.
    getContext().scheduleOnce(Duration.ofSeconds(30), getContext().getSelf(), CancelTimeout.INSTANCE);
    return this;
  }
}
