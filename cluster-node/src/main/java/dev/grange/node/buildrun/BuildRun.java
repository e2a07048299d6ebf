package dev.grange.node.buildrun;

import dev.grange.node.Peers;
import dev.grange.node.api.BuildJson;
import dev.grange.node.buildlet.Buildlet;
import dev.grange.node.live.LiveNote;
import dev.grange.node.live.LiveTopic;
import dev.grange.node.buildrun.BuildRunState.Status;
import dev.grange.node.schedule.HostPool;
import dev.grange.node.schedule.HostPoolEvents;
import dev.grange.protocol.CborSerializable;
import dev.grange.protocol.schedule.SchedItem;
import dev.grange.protocol.wire.ExitStates;
import java.time.Duration;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingSettings;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * One build, from accepted to finished: sharded, event-sourced, id = build id, remembered by
 * sharding while it runs so that a restarted node starts it again.
 *
 * <p>{@link Start} persists it queued and asks its {@link HostPool} for a buildlet; {@link
 * BuildletAssigned} starts an attempt, driven by an {@link AttemptRunner} child that reports each
 * step. A command that fails ends the build failed; a communication failure ends only the
 * attempt: the build queues again, at most {@code maxRetries} times, each retry persisted with
 * its cause. When the build is over its buildlet is released (wiped and idle again) and the
 * entity passivates after a while. Persists: queued, attempt started, step started/finished,
 * attempt failed, finished.
 */
public final class BuildRun
    extends EventSourcedBehaviorWithEnforcedReplies<BuildRun.Command, BuildRunEvents.Event, BuildRunState> {

  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "BuildRun");

  public sealed interface Command extends CborSerializable {}

  /**
   * Accept a build. Replies once it is persisted as queued; idempotent for the same spec, refused
   * for another spec under the same id or a spec of another build. A new build is refused when the
   * start arrives after {@code acceptBeforeMs}: its submitter has already been told it was not
   * confirmed (a start held back by a store outage must not run a build nobody waits for).
   */
  public record Start(BuildSpec spec, ActorRef<StatusReply<Done>> replyTo, long acceptBeforeMs) implements Command {
    /** A start with no deadline. */
    public Start(BuildSpec spec, ActorRef<StatusReply<Done>> replyTo) {
      this(spec, replyTo, Long.MAX_VALUE);
    }
  }

  /** From the host pool: a buildlet leased to this build. */
  public record BuildletAssigned(Buildlet.Granted buildlet, java.util.List<BuildRunEvents.Stage> stages) implements Command {
    public BuildletAssigned {
      stages = stages == null ? java.util.List.of() : java.util.List.copyOf(stages);
    }

    public BuildletAssigned(Buildlet.Granted buildlet) {
      this(buildlet, java.util.List.of());
    }
  }

  /** From a buildlet leased to this build: is it still needed? Answered only when it is not. */
  public record CheckLease(String agentId, long leasedForMs, ActorRef<Buildlet.Command> buildlet) implements Command {}

  /**
   * A queued build may hold a lease it has not yet persisted an attempt on (its assignment is under
   * way); past this age such a lease is taken for one the pool took back and lost.
   */
  static final Duration QUEUED_LEASE_KEPT = Duration.ofSeconds(30);

  /** Cancel; refused when the build is already over. */
  public record Cancel(ActorRef<StatusReply<Done>> replyTo) implements Command {}

  /** The build as it is now; an error when there is no such build. */
  public record Get(ActorRef<StatusReply<BuildRunState>> replyTo) implements Command {}

  // From the attempt runner (local only).
  record StepBegan(int attempt, int step) implements Command {}

  /** The attempt's source is on its buildlet (how, and what it took). */
  record SourceReady(int attempt, String from, long files, long bytes, long durationMs) implements Command {}

  record StepProgressed(int attempt, int step, long offset) implements Command {}

  record StepEnded(int attempt, int step, String state, int exitCode, long durationMs, long outputBytes) implements Command {}

  record AttemptSucceeded(int attempt) implements Command {}

  record AttemptLost(int attempt, String cause) implements Command {}

  private record RunnerStopped(int attempt) implements Command {}

  private enum Idle implements Command {
    INSTANCE
  }

  /** Still queued: ask the host pool again (a message to it can be lost while its shard moves). */
  private enum Reacquire implements Command {
    INSTANCE
  }

  /**
   * How often a queued build repeats its request to its host pool (idempotent there): twenty
   * times the resumption's poll interval (10 s in a node).
   */
  private Duration reacquireEvery() {
    return runnerDeps.pollEvery().multipliedBy(20);
  }

  /**
   * How an attempt whose buildlet lost its session comes back: how long to wait for the buildlet's
   * next session (the agent's grace period and a margin), how often to look, and how to tell
   * whether a step has stored output.
   */
  public record Resumption(StoredOutput logs, Duration resumeWait, Duration pollEvery) {}

  public static void init(
      org.apache.pekko.actor.typed.ActorSystem<?> system, ClusterSharding sharding, int maxRetries, Duration passivateAfter,
      Resumption resumption) {
    Peers peers = Peers.sharded(sharding);
    sharding.init(
        Entity.of(ENTITY_KEY, ctx -> create(ctx.getEntityId(), peers, ctx.getShard(), maxRetries, passivateAfter, resumption))
            .withSettings(ClusterShardingSettings.create(system).withRememberEntities(true)));
  }

  /**
   * The entity of one build; {@code peers} reaches its host pool and buildlets, {@code shard} is
   * asked to passivate it once it is over.
   */
  public static Behavior<Command> create(
      String buildId, Peers peers, ActorRef<ClusterSharding.ShardCommand> shard, int maxRetries, Duration passivateAfter,
      Resumption resumption) {
    AttemptRunner.Deps deps = new AttemptRunner.Deps(peers::buildlet, resumption.logs(), resumption.resumeWait(), resumption.pollEvery());
    return Behaviors.<Command>setup(
        c -> Behaviors.withTimers(t -> new BuildRun(buildId, c, t, peers, shard, maxRetries, passivateAfter, deps)));
  }

  private final String buildId;
  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final Peers peers;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final int maxRetries;
  private final Duration passivateAfter;
  private final AttemptRunner.Deps runnerDeps;
  private ActorRef<AttemptRunner.Command> runner;
  private int runnerAttempt;
  /** Runners of one attempt get distinct names: a recovered one may start before the old one's name is free. */
  private int runnerIncarnation;

  private BuildRun(
      String buildId,
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      Peers peers,
      ActorRef<ClusterSharding.ShardCommand> shard,
      int maxRetries,
      Duration passivateAfter,
      AttemptRunner.Deps runnerDeps) {
    super(
        PersistenceId.of(ENTITY_KEY.name(), buildId),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(10), 0.2));
    this.buildId = buildId;
    this.ctx = ctx;
    this.timers = timers;
    this.peers = peers;
    this.shard = shard;
    this.maxRetries = maxRetries;
    this.passivateAfter = passivateAfter;
    this.runnerDeps = runnerDeps;
  }

  @Override
  public BuildRunState emptyState() {
    return BuildRunState.empty();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(50, 2);
  }

  @Override
  public SignalHandler<BuildRunState> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(
            RecoveryCompleted.instance(),
            s -> {
              if (s.status() == Status.QUEUED) {
                acquire(s);
              } else if (s.status() == Status.RUNNING) {
                // The attempt's runner died with the node (or the incarnation) that ran it; its
                // command may still run on the agent: pick it up where the persisted state says.
                recover(s);
              } else {
                idleLater();
              }
              if (s.status() != Status.NEW) {
                published(s); // repairs an index row or a live note lost with a crash or an outage
              }
            })
        .build();
  }

  @Override
  public CommandHandlerWithReply<Command, BuildRunEvents.Event, BuildRunState> commandHandler() {
    return newCommandHandlerWithReplyBuilder()
        .forAnyState()
        .onCommand(Start.class, this::onStart)
        .onCommand(BuildletAssigned.class, this::onAssigned)
        .onCommand(StepBegan.class, this::onStepBegan)
        .onCommand(SourceReady.class, this::onSourceReady)
        .onCommand(StepProgressed.class, this::onStepProgressed)
        .onCommand(StepEnded.class, this::onStepEnded)
        .onCommand(AttemptSucceeded.class, this::onSucceeded)
        .onCommand(AttemptLost.class, this::onLost)
        .onCommand(RunnerStopped.class, this::onRunnerStopped)
        .onCommand(Cancel.class, this::onCancel)
        .onCommand(Get.class, this::onGet)
        .onCommand(CheckLease.class, this::onCheckLease)
        .onCommand(Idle.class, this::onIdle)
        .onCommand(Reacquire.class, (s, c) -> {
          if (s.status() == Status.QUEUED) {
            acquire(s);
          }
          return Effect().noReply();
        })
        .build();
  }

  private ReplyEffect<BuildRunEvents.Event, BuildRunState> onStart(BuildRunState s, Start c) {
    if (!buildId.equals(c.spec().buildId())) {
      return Effect().reply(c.replyTo(), StatusReply.error("the spec is for build " + c.spec().buildId() + ", not for build " + buildId));
    }
    if (s.status() != Status.NEW) {
      if (!s.spec().equals(c.spec())) {
        return Effect().reply(c.replyTo(), StatusReply.error("build " + buildId + " already exists with another spec (builder "
            + s.spec().builder() + ", rev " + s.spec().rev() + "): submit the new one under a new build id"));
      }
      return Effect().reply(c.replyTo(), StatusReply.ack());
    }
    if (System.currentTimeMillis() > c.acceptBeforeMs()) {
      ctx.getLog().warn("Build [{}] not accepted: its start arrived {} ms after its deadline", buildId,
          System.currentTimeMillis() - c.acceptBeforeMs());
      idleLater();
      return Effect().reply(c.replyTo(), StatusReply.error("the start of build " + buildId + " arrived after its deadline; submit again"));
    }
    return Effect()
        .persist(new BuildRunEvents.BuildQueued(c.spec()))
        .thenRun(this::acquire)
        .thenRun(this::published)
        .thenReply(c.replyTo(), ns -> StatusReply.ack());
  }

  /** Queues the build in its host pool, asking it to avoid the buildlets its earlier attempts failed on. */
  private void acquire(BuildRunState s) {
    timers.startSingleTimer(Reacquire.INSTANCE, reacquireEvery());
    BuildSpec spec = s.spec();
    java.util.List<String> avoid =
        s.attempts().stream().filter(a -> a.cause() != null).map(BuildRunState.Attempt::agentId).distinct().toList();
    peers
        .hostPool(spec.hostType())
        .tell(
            new HostPool.Acquire(
                new HostPoolEvents.Waiter(
                    buildId,
                    new SchedItem(spec.priority(), spec.submittedAtMs(), spec.commitTimeMs(), spec.branch(), buildId),
                    spec.builder(),
                    spec.rev(),
                    spec.user(),
                    avoid)));
  }

  private ReplyEffect<BuildRunEvents.Event, BuildRunState> onAssigned(BuildRunState s, BuildletAssigned c) {
    Buildlet.Granted g = c.buildlet();
    if (s.status() != Status.QUEUED) {
      if (s.status() == Status.RUNNING && s.lastAttempt() != null && s.lastAttempt().agentId().equals(g.agentId())) {
        return Effect().noReply(); // a repeated assignment of the buildlet we run on
      }
      release(g.agentId());
      return Effect().noReply();
    }
    int attempt = s.currentAttempt() + 1;
    return Effect()
        .persist(new BuildRunEvents.AttemptStarted(attempt, g.agentId(), g.hostname(), g.node(), System.currentTimeMillis(), c.stages()))
        .thenRun(
            ns -> {
              ctx.getLog().info("Build [{}] attempt {} runs on [{}]", buildId, attempt, g.hostname());
              spawnRunner(ns, AttemptRunner.Plan.fresh(attempt, g.agentId()), g.session());
              published(ns);
            })
        .thenNoReply();
  }

  /** Restarts the runner of a running attempt from the first step that has not finished. */
  private void recover(BuildRunState s) {
    int step = 0;
    while (step < s.steps().size() && s.steps().get(step).finished()) {
      step++;
    }
    if (step == s.steps().size()) {
      ctx.getSelf().tell(new AttemptSucceeded(s.currentAttempt())); // every step ended ok; only the verdict was missing
      return;
    }
    BuildRunState.StepResult at = s.steps().get(step);
    boolean sourceNeeded = step == 0 && at.state().equals(BuildRunState.StepResult.PENDING);
    long from = at.outputBytes();
    ctx.getLog().info("Build [{}] recovered while running: attempt {} goes on at step {} from offset {}", buildId, s.currentAttempt(), step, from);
    spawnRunner(s, new AttemptRunner.Plan(s.currentAttempt(), s.lastAttempt().agentId(), step, true, from, sourceNeeded), null);
  }

  private void spawnRunner(BuildRunState s, AttemptRunner.Plan plan, ActorRef<dev.grange.node.buildlet.BuildletSession.Command> session) {
    int attempt = plan.attempt();
    runner = ctx.spawn(AttemptRunner.create(s.spec(), plan, session, runnerDeps, ctx.getSelf()), "attempt-" + attempt + "-" + (++runnerIncarnation));
    runnerAttempt = attempt;
    ctx.watchWith(runner, new RunnerStopped(attempt));
  }

  private ReplyEffect<BuildRunEvents.Event, BuildRunState> onStepProgressed(BuildRunState s, StepProgressed c) {
    if (s.status() != Status.RUNNING || c.attempt() != s.currentAttempt() || c.offset() <= s.steps().get(c.step()).outputBytes()) {
      return Effect().noReply();
    }
    return Effect()
        .persist(new BuildRunEvents.StepProgress(c.attempt(), c.step(), c.offset()))
        .thenRun(ns -> tellRunner(new AttemptRunner.ProgressRecorded(c.step(), c.offset())))
        .thenNoReply();
  }

  private void tellRunner(AttemptRunner.Command c) {
    if (runner != null) {
      runner.tell(c);
    }
  }

  private ReplyEffect<BuildRunEvents.Event, BuildRunState> onSourceReady(BuildRunState s, SourceReady c) {
    if (s.status() != Status.RUNNING || c.attempt() != s.currentAttempt()) {
      return Effect().noReply();
    }
    return Effect().persist(new BuildRunEvents.SourceShipped(c.attempt(), c.from(), c.files(), c.bytes(), c.durationMs(),
        System.currentTimeMillis())).thenNoReply();
  }

  private ReplyEffect<BuildRunEvents.Event, BuildRunState> onStepBegan(BuildRunState s, StepBegan c) {
    if (s.status() != Status.RUNNING || c.attempt() != s.currentAttempt()) {
      return Effect().noReply();
    }
    return Effect().persist(new BuildRunEvents.StepStarted(c.attempt(), c.step(), System.currentTimeMillis())).thenRun(this::published).thenNoReply();
  }

  private ReplyEffect<BuildRunEvents.Event, BuildRunState> onStepEnded(BuildRunState s, StepEnded c) {
    if (s.status() != Status.RUNNING || c.attempt() != s.currentAttempt()) {
      return Effect().noReply();
    }
    long now = System.currentTimeMillis();
    BuildRunEvents.StepFinished f =
        new BuildRunEvents.StepFinished(c.attempt(), c.step(), c.state(), c.exitCode(), c.durationMs(), c.outputBytes(), now);
    if (ExitStates.OK.equals(c.state())) {
      return Effect().persist(f).thenRun(ns -> tellRunner(new AttemptRunner.StepRecorded(c.step()))).thenRun(this::published).thenNoReply();
    }
    String reason = "step " + s.steps().get(c.step()).name() + ": " + c.state();
    return Effect()
        .persist(java.util.List.of(f, new BuildRunEvents.BuildFinished("failed", reason, now)))
        .thenRun(ns -> { tellRunner(new AttemptRunner.StepRecorded(c.step())); finished(ns); })
        .thenNoReply();
  }

  private ReplyEffect<BuildRunEvents.Event, BuildRunState> onSucceeded(BuildRunState s, AttemptSucceeded c) {
    if (s.status() != Status.RUNNING || c.attempt() != s.currentAttempt()) {
      return Effect().noReply();
    }
    return Effect()
        .persist(new BuildRunEvents.BuildFinished("ok", "", System.currentTimeMillis()))
        .thenRun(this::finished)
        .thenNoReply();
  }

  private ReplyEffect<BuildRunEvents.Event, BuildRunState> onLost(BuildRunState s, AttemptLost c) {
    if (s.status() != Status.RUNNING || c.attempt() != s.currentAttempt()) {
      return Effect().noReply();
    }
    long now = System.currentTimeMillis();
    String agent = s.lastAttempt().agentId();
    BuildRunEvents.AttemptFailed failed = new BuildRunEvents.AttemptFailed(c.attempt(), c.cause(), now);
    ctx.getLog().warn("Build [{}] attempt {} lost its buildlet [{}]: {}", buildId, c.attempt(), agent, c.cause());
    peers.buildlet(agent).tell(new Buildlet.RecordInfraFailure(buildId, c.attempt(), c.cause()));
    if (s.failedAttempts() + 1 > maxRetries) {
      return Effect()
          .persist(java.util.List.of(failed, new BuildRunEvents.BuildFinished("error",
              "communication failure on " + (s.failedAttempts() + 1) + " attempts; last: " + c.cause(), now)))
          .thenRun(ns -> { release(agent); finished(ns); })
          .thenNoReply();
    }
    return Effect()
        .persist(failed)
        .thenRun(ns -> { release(agent); acquire(ns); published(ns); })
        .thenNoReply();
  }

  private ReplyEffect<BuildRunEvents.Event, BuildRunState> onRunnerStopped(BuildRunState s, RunnerStopped c) {
    if (c.attempt() != runnerAttempt) {
      return Effect().noReply();
    }
    runner = null;
    if (s.status() == Status.RUNNING && c.attempt() == s.currentAttempt()) {
      // A runner reports how its attempt ended before it stops; one that did not, failed.
      return onLost(s, new AttemptLost(c.attempt(), "the attempt's runner stopped without a result"));
    }
    if (s.status() == Status.DONE && s.lastAttempt() != null) {
      release(s.lastAttempt().agentId());
    }
    return Effect().noReply();
  }

  private ReplyEffect<BuildRunEvents.Event, BuildRunState> onCancel(BuildRunState s, Cancel c) {
    if (s.status() == Status.NEW) {
      return Effect().reply(c.replyTo(), StatusReply.error("no build " + buildId));
    }
    if (s.status() == Status.DONE) {
      return Effect().reply(c.replyTo(), StatusReply.error("build " + buildId + " is already over (" + s.result() + ")"));
    }
    Status before = s.status();
    return Effect()
        .persist(new BuildRunEvents.BuildFinished("cancelled", "cancelled by request", System.currentTimeMillis()))
        .thenRun(
            ns -> {
              if (before == Status.QUEUED) {
                peers.hostPool(ns.spec().hostType()).tell(new HostPool.CancelWait(buildId));
              }
              finished(ns);
            })
        .thenReply(c.replyTo(), ns -> StatusReply.ack());
  }

  private ReplyEffect<BuildRunEvents.Event, BuildRunState> onGet(BuildRunState s, Get c) {
    if (s.status() == Status.NEW) {
      idleLater();
      return Effect().reply(c.replyTo(), StatusReply.error("no build " + buildId));
    }
    if (s.status() == Status.DONE) {
      idleLater();
    }
    return Effect().reply(c.replyTo(), StatusReply.success(s));
  }

  private ReplyEffect<BuildRunEvents.Event, BuildRunState> onCheckLease(BuildRunState s, CheckLease c) {
    boolean needed = (s.status() == Status.RUNNING && s.lastAttempt() != null && s.lastAttempt().agentId().equals(c.agentId()))
        || (s.status() == Status.QUEUED && c.leasedForMs() < QUEUED_LEASE_KEPT.toMillis());
    if (!needed) {
      ctx.getLog().info("Build [{}] no longer needs buildlet [{}] ({}): releasing it", buildId, c.agentId(), s.status());
      c.buildlet().tell(new Buildlet.LeaseNotNeeded(buildId));
    }
    if (s.status() == Status.DONE || s.status() == Status.NEW) {
      idleLater();
    }
    return Effect().noReply();
  }

  private ReplyEffect<BuildRunEvents.Event, BuildRunState> onIdle(BuildRunState s, Idle c) {
    if (s.status() == Status.DONE || s.status() == Status.NEW) {
      shard.tell(new ClusterSharding.Passivate<>(ctx.getSelf()));
    }
    return Effect().noReply();
  }

  /**
   * After the build is over: a cancelled build's runner is stopped; any other runner stops by
   * itself once it told the agent to forget its last step. The buildlet is released when the
   * runner has stopped.
   */
  /** After each persisted change of the build's state (queued, attempt, step, end): the live UI hears of it. */
  private void published(BuildRunState s) {
    String state = BuildJson.state(s);
    BuildSpec spec = s.spec();
    LiveTopic.get(ctx.getSystem()).notes().buildChanged(new LiveNote.BuildChanged(buildId, state, spec.builder(), spec.repo(), spec.rev()));
    long finished = s.status() == Status.DONE ? s.finishedAtMs() : 0;
    BuildRunState.Attempt last = s.lastAttempt();
    long ranFrom = last == null ? finished : last.startMs();
    dev.grange.node.store.BuildIndex.Registered.get(ctx.getSystem()).writer().record(new dev.grange.node.store.BuildIndex.Entry(
        spec.repo(), spec.branch() == null ? "" : spec.branch(), spec.commitTimeMs(), spec.rev(), spec.builder(), spec.submittedAtMs(),
        buildId, state, spec.subject() == null ? "" : spec.subject(), spec.author(),
        finished, finished == 0 ? 0 : Math.max(0, finished - ranFrom), finished == 0 ? 0 : Math.max(0, ranFrom - spec.submittedAtMs())));
  }

  private void finished(BuildRunState s) {
    published(s);
    ctx.getLog().info("Build [{}] finished: {} {}", buildId, s.result(), s.reason());
    if (runner != null) {
      if ("cancelled".equals(s.result())) {
        runner.tell(AttemptRunner.Cancel.INSTANCE);
      }
    } else if (s.lastAttempt() != null && s.lastAttempt().cause() == null) {
      release(s.lastAttempt().agentId());
    }
    idleLater();
  }

  private void release(String agentId) {
    peers.buildlet(agentId).tell(new Buildlet.Release(buildId));
  }

  private void idleLater() {
    timers.startSingleTimer(Idle.INSTANCE, passivateAfter);
  }

  @Override
  public EventHandler<BuildRunState, BuildRunEvents.Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(BuildRunState::apply);
  }
}
