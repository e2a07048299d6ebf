package dev.grange.node.schedule;

import dev.grange.node.Peers;
import dev.grange.node.buildlet.Buildlet;
import dev.grange.node.buildlet.BuildletInfo;
import dev.grange.node.buildlet.BuildletState;
import dev.grange.node.buildrun.BuildRun;
import dev.grange.node.live.LiveNotes;
import dev.grange.node.pool.LocalPool;
import dev.grange.node.pool.cloud.CloudPool;
import dev.grange.node.pool.cloud.CloudPoolState;
import dev.grange.node.schedule.HostPoolEvents.Waiter;
import dev.grange.protocol.CborSerializable;
import dev.grange.protocol.model.HostTypeSpec;
import dev.grange.protocol.model.PoolKind;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
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
 * The queue and the machines of one host type: sharded, event-sourced, id = host type name.
 *
 * <p>Builds wait here ({@link Acquire}) in the priority order of {@link
 * dev.grange.protocol.schedule.SchedItem#ORDER}; {@link Buildlet}s report themselves up, idle and
 * down. Whenever a waiter and an idle machine meet, the pool asks the buildlet for a lease and,
 * once granted, persists the waiter as served and hands the buildlet to the {@link BuildRun}.
 * Persists the queue (waiter added, served, cancelled); the machines are live facts that their
 * entities re-announce, so they are kept in memory. For a local pool it tells the node's {@link
 * LocalPool} how many builds wait with no machine, so that it starts agents up to the max.
 */
public final class HostPool
    extends EventSourcedBehaviorWithEnforcedReplies<HostPool.Command, HostPoolEvents.Event, HostPoolState> {

  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "HostPool");

  public sealed interface Command extends CborSerializable {}

  /** A build wants a buildlet; it gets {@link BuildRun.BuildletAssigned} when served. */
  public record Acquire(Waiter waiter) implements Command {}

  /** The build no longer wants one. */
  public record CancelWait(String buildId) implements Command {}

  /** A buildlet is connected ({@code idle}: it can be leased now); {@code health}: its failures and quarantine. */
  /** From the pool that creates instances (today the node's local pool): these were asked for; their agents will dial in. */
  public record InstancesCreating(List<String> instances) implements Command {
    public InstancesCreating {
      instances = List.copyOf(instances);
    }
  }

  /** From the same: an instance asked for ended before its agent connected (or it is gone for good). */
  public record InstanceEnded(String instance) implements Command {}

  /** From a cloud pool: when a fresh instance was asked for and when the cloud had it (its agent is booting). */
  public record InstanceMade(String instance, long requestedAtMs, long createdAtMs) implements Command {}

  /** From a cloud pool: say your needs again (it started, or moved to another node). */
  public record CloudWake() implements Command {}

  /** From a cloud pool: take this idle instance out of use, then release it to be deleted. */
  public record Retire(String instance, dev.grange.node.pool.cloud.CloudPoolState.Reason reason, String why) implements Command {}

  /** From a cloud pool: why each of these waiting builds still has no instance (awaiting quota, the API rate, a failed create). */
  public record WaitReasons(Map<String, String> reasons) implements Command {
    public WaitReasons {
      reasons = Map.copyOf(reasons);
    }
  }

  public record BuildletUp(BuildletInfo info, boolean idle, String leasedTo, BuildletState.Health health) implements Command {
    public BuildletUp {
      health = health == null ? BuildletState.Health.NONE : health; // from a node that does not send it yet
    }

    public BuildletUp(BuildletInfo info, boolean idle, String leasedTo) {
      this(info, idle, leasedTo, BuildletState.Health.NONE);
    }
  }

  /** A buildlet is gone or draining. */
  public record BuildletDown(String agentId, String cause) implements Command {}

  /** A buildlet finished a build and is clean. */
  public record BuildletIdle(String agentId) implements Command {}

  /** The pool as the API shows it. */
  public record GetView(ActorRef<PoolView> replyTo) implements Command {}

  /** {@code unanswered}: the ask timed out, so the buildlet may still grant the lease, late. */
  private record LeaseResult(Waiter waiter, String agentId, StatusReply<Buildlet.Granted> reply, boolean unanswered) implements Command {}

  /** A connected machine as the pool sees it. A quarantined machine is never idle. */
  public record Machine(BuildletInfo info, boolean idle, String leasedTo, BuildletState.Health health) implements CborSerializable {
    public Machine {
      health = health == null ? BuildletState.Health.NONE : health;
    }

    public Machine(BuildletInfo info, boolean idle, String leasedTo) {
      this(info, idle, leasedTo, BuildletState.Health.NONE);
    }

    public boolean quarantined() {
      return health.quarantine() != null;
    }
  }

  /**
   * The pool for /api/v1/pools, /buildlets and /queues. {@code creating}: instances asked for
   * whose agent has not connected yet; {@code limit}: how many machines the pool may have at most
   * (its quota), 0 when it does not decide (a reverse pool).
   */
  public record PoolView(String hostType, String pool, int expected, List<Machine> machines, List<Waiter> waiters, long served,
      Map<String, Long> stateSinceMs, List<Departed> departed, String notes, int creating, int limit, Map<String, String> waitReasons)
      implements CborSerializable {
    public PoolView {
      stateSinceMs = stateSinceMs == null ? Map.of() : Map.copyOf(stateSinceMs);
      departed = departed == null ? List.of() : List.copyOf(departed);
      notes = notes == null ? "" : notes;
      waitReasons = waitReasons == null ? Map.of() : Map.copyOf(waitReasons);
    }

    /** A pool whose waiters have no reasons from a cloud pool. */
    public PoolView(String hostType, String pool, int expected, List<Machine> machines, List<Waiter> waiters, long served,
        Map<String, Long> stateSinceMs, List<Departed> departed, String notes, int creating, int limit) {
      this(hostType, pool, expected, machines, waiters, served, stateSinceMs, departed, notes, creating, limit, Map.of());
    }

    /** A pool that creates no instances and has no quota. */
    public PoolView(String hostType, String pool, int expected, List<Machine> machines, List<Waiter> waiters, long served,
        Map<String, Long> stateSinceMs, List<Departed> departed, String notes) {
      this(hostType, pool, expected, machines, waiters, served, stateSinceMs, departed, notes, 0, 0);
    }

    /** When the machine's current state (idle, busy, quarantined) began, or its connect time. */
    public long since(Machine m) {
      return stateSinceMs.getOrDefault(m.info().agentId(), m.info().connectedAtMs());
    }
  }

  /** A machine that was connected since this pool started and is not now: what the pool page names as missing. */
  public record Departed(String agentId, String hostname, long goneAtMs, String cause) implements CborSerializable {}

  /** How many departed machines a pool remembers. */
  private static final int DEPARTED_KEPT = 50;

  /** How long a buildlet has to answer a lease before the pool offers the build another one. */
  public static final Duration LEASE_TIMEOUT = Duration.ofSeconds(10);

  public static void init(ClusterSharding sharding, Map<String, HostTypeSpec> hosts, ActorRef<LocalPool.Command> localPool, LiveNotes notes) {
    Peers peers = Peers.sharded(sharding);
    sharding.init(
        Entity.of(ENTITY_KEY, ctx -> create(ctx.getEntityId(), hosts.get(ctx.getEntityId()), peers, localPool, LEASE_TIMEOUT, notes)));
  }

  /**
   * The pool of one host type; {@code spec} is null for a host type the config does not name,
   * {@code localPool} null on a node without one; {@code peers} reaches buildlets and builds.
   */
  public static Behavior<Command> create(
      String hostType, HostTypeSpec spec, Peers peers, ActorRef<LocalPool.Command> localPool, Duration leaseTimeout) {
    return create(hostType, spec, peers, localPool, leaseTimeout, LiveNotes.NONE);
  }

  /** As above; {@code notes} hears of every change of the pool's view (the live UI). */
  public static Behavior<Command> create(
      String hostType, HostTypeSpec spec, Peers peers, ActorRef<LocalPool.Command> localPool, Duration leaseTimeout, LiveNotes notes) {
    return Behaviors.setup(c -> new HostPool(hostType, spec, c, peers, localPool, leaseTimeout, notes));
  }

  private final String hostType;
  private final HostTypeSpec spec;
  private final ActorContext<Command> ctx;
  private final Peers peers;
  private final ActorRef<LocalPool.Command> localPool;
  private final Duration leaseTimeout;
  private final Map<String, Machine> machines = new LinkedHashMap<>();
  /** Builds and buildlets with a lease request under way. */
  private final Set<String> offeringBuilds = new HashSet<>();
  private final Set<String> offeredBuildlets = new HashSet<>();
  /** Fresh cloud instances not yet used: when each was asked for and made (for the first build's stages). */
  private final Map<String, InstanceMade> made = new HashMap<>();
  /** When each machine's state last changed (in memory, like the machines). */
  private final Map<String, Long> stateSince = new HashMap<>();
  /** Instances asked for whose agent has not announced itself, and since when (not persisted: the creator says again). */
  private final Map<String, Long> creating = new HashMap<>();
  /** An instance whose agent has not connected after this long is not counted as being created. */
  private static final Duration CREATING_FOR_AT_MOST = Duration.ofMinutes(5);
  private final java.util.ArrayDeque<Departed> departed = new java.util.ArrayDeque<>();
  private final LiveNotes notes;
  /** Cloud pools: machines taken out of use, to be deleted (agent ids); never leased again. */
  private final Set<String> retiring = new HashSet<>();
  /** Cloud pools: why each waiter still has no instance, as the cloud pool last said. */
  private Map<String, String> waitReasons = Map.of();
  private CloudPool.Needs lastNeeds;

  private HostPool(
      String hostType, HostTypeSpec spec, ActorContext<Command> ctx, Peers peers, ActorRef<LocalPool.Command> localPool, Duration leaseTimeout,
      LiveNotes notes) {
    super(
        PersistenceId.of(ENTITY_KEY.name(), hostType),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(10), 0.2));
    this.hostType = hostType;
    this.spec = spec;
    this.ctx = ctx;
    this.peers = peers;
    this.localPool = localPool;
    this.leaseTimeout = leaseTimeout;
    this.notes = notes;
  }

  @Override
  public HostPoolState emptyState() {
    return HostPoolState.empty();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(200, 2);
  }

  @Override
  public SignalHandler<HostPoolState> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), state -> demand(state))
        .build();
  }

  @Override
  public CommandHandlerWithReply<Command, HostPoolEvents.Event, HostPoolState> commandHandler() {
    return newCommandHandlerWithReplyBuilder()
        .forAnyState()
        .onCommand(Acquire.class, this::onAcquire)
        .onCommand(CancelWait.class, this::onCancel)
        .onCommand(BuildletUp.class, this::onUp)
        .onCommand(InstancesCreating.class, this::onCreating)
        .onCommand(InstanceEnded.class, this::onInstanceEnded)
        .onCommand(InstanceMade.class, (s, c) -> {
          made.put(c.instance(), c);
          return Effect().noReply();
        })
        .onCommand(CloudWake.class, (s, c) -> {
          lastNeeds = null;
          // The cloud pool (restarted, or moved) knows its instances, not whose agents are here.
          for (Machine m : machines.values()) {
            if (m.info().instance() != null) {
              tellCloud(new CloudPool.AgentConnected(m.info().instance()));
            }
          }
          demand(s);
          return Effect().noReply();
        })
        .onCommand(Retire.class, this::onRetire)
        .onCommand(WaitReasons.class, (s, c) -> {
          if (!c.reasons().equals(waitReasons)) {
            waitReasons = c.reasons();
            changed();
          }
          return Effect().noReply();
        })
        .onCommand(BuildletDown.class, this::onDown)
        .onCommand(BuildletIdle.class, this::onIdle)
        .onCommand(LeaseResult.class, this::onLeaseResult)
        .onCommand(GetView.class, (s, c) -> Effect().reply(c.replyTo(), view(s)))
        .build();
  }

  private ReplyEffect<HostPoolEvents.Event, HostPoolState> onAcquire(HostPoolState s, Acquire c) {
    if (s.waiting(c.waiter().buildId())) {
      return Effect().noReply();
    }
    return Effect().persist(new HostPoolEvents.WaiterAdded(c.waiter())).thenRun(ns -> {
      changed();
      dispatch(ns);
    }).thenNoReply();
  }

  private ReplyEffect<HostPoolEvents.Event, HostPoolState> onCancel(HostPoolState s, CancelWait c) {
    if (!s.waiting(c.buildId())) {
      return Effect().noReply();
    }
    return Effect().persist(new HostPoolEvents.WaiterCancelled(c.buildId())).thenRun(ns -> {
      changed();
      demand(ns);
    }).thenNoReply();
  }

  private ReplyEffect<HostPoolEvents.Event, HostPoolState> onCreating(HostPoolState s, InstancesCreating c) {
    long now = System.currentTimeMillis();
    c.instances().forEach(i -> creating.put(i, now));
    changed();
    return Effect().noReply();
  }

  private ReplyEffect<HostPoolEvents.Event, HostPoolState> onInstanceEnded(HostPoolState s, InstanceEnded c) {
    if (creating.remove(c.instance()) != null) {
      changed();
    }
    return Effect().noReply();
  }

  private ReplyEffect<HostPoolEvents.Event, HostPoolState> onUp(HostPoolState s, BuildletUp c) {
    String id = c.info().agentId();
    if (c.info().instance() != null && creating.remove(c.info().instance()) != null) {
      changed();
    }
    Machine before = machines.get(id);
    Machine now = new Machine(c.info(), c.idle() && c.health().quarantine() == null && !retiring.contains(id), c.leasedTo(), c.health());
    put(now);
    if (before == null) {
      ctx.getLog().info("Pool [{}]: buildlet [{}] ({}) connected", hostType, id, c.info().hostname());
      departed.removeIf(d -> d.hostname().equals(c.info().hostname()));
      if (cloud() && c.info().instance() != null) {
        tellCloud(new CloudPool.AgentConnected(c.info().instance()));
      }
    }
    dispatch(s);
    return Effect().noReply();
  }

  private ReplyEffect<HostPoolEvents.Event, HostPoolState> onDown(HostPoolState s, BuildletDown c) {
    Machine gone = machines.remove(c.agentId());
    retiring.remove(c.agentId());
    if (gone != null && gone.info().instance() != null) {
      made.remove(gone.info().instance());
    }
    if (gone != null && cloud() && gone.info().instance() != null) {
      tellCloud(new CloudPool.AgentDisconnected(gone.info().instance()));
    }
    if (gone != null) {
      ctx.getLog().info("Pool [{}]: buildlet [{}] gone: {}", hostType, c.agentId(), c.cause());
      stateSince.remove(c.agentId());
      departed.removeIf(d -> d.hostname().equals(gone.info().hostname()));
      departed.addFirst(new Departed(c.agentId(), gone.info().hostname(), System.currentTimeMillis(), c.cause()));
      while (departed.size() > DEPARTED_KEPT) {
        departed.removeLast();
      }
      changed();
    }
    demand(s);
    return Effect().noReply();
  }

  private ReplyEffect<HostPoolEvents.Event, HostPoolState> onIdle(HostPoolState s, BuildletIdle c) {
    Machine m = machines.get(c.agentId());
    if (m == null) {
      return Effect().noReply();
    }
    if (retiring.contains(c.agentId())) {
      put(new Machine(m.info(), false, null, m.health()));
    } else if (cloud() && spec.hermetic() && m.info().instance() != null) {
      // A hermetic host type's machine serves one build: then it is deleted and a fresh one made.
      retire(m, CloudPoolState.Reason.HERMETIC, "a hermetic host type's instance serves one build");
    } else {
      put(new Machine(m.info(), !m.quarantined(), null, m.health()));
    }
    dispatch(s);
    return Effect().noReply();
  }

  private ReplyEffect<HostPoolEvents.Event, HostPoolState> onRetire(HostPoolState s, Retire c) {
    for (Machine m : machines.values()) {
      if (c.instance().equals(m.info().instance()) && m.idle() && !offeredBuildlets.contains(m.info().agentId())) {
        retire(m, c.reason(), c.why());
        demand(s);
        break;
      }
    }
    return Effect().noReply();
  }

  /** Takes an idle or just-released machine out of use for good and has its cloud pool delete the instance. */
  private void retire(Machine m, CloudPoolState.Reason reason, String why) {
    String id = m.info().agentId();
    if (!retiring.add(id)) {
      return;
    }
    ctx.getLog().info("Pool [{}]: retiring buildlet [{}] (instance [{}]): {}", hostType, id, m.info().instance(), why);
    put(new Machine(m.info(), false, null, m.health()));
    tellCloud(new CloudPool.Release(m.info().instance(), reason, why));
  }

  private boolean cloud() {
    return spec != null && (spec.pool() == PoolKind.KUBERNETES || spec.pool() == PoolKind.GCE);
  }

  private void tellCloud(CloudPool.Command c) {
    try {
      peers.cloudPool(spec.pool().configName()).tell(c);
    } catch (IllegalStateException notYet) {
      // The cloud pool's shard region is not started yet: it wakes this pool when it starts.
    }
  }

  private ReplyEffect<HostPoolEvents.Event, HostPoolState> onLeaseResult(HostPoolState s, LeaseResult c) {
    offeringBuilds.remove(c.waiter().buildId());
    offeredBuildlets.remove(c.agentId());
    Machine m = machines.get(c.agentId());
    if (c.reply().isError()) {
      ctx.getLog().debug("Pool [{}]: lease of [{}] refused: {}", hostType, c.agentId(), c.reply().getError().getMessage());
      if (c.unanswered()) {
        // Granted after the pool stopped waiting, the lease would hold the buildlet for a build that runs elsewhere.
        ctx.getLog().warn("Pool [{}]: buildlet [{}] did not answer the lease for [{}] in {}: taken back", hostType, c.agentId(),
            c.waiter().buildId(), leaseTimeout);
        peers.buildlet(c.agentId()).tell(new Buildlet.Release(c.waiter().buildId()));
      }
      if (m != null) {
        put(new Machine(m.info(), false, m.leasedTo(), m.health()));
      }
      dispatch(s);
      return Effect().noReply();
    }
    Buildlet.Granted g = c.reply().getValue();
    if (m != null) {
      put(new Machine(m.info(), false, c.waiter().buildId(), m.health()));
    }
    if (!s.waiting(c.waiter().buildId())) {
      // Cancelled while the lease was under way: give the buildlet back.
      peers.buildlet(c.agentId()).tell(new Buildlet.Release(c.waiter().buildId()));
      return Effect().noReply();
    }
    return Effect()
        .persist(new HostPoolEvents.WaiterServed(c.waiter().buildId(), c.agentId()))
        .thenRun(
            ns -> {
              changed();
              peers.buildRun(c.waiter().buildId()).tell(new BuildRun.BuildletAssigned(g,
                  CloudDemand.stages(c.waiter(), m, m == null || m.info().instance() == null ? null : made.remove(m.info().instance()),
                      System.currentTimeMillis())));
              dispatch(ns);
            })
        .thenNoReply();
  }

  /** Records a machine; a change of what the pool page shows of it is a live note, and a change of its state restarts its "for". */
  private void put(Machine m) {
    String id = m.info().agentId();
    Machine before = machines.put(id, m);
    if (m.equals(before)) {
      return;
    }
    if (before == null || before.idle() != m.idle() || !java.util.Objects.equals(before.leasedTo(), m.leasedTo())
        || before.quarantined() != m.quarantined()) {
      stateSince.put(id, System.currentTimeMillis());
    }
    changed();
  }

  private void changed() {
    notes.poolChanged(hostType);
  }

  /** Pairs waiters with idle machines, best waiter first. */
  private void dispatch(HostPoolState s) {
    List<Machine> idle = new ArrayList<>();
    for (Machine m : machines.values()) {
      if (m.idle() && !offeredBuildlets.contains(m.info().agentId())) {
        idle.add(m);
      }
    }
    for (Waiter w : s.waiters()) {
      if (idle.isEmpty()) {
        break;
      }
      if (offeringBuilds.contains(w.buildId())) {
        continue;
      }
      Machine m = pick(w, idle, machines.values());
      if (m != null) {
        idle.remove(m);
        offer(w, m);
      }
    }
    demand(s);
  }

  /**
   * The idle machine for a waiter: the first one its earlier attempts did not fail on. When every
   * connected machine that could ever serve it (all but the quarantined) is one it avoids, the
   * first idle one of those: a retry on a buildlet that failed before beats waiting for a machine
   * that may never come. Null: it waits (for a machine it does not avoid to become idle).
   */
  static Machine pick(Waiter w, List<Machine> idle, java.util.Collection<Machine> connected) {
    for (Machine m : idle) {
      if (!w.avoid().contains(m.info().agentId())) {
        return m;
      }
    }
    boolean anyOther = connected.stream().anyMatch(m -> !m.quarantined() && !w.avoid().contains(m.info().agentId()));
    return anyOther ? null : idle.get(0);
  }

  private void offer(Waiter w, Machine m) {
    String agentId = m.info().agentId();
    offeringBuilds.add(w.buildId());
    offeredBuildlets.add(agentId);
    ctx.askWithStatus(
        Buildlet.Granted.class,
        peers.buildlet(agentId),
        leaseTimeout,
        r -> new Buildlet.Lease(w.buildId(), r),
        (g, err) -> new LeaseResult(w, agentId, err == null ? StatusReply.success(g) : StatusReply.error(err), err instanceof TimeoutException));
  }

  /** Tells the local pool how many builds wait with no machine to serve them; a cloud pool which ones. */
  private void demand(HostPoolState s) {
    if (cloud()) {
      cloudDemand(s);
      return;
    }
    if (localPool == null || spec == null || spec.pool() != PoolKind.LOCAL) {
      return;
    }
    localPool.tell(new LocalPool.Demand(hostType, s.waiters().size(), machines.size(), countIdle()));
  }

  /** The cloud pool's needs, told when they changed. */
  private void cloudDemand(HostPoolState s) {
    CloudPool.Needs n = CloudDemand.needs(hostType, machines.values(), offeredBuildlets, retiring, s.waiters(), offeringBuilds, stateSince);
    if (!n.equals(lastNeeds)) {
      lastNeeds = n;
      tellCloud(n);
    }
  }

  private int countIdle() {
    int n = 0;
    for (Machine m : machines.values()) {
      if (m.idle()) {
        n++;
      }
    }
    return n;
  }

  private PoolView view(HostPoolState s) {
    return new PoolView(
        hostType,
        spec == null ? "unknown" : spec.pool().name().toLowerCase(java.util.Locale.ROOT),
        spec == null ? 0 : spec.expected(),
        List.copyOf(machines.values()),
        s.waiters(),
        s.served(),
        stateSince,
        List.copyOf(departed),
        spec == null ? "" : spec.notes(),
        creatingNow(),
        spec != null && spec.pool() == PoolKind.LOCAL ? spec.local().max() : 0,
        waitReasons);
  }

  /** Instances being created, forgetting any whose agent never came. */
  private int creatingNow() {
    long oldest = System.currentTimeMillis() - CREATING_FOR_AT_MOST.toMillis();
    creating.values().removeIf(since -> since < oldest);
    return creating.size();
  }

  @Override
  public EventHandler<HostPoolState, HostPoolEvents.Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(HostPoolState::apply);
  }
}
