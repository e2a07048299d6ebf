package dev.grange.node.buildlet;

import dev.grange.node.Peers;
import dev.grange.node.schedule.HostPool;
import dev.grange.protocol.CborSerializable;
import java.time.Duration;
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
 * timer, so a pool that restarted or moved learns its machines again without a lookup. Persists:
 * attached, detached, draining, leased, released, workdir wiped.
 */
public final class Buildlet
    extends EventSourcedBehaviorWithEnforcedReplies<Buildlet.Command, BuildletEvents.Event, BuildletState> {

  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "Buildlet");

  public sealed interface Command extends CborSerializable {}

  /** A session is ready; it becomes the buildlet's session. */
  public record Attach(BuildletInfo info, ActorRef<BuildletSession.Command> session, ActorRef<StatusReply<Done>> replyTo)
      implements Command {}

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

  /** A granted lease: where to send work. */
  public record Granted(String agentId, String hostname, String node, ActorRef<BuildletSession.Command> session)
      implements CborSerializable {}

  private record Wiped(String afterBuild, ActorRef<BuildletSession.Command> session, StatusReply<Done> result) implements Command {}

  private enum Announce implements Command {
    INSTANCE
  }

  /** How the node's sessions reach buildlet entities. */
  public static final class Directory {
    private final ClusterSharding sharding;
    private final Duration timeout;

    public Directory(ClusterSharding sharding, Duration timeout) {
      this.sharding = sharding;
      this.timeout = timeout;
    }

    public CompletionStage<StatusReply<Done>> attach(BuildletInfo info, ActorRef<BuildletSession.Command> session) {
      return sharding
          .entityRefFor(ENTITY_KEY, info.agentId())
          .<StatusReply<Done>>ask(r -> new Attach(info, session, r), timeout);
    }

    public void detach(String agentId, ActorRef<BuildletSession.Command> session, String cause) {
      sharding.entityRefFor(ENTITY_KEY, agentId).tell(new Detach(session, cause));
    }

    public void draining(String agentId, ActorRef<BuildletSession.Command> session, String reason) {
      sharding.entityRefFor(ENTITY_KEY, agentId).tell(new MarkDraining(session, reason));
    }
  }

  public static void init(ClusterSharding sharding, Duration announceEvery, Duration wipeTimeout) {
    Peers peers = Peers.sharded(sharding);
    sharding.init(
        Entity.of(ENTITY_KEY, ctx -> create(ctx.getEntityId(), peers, announceEvery, wipeTimeout)));
  }

  /** The entity of one agent; {@code peers} reaches its host pool. */
  public static Behavior<Command> create(String agentId, Peers peers, Duration announceEvery, Duration wipeTimeout) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> {
                  timers.startTimerWithFixedDelay(Announce.INSTANCE, announceEvery);
                  return new Buildlet(agentId, ctx, timers, peers, wipeTimeout);
                }));
  }

  private final String agentId;
  private final ActorContext<Command> ctx;
  private final Peers peers;
  private final Duration wipeTimeout;
  /** The build after which a wipe is under way; not persisted: after a crash the state is still dirty and it wipes again. */
  private String wiping;

  private Buildlet(String agentId, ActorContext<Command> ctx, TimerScheduler<Command> timers, Peers peers, Duration wipeTimeout) {
    super(
        PersistenceId.of(ENTITY_KEY.name(), agentId),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(10), 0.2));
    this.agentId = agentId;
    this.ctx = ctx;
    this.peers = peers;
    this.wipeTimeout = wipeTimeout;
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
              if (state.attached()) {
                // The session may have died with a node while this entity was elsewhere: watch it.
                watch(state.session(), "session's node is gone");
                wipeIfDirty(state);
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
              pool(ns).tell(new HostPool.BuildletUp(ns.info(), ns.idle(), ns.leasedTo()));
              wipeIfDirty(ns);
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
        .thenRun(ns -> pool(ns).tell(new HostPool.BuildletDown(agentId, c.cause())))
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
        .thenReply(c.replyTo(), ns -> StatusReply.success(granted(ns)));
  }

  private static String whyNotIdle(BuildletState s) {
    if (!s.attached()) {
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
    if (s.dirtyAfter() == null || !s.attached() || wiping != null) {
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
      ctx.getLog().warn("Buildlet [{}] could not wipe its workdir after [{}]: {}", agentId, c.afterBuild(), c.result().getError().getMessage());
      if (c.session().equals(s.session())) {
        // Not offered dirty: the agent reconnects and its next session wipes again.
        s.session().tell(new BuildletSession.Close(1011, "workdir wipe failed"));
      } else {
        wipeIfDirty(s); // that session was replaced meanwhile: the current one tries
      }
      return Effect().noReply();
    }
    return Effect()
        .persist(new BuildletEvents.WorkdirWiped(c.afterBuild()))
        .thenRun(ns -> { if (ns.idle()) { pool(ns).tell(new HostPool.BuildletIdle(agentId)); } })
        .thenNoReply();
  }

  private ReplyEffect<BuildletEvents.Event, BuildletState> onAnnounce(BuildletState s, Announce c) {
    // A draining buildlet left its pool (BuildletDown): announcing it up again would offer it builds it refuses.
    if (s.attached() && !s.draining()) {
      pool(s).tell(new HostPool.BuildletUp(s.info(), s.idle(), s.leasedTo()));
    }
    return Effect().noReply();
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
