package dev.grange.node.buildlet;

import dev.grange.node.Peers;
import dev.grange.node.schedule.HostPool;
import dev.grange.protocol.CborSerializable;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.RecipientRef;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
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
 * One build machine's agent process, as the cluster knows it: sharded, event-sourced, id = the
 * agent's id (one per agent process).
 *
 * <p>Its {@link BuildletSession} attaches it when the agent's socket is ready and detaches it when
 * the socket ends; a newer socket of the same agent replaces the older one (closed with 4000).
 * Its {@link HostPool} leases it to a build ({@link Lease}); the build releases it ({@link
 * Release}); the workdir is wiped before the buildlet is leased again, with the next session if
 * none is attached at the release. It tells its pool every change and re-announces itself on a
 * timer, so a pool that restarted or moved learns its machines again without a lookup.
 *
 * <p>Its builds report each communication failure on it ({@link RecordInfraFailure}, from {@code
 * BuildRun}); so does a failed workdir wipe. At {@link QuarantinePolicy#maxFailures} within {@link
 * QuarantinePolicy#window} it is quarantined: no new leases, shown as such by its pool, kept
 * across restarts. An admin lifts it ({@link Unquarantine}); so does its health check: while
 * quarantined and connected, every {@link QuarantinePolicy#checkEvery} it asks its session for
 * the agent's status and empties the workdir, and once such checks have passed for {@link
 * QuarantinePolicy#probation} on one connection the quarantine ends. Persists: attached, detached,
 * draining, leased, released, workdir wiped, infrastructure failure, quarantined, quarantine lifted.
 */
public final class Buildlet
    extends EventSourcedBehaviorWithEnforcedReplies<Buildlet.Command, BuildletEvents.Event, BuildletState> {

  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "Buildlet");

  public sealed interface Command extends CborSerializable {}

  /** A session is ready; it becomes the buildlet's session. */
  public record Attach(BuildletInfo info, ActorRef<BuildletSession.Command> session, ActorRef<StatusReply<Done>> replyTo)
      implements Command {}

  /**
   * A session says it is still open (every few heartbeats). It starts the entity again wherever
   * sharding put it after its node went, and attaches a session the entity lost track of.
   */
  public record SessionAlive(BuildletInfo info, ActorRef<BuildletSession.Command> session) implements Command {}

  /** A build answers a lease check: it no longer needs this buildlet. */
  public record LeaseNotNeeded(String buildId) implements Command {}

  /** A session ended (ignored unless it is the current one). */
  public record Detach(ActorRef<BuildletSession.Command> session, String cause) implements Command {}

  /** The agent is stopping. */
  public record MarkDraining(ActorRef<BuildletSession.Command> session, String reason) implements Command {}

  /** Lease the buildlet to a build; refused unless it is attached, idle and its workdir wiped. */
  public record Lease(String buildId, ActorRef<StatusReply<Granted>> replyTo) implements Command {}

  /** The build is done with the buildlet. */
  public record Release(String buildId) implements Command {}

  /** The buildlet as it is now. */
  public record Get(ActorRef<BuildletState> replyTo) implements Command {}

  /** A communication failure ended attempt {@code attempt} of {@code buildId} on this buildlet; a repeated report counts once. */
  public record RecordInfraFailure(String buildId, int attempt, String cause) implements Command {}

  /** Lift the quarantine (an admin's call); refused when there is no such buildlet or it is not quarantined. */
  public record Unquarantine(String by, ActorRef<StatusReply<Done>> replyTo) implements Command {}

  /** The error message of {@link Unquarantine} for a buildlet that never registered starts with this. */
  public static final String NO_SUCH_BUILDLET = "no buildlet ";

  /** Who lifted a quarantine, as {@link BuildletEvents.QuarantineLifted#by} records it. */
  public static final String BY_ADMIN = "admin";

  public static final String BY_HEALTH_CHECK = "health check";

  /** A granted lease: where to send work. */
  public record Granted(String agentId, String hostname, String node, ActorRef<BuildletSession.Command> session)
      implements CborSerializable {}

  private record Wiped(String afterBuild, ActorRef<BuildletSession.Command> session, StatusReply<Done> result) implements Command {}

  private enum Announce implements Command {
    INSTANCE
  }

  private enum HealthTick implements Command {
    INSTANCE
  }

  /** One part of health check {@code check}: the status request ({@code wipe} false) or the wipe; {@code error} null when it passed. */
  private record HealthAnswered(long check, ActorRef<BuildletSession.Command> session, boolean wipe, String error) implements Command {}

  private static final String HEALTH_TIMER = "health-check";

  /** How the node's sessions reach buildlet entities. */
  public static final class Directory {
    private final ClusterSharding sharding;
    public Directory(ClusterSharding sharding) {
      this.sharding = sharding;
    }

    public CompletionStage<StatusReply<Done>> attach(BuildletInfo info, ActorRef<BuildletSession.Command> session, Duration within) {
      return sharding
          .entityRefFor(ENTITY_KEY, info.agentId())
          .<StatusReply<Done>>ask(r -> new Attach(info, session, r), within);
    }

    public void detach(String agentId, ActorRef<BuildletSession.Command> session, String cause) {
      sharding.entityRefFor(ENTITY_KEY, agentId).tell(new Detach(session, cause));
    }

    public void draining(String agentId, ActorRef<BuildletSession.Command> session, String reason) {
      sharding.entityRefFor(ENTITY_KEY, agentId).tell(new MarkDraining(session, reason));
    }

    public void alive(BuildletInfo info, ActorRef<BuildletSession.Command> session) {
      sharding.entityRefFor(ENTITY_KEY, info.agentId()).tell(new SessionAlive(info, session));
    }
  }

  public static void init(ClusterSharding sharding, Duration announceEvery, Duration wipeTimeout, QuarantinePolicy quarantine) {
    Peers peers = Peers.sharded(sharding);
    sharding.init(
        Entity.of(ENTITY_KEY, ctx -> create(ctx.getEntityId(), peers, announceEvery, wipeTimeout, quarantine, Clock.systemUTC())));
  }

  /** The entity of one agent with the default quarantine policy and the system clock. */
  public static Behavior<Command> create(String agentId, Peers peers, Duration announceEvery, Duration wipeTimeout) {
    return create(agentId, peers, announceEvery, wipeTimeout, QuarantinePolicy.DEFAULT, Clock.systemUTC());
  }

  /**
   * The entity of one agent; {@code peers} reaches its host pool; {@code wipeTimeout} bounds each
   * request to its session; {@code clock} dates failures and quarantines and measures the window
   * and the probation (the health check's period is a timer).
   */
  public static Behavior<Command> create(
      String agentId, Peers peers, Duration announceEvery, Duration wipeTimeout, QuarantinePolicy quarantine, Clock clock) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(timers -> new Buildlet(agentId, ctx, timers, peers, announceEvery, wipeTimeout, quarantine, clock)));
  }

  private final String agentId;
  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final Peers peers;
  private final Duration announceEvery;
  private final Duration wipeTimeout;
  private final QuarantinePolicy policy;
  private final Clock clock;
  /** The build after which a wipe is under way; not persisted: after a crash the state is still dirty and it wipes again. */
  private String wiping;
  /** The latest health check; answers of older ones are ignored (random start: a restarted entity may still get its predecessor's). */
  private long check = java.util.concurrent.ThreadLocalRandom.current().nextLong();
  private boolean checking;
  /**
   * When the first of the health checks passed in a row on this connection, or null. Not
   * persisted: a restarted entity (or a new connection) serves its probation again.
   */
  private Long passingSinceMs;

  private Buildlet(
      String agentId, ActorContext<Command> ctx, TimerScheduler<Command> timers, Peers peers, Duration announceEvery,
      Duration wipeTimeout, QuarantinePolicy policy, Clock clock) {
    super(
        PersistenceId.of(ENTITY_KEY.name(), agentId),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(10), 0.2));
    this.agentId = agentId;
    this.ctx = ctx;
    this.timers = timers;
    this.peers = peers;
    this.announceEvery = announceEvery;
    this.wipeTimeout = wipeTimeout;
    this.policy = policy;
    this.clock = clock;
  }

  @Override
  public BuildletState emptyState() {
    return BuildletState.empty();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 2);
  }

  @Override
  public SignalHandler<BuildletState> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(
            RecoveryCompleted.instance(),
            state -> {
              // Started here, not in setup: a failed persist restarts the entity, and a restart
              // cancels every timer (a buildlet whose Released failed to persist stayed leased for
              // good: no announce, so no lease check).
              timers.startTimerWithFixedDelay(Announce.INSTANCE, announceEvery);
              if (state.attached() && SessionNodes.gone(ctx.getSystem(), state.session())) {
                // Attached on a node that is no longer in the cluster (an earlier generation): dead.
                ctx.getSelf().tell(new Detach(state.session(), "its session's node is no longer in the cluster"));
              } else if (state.attached()) {
                // The session may have died with a node while this entity was elsewhere: watch it.
                watch(state.session(), "session's node is gone");
                wipeIfDirty(state);
                startHealthChecks(state);
              }
            })
        .build();
  }

  @Override
  public CommandHandlerWithReply<Command, BuildletEvents.Event, BuildletState> commandHandler() {
    return newCommandHandlerWithReplyBuilder()
        .forAnyState()
        .onCommand(Attach.class, this::onAttach)
        .onCommand(Detach.class, this::onDetach)
        .onCommand(MarkDraining.class, this::onDraining)
        .onCommand(Lease.class, this::onLease)
        .onCommand(Release.class, this::onRelease)
        .onCommand(Wiped.class, this::onWiped)
        .onCommand(Get.class, (s, c) -> Effect().reply(c.replyTo(), s))
        .onCommand(Announce.class, this::onAnnounce)
        .onCommand(SessionAlive.class, this::onSessionAlive)
        .onCommand(LeaseNotNeeded.class, (st, c) -> onRelease(st, new Release(c.buildId())))
        .onCommand(RecordInfraFailure.class, this::onInfraFailure)
        .onCommand(Unquarantine.class, this::onUnquarantine)
        .onCommand(HealthTick.class, this::onHealthTick)
        .onCommand(HealthAnswered.class, this::onHealthAnswered)
        .build();
  }

  private ReplyEffect<BuildletEvents.Event, BuildletState> onAttach(BuildletState s, Attach c) {
    if (s.attached() && !s.session().equals(c.session())) {
      s.session().tell(new BuildletSession.Close(4000, "replaced by a newer connection of the same agent"));
      ctx.unwatch(s.session());
    }
    return Effect()
        .persist(new BuildletEvents.SessionAttached(c.info(), c.session()))
        .thenRun(
            ns -> {
              watch(c.session(), "session stopped");
              announce(ns);
              wipeIfDirty(ns);
              stopHealthChecks(); // a new connection serves its probation from the start
              startHealthChecks(ns);
            })
        .thenReply(c.replyTo(), ns -> StatusReply.ack());
  }

  private ReplyEffect<BuildletEvents.Event, BuildletState> onDetach(BuildletState s, Detach c) {
    if (!s.attached() || !s.session().equals(c.session())) {
      return Effect().noReply();
    }
    ctx.unwatch(c.session());
    return Effect()
        .persist(new BuildletEvents.SessionDetached(c.cause()))
        .thenRun(ns -> {
          stopHealthChecks();
          pool(ns).tell(new HostPool.BuildletDown(agentId, c.cause()));
        })
        .thenNoReply();
  }

  private ReplyEffect<BuildletEvents.Event, BuildletState> onDraining(BuildletState s, MarkDraining c) {
    if (!s.attached() || !s.session().equals(c.session()) || s.draining()) {
      return Effect().noReply();
    }
    return Effect()
        .persist(new BuildletEvents.Draining(c.reason()))
        .thenRun(ns -> pool(ns).tell(new HostPool.BuildletDown(agentId, "draining: " + c.reason())))
        .thenNoReply();
  }

  private ReplyEffect<BuildletEvents.Event, BuildletState> onLease(BuildletState s, Lease c) {
    if (c.buildId().equals(s.leasedTo()) && s.attached()) {
      return Effect().reply(c.replyTo(), StatusReply.success(granted(s)));
    }
    if (!s.idle()) {
      return Effect().reply(c.replyTo(), StatusReply.error("buildlet " + agentId + " " + whyNotIdle(s)));
    }
    return Effect()
        .persist(new BuildletEvents.Leased(c.buildId()))
        .thenRun(ns -> leasedSinceNanos = System.nanoTime())
        .thenReply(c.replyTo(), ns -> StatusReply.success(granted(ns)));
  }

  private String whyNotIdle(BuildletState s) {
    if (s.quarantine() != null) {
      return "is quarantined since " + Instant.ofEpochMilli(s.quarantine().sinceMs()) + " (" + s.quarantine().reason()
          + "); a passed health check or POST /api/v1/buildlets/" + agentId + "/unquarantine releases it";
    } else if (!s.attached()) {
      return "is not connected";
    } else if (s.draining()) {
      return "is draining";
    } else if (s.leasedTo() != null) {
      return "is busy with " + s.leasedTo();
    }
    return "has not yet wiped its workdir after " + s.dirtyAfter();
  }

  private Granted granted(BuildletState s) {
    return new Granted(agentId, s.info().hostname(), s.info().node(), s.session());
  }

  private ReplyEffect<BuildletEvents.Event, BuildletState> onRelease(BuildletState s, Release c) {
    if (!c.buildId().equals(s.leasedTo())) {
      return Effect().noReply();
    }
    // Persisted before the wipe: a crash or a lost socket mid-wipe leaves it dirty, never leased forever.
    return Effect().persist(new BuildletEvents.Released(c.buildId())).thenRun(this::wipeIfDirty).thenNoReply();
  }

  /** Starts emptying a workdir that may hold a released build's files, if a session can and no wipe runs. */
  private void wipeIfDirty(BuildletState s) {
    // A quarantined buildlet's workdir is emptied by its health check.
    if (s.dirtyAfter() == null || !s.attached() || wiping != null || s.quarantine() != null) {
      return;
    }
    String after = s.dirtyAfter();
    ActorRef<BuildletSession.Command> session = s.session();
    wiping = after;
    ctx.askWithStatus(
        Done.class,
        session,
        wipeTimeout,
        r -> new BuildletSession.RemoveAll(List.of("."), r),
        (ok, err) -> new Wiped(after, session, err == null ? StatusReply.ack() : StatusReply.error(err)));
  }

  private ReplyEffect<BuildletEvents.Event, BuildletState> onWiped(BuildletState s, Wiped c) {
    if (!c.afterBuild().equals(wiping)) {
      return Effect().noReply();
    }
    wiping = null;
    if (c.result().isError()) {
      String error = c.result().getError().getMessage();
      ctx.getLog().warn("Buildlet [{}] could not wipe its workdir after [{}]: {}", agentId, c.afterBuild(), error);
      // Counted like a lost attempt: a buildlet whose wipe keeps failing is quarantined, not retried forever.
      return recordFailure(s, new BuildletEvents.InfraFailureRecorded(c.afterBuild(), 0, "workdir wipe failed: " + error, clock.millis()),
          ns -> {
            if (ns.quarantine() != null) {
              return; // its session stays: the health check wipes again
            }
            if (c.session().equals(ns.session())) {
              // Not offered dirty: the agent reconnects and its next session wipes again.
              ns.session().tell(new BuildletSession.Close(1011, "workdir wipe failed"));
            } else {
              wipeIfDirty(ns); // that session was replaced meanwhile: the current one tries
            }
          });
    }
    return Effect()
        .persist(new BuildletEvents.WorkdirWiped(c.afterBuild()))
        .thenRun(ns -> { if (ns.idle()) { pool(ns).tell(new HostPool.BuildletIdle(agentId)); } })
        .thenNoReply();
  }

  private ReplyEffect<BuildletEvents.Event, BuildletState> onAnnounce(BuildletState s, Announce c) {
    announce(s);
    if (s.leasedTo() != null && System.nanoTime() - leasedSinceNanos > LEASE_CHECK_AFTER.toNanos()) {
      // A release sent while this entity's node was going is lost: ask the build, which answers
      // LeaseNotNeeded if it is over or runs elsewhere.
      long age = (System.nanoTime() - leasedSinceNanos) / 1_000_000;
      peers.buildRun(s.leasedTo()).tell(new dev.grange.node.buildrun.BuildRun.CheckLease(agentId, age, ctx.getSelf()));
    }
    return Effect().noReply();
  }

  /**
   * A lease younger than this is not checked. Older ones are checked at every announce: a build
   * that is over or runs on another buildlet gives it back at once (a lease whose release was lost
   * in a store outage held a machine for good, then for 30 s); a queued build keeps a young one,
   * as its attempt may not be persisted yet ({@code BuildRun.QUEUED_LEASE_KEPT}).
   */
  static final Duration LEASE_CHECK_AFTER = Duration.ofSeconds(3);
  /** When the current lease was granted (or the entity recovered with it); not persisted. */
  private long leasedSinceNanos = System.nanoTime();

  private ReplyEffect<BuildletEvents.Event, BuildletState> onSessionAlive(BuildletState s, SessionAlive c) {
    if (s.attached() && s.session().equals(c.session())) {
      return Effect().noReply();
    }
    if (s.attached() && !SessionNodes.gone(ctx.getSystem(), s.session())) {
      return Effect().noReply(); // another live session is the current one; its own watch decides
    }
    ctx.getLog().info("Buildlet [{}]: session [{}] is alive but was not attached; attaching it", agentId, c.session().path().name());
    return onAttach(s, new Attach(c.info(), c.session(), ctx.getSystem().ignoreRef()));
  }

  /** Tells the pool the buildlet is connected, with its health; a draining buildlet left its pool (BuildletDown) and stays out. */
  private void announce(BuildletState s) {
    if (s.attached() && !s.draining()) {
      pool(s).tell(new HostPool.BuildletUp(s.info(), s.idle(), s.leasedTo(), s.health(clock.millis(), policy.window())));
    }
  }

  // ---- infrastructure failures and quarantine ----

  private ReplyEffect<BuildletEvents.Event, BuildletState> onInfraFailure(BuildletState s, RecordInfraFailure c) {
    if (s.info() == null || c.buildId() == null || c.cause() == null || c.attempt() < 1) {
      ctx.getLog().warn("Buildlet [{}]: ignored an infrastructure failure report that names no buildlet, build, attempt or cause: {}", agentId, c);
      return Effect().noReply();
    }
    if (s.recorded(c.buildId(), c.attempt())) {
      return Effect().noReply();
    }
    ctx.getLog().info("Buildlet [{}] lost attempt {} of [{}]: {}", agentId, c.attempt(), c.buildId(), c.cause());
    return recordFailure(s, new BuildletEvents.InfraFailureRecorded(c.buildId(), c.attempt(), c.cause(), clock.millis()), ns -> {});
  }

  /** Persists a failure, and the quarantine it brings if it is the one too many within the window; then runs {@code after}. */
  private ReplyEffect<BuildletEvents.Event, BuildletState> recordFailure(
      BuildletState s, BuildletEvents.InfraFailureRecorded f, java.util.function.Consumer<BuildletState> after) {
    List<BuildletEvents.Event> events = new ArrayList<>(List.of(f));
    int inWindow = s.failuresWithin(f.atMs(), policy.window()) + 1;
    if (s.quarantine() == null && inWindow >= policy.maxFailures()) {
      events.add(new BuildletEvents.Quarantined(
          inWindow + " infrastructure failures within " + policy.window().toString().substring(2).toLowerCase(java.util.Locale.ROOT)
              + "; last: " + f.cause(), f.atMs()));
    }
    boolean quarantines = events.size() > 1;
    return Effect()
        .persist(events)
        .thenRun(ns -> {
          if (quarantines) {
            ctx.getLog().warn("Buildlet [{}] quarantined: {}", agentId, ns.quarantine().reason());
            startHealthChecks(ns);
          }
          announce(ns);
          after.accept(ns);
        })
        .thenNoReply();
  }

  private ReplyEffect<BuildletEvents.Event, BuildletState> onUnquarantine(BuildletState s, Unquarantine c) {
    if (s.info() == null) {
      // Asked by id from the API, not by a session: stop, so that a call for an unknown id leaves no entity behind.
      return Effect().stop().thenReply(c.replyTo(), ns -> StatusReply.error(NO_SUCH_BUILDLET + agentId));
    }
    if (s.quarantine() == null) {
      return Effect().reply(c.replyTo(), StatusReply.error("buildlet " + agentId + " is not quarantined"));
    }
    return Effect()
        .persist(new BuildletEvents.QuarantineLifted(c.by(), clock.millis()))
        .thenRun(this::lifted)
        .thenReply(c.replyTo(), ns -> StatusReply.ack());
  }

  private void lifted(BuildletState ns) {
    ctx.getLog().info("Buildlet [{}]: quarantine lifted", agentId);
    stopHealthChecks();
    announce(ns);
    wipeIfDirty(ns);
  }

  // ---- health check (quarantined and connected only) ----

  private void startHealthChecks(BuildletState s) {
    if (s.quarantine() != null && s.attached() && !timers.isTimerActive(HEALTH_TIMER)) {
      timers.startTimerWithFixedDelay(HEALTH_TIMER, HealthTick.INSTANCE, policy.checkEvery());
    }
  }

  private void stopHealthChecks() {
    timers.cancel(HEALTH_TIMER);
    check++; // what an unfinished check answers is ignored
    checking = false;
    passingSinceMs = null;
  }

  private ReplyEffect<BuildletEvents.Event, BuildletState> onHealthTick(BuildletState s, HealthTick c) {
    if (s.quarantine() == null || !s.attached()) {
      stopHealthChecks();
      return Effect().noReply();
    }
    if (!checking) {
      checking = true;
      long id = ++check;
      ActorRef<BuildletSession.Command> session = s.session();
      ctx.askWithStatus(BuildletSession.AgentStatus.class, session, wipeTimeout, BuildletSession.GetStatus::new,
          (ok, err) -> new HealthAnswered(id, session, false, err == null ? null : String.valueOf(err.getMessage())));
    }
    return Effect().noReply();
  }

  private ReplyEffect<BuildletEvents.Event, BuildletState> onHealthAnswered(BuildletState s, HealthAnswered c) {
    if (c.check() != check || !checking || !c.session().equals(s.session()) || s.quarantine() == null) {
      return Effect().noReply();
    }
    if (c.error() != null) {
      checking = false;
      passingSinceMs = null;
      ctx.getLog().info("Buildlet [{}] failed its health check ({}): {}", agentId, c.wipe() ? "workdir wipe" : "status", c.error());
      return Effect().noReply();
    }
    if (!c.wipe()) {
      ctx.askWithStatus(Done.class, c.session(), wipeTimeout, r -> new BuildletSession.RemoveAll(List.of("."), r),
          (ok, err) -> new HealthAnswered(c.check(), c.session(), true, err == null ? null : String.valueOf(err.getMessage())));
      return Effect().noReply();
    }
    checking = false;
    long now = clock.millis();
    if (passingSinceMs == null) {
      passingSinceMs = now;
    }
    List<BuildletEvents.Event> events = new ArrayList<>();
    if (s.dirtyAfter() != null) {
      events.add(new BuildletEvents.WorkdirWiped(s.dirtyAfter()));
    }
    boolean lifts = now - passingSinceMs >= policy.probation().toMillis();
    if (lifts) {
      events.add(new BuildletEvents.QuarantineLifted(BY_HEALTH_CHECK, now));
    }
    if (events.isEmpty()) {
      return Effect().noReply();
    }
    return Effect().persist(events).thenRun(ns -> { if (lifts) { lifted(ns); } }).thenNoReply();
  }

  @Override
  public EventHandler<BuildletState, BuildletEvents.Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(BuildletState::apply);
  }

  /** Watches a session; one watched already (attaching again, or after recovery) is watched anew with this cause. */
  private void watch(ActorRef<BuildletSession.Command> session, String cause) {
    ctx.unwatch(session);
    ctx.watchWith(session, new Detach(session, cause));
  }

  private RecipientRef<HostPool.Command> pool(BuildletState s) {
    return peers.hostPool(s.info().hostType());
  }
}
