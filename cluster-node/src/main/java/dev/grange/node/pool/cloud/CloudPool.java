package dev.grange.node.pool.cloud;

import dev.grange.node.Peers;
import dev.grange.node.pool.cloud.CloudPoolState.Owned;
import dev.grange.node.pool.cloud.CloudPoolState.Phase;
import dev.grange.node.pool.cloud.CloudPoolState.Reason;
import dev.grange.node.schedule.HostPool;
import dev.grange.protocol.CborSerializable;
import dev.grange.protocol.model.HostTypeSpec;
import dev.grange.protocol.schedule.SchedItem;
import dev.grange.protocol.wire.Handshake;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * The instances of one cloud pool (entity id: the pool kind, {@code kubernetes} or {@code gce}),
 * across all its host types: sharded, event-sourced, one per cluster.
 *
 * <p>The {@link HostPool} of each of its host types says which builds wait with no idle machine
 * ({@link Needs}). The builds that no instance on its way will serve get a new instance in the
 * order builds are served, while their cost fits the pool's {@link Quota} ({@link QuotaPlan});
 * the others await quota, and their host pool is told why. Calls to the cloud are rate-limited
 * ({@link CallRate}). Each instance's life is persisted before the call that changes it, so that
 * after a crash or a move the pool knows every instance it asked for and its quota.
 *
 * <p>Deletes, each logged with its reason and counted: an instance whose agent did not connect
 * within its host type's boot timeout (its waiter then gets another); one the cloud reports failed
 * (watched where the cloud can push, else found by the janitor); one past its delete-at; one no
 * live pool owns (the janitor lists the cloud's instances every {@code janitorEvery}); an idle one
 * above the host type's warm minimum after the idle timeout (the host pool retires it first, so a
 * build never loses its machine); a hermetic host type's instance after its build; one whose agent
 * went away and did not come back within the reconnect grace. A deleted instance's quota is free
 * at once.
 */
public final class CloudPool
    extends EventSourcedBehaviorWithEnforcedReplies<CloudPool.Command, CloudPoolEvents.Event, CloudPoolState> {

  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "CloudPool");

  public sealed interface Command extends CborSerializable {}

  /** A build of the host type waiting with no idle machine, since {@code sinceMs}. */
  public record Waiting(String buildId, SchedItem item, long sinceMs) implements CborSerializable {}

  /**
   * From a host pool: its builds that no idle machine serves, best first; and its idle instances
   * with the time each became idle.
   */
  public record Needs(String hostType, List<Waiting> waiting, Map<String, Long> idleSince) implements Command {
    public Needs {
      waiting = List.copyOf(waiting);
      idleSince = Map.copyOf(idleSince);
    }
  }

  /** From a host pool: the agent of an instance connected. */
  public record AgentConnected(String instance) implements Command {}

  /** From a host pool: the agent of an instance went away. */
  public record AgentDisconnected(String instance) implements Command {}

  /** From a host pool: delete this instance ({@code reason}: a {@link Reason}), its machine is out of use. */
  public record Release(String instance, Reason reason, String why) implements Command {}

  public record GetView(ActorRef<View> replyTo) implements Command {}

  /** Starts the entity where sharding puts it (each node sends one at start); nothing else. */
  public record Wake() implements Command {}

  /** The pool as the API shows it. */
  public record View(String kind, Quota quota, int instancesUsed, long milliCpusUsed, List<Owned> instances,
      Map<String, Long> deletions, long requested, long createFailures, Map<String, String> awaiting, Map<String, String> lastErrors)
      implements CborSerializable {}

  private record Tick() implements Command {}

  private record Pump() implements Command {}

  private record CreateDone(String name, Instance instance) implements Command {}

  private record CreateError(String name, String hostType, ProviderException.Kind kind, String message) implements Command {}

  private record DeleteDone(String name) implements Command {}

  private record DeleteError(String name, String message) implements Command {}

  private record RetryDelete(String name) implements Command {}

  private record Listed(List<Instance> instances) implements Command {}

  private record ListError(String message) implements Command {}

  private record Watched(Instance instance) implements Command {}

  private record BootCheck(String name) implements Command {}

  private record ReconnectCheck(String name) implements Command {}

  public static Behavior<Command> create(String kind, Map<String, HostTypeSpec> hosts, InstanceProvider provider, CloudPoolSettings settings,
      Peers peers, Clock clock) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new CloudPool(kind, hosts, provider, settings, peers, clock, ctx, timers)));
  }

  private final String kind;
  private final Map<String, HostTypeSpec> hosts;
  private final InstanceProvider provider;
  private final CloudPoolSettings settings;
  private final Peers peers;
  private final Clock clock;
  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final CallRate rate;
  /** The latest needs of each host type (in memory: the host pools say them again). */
  private final Map<String, Needs> needs = new LinkedHashMap<>();
  private Map<String, String> awaiting = Map.of();
  private final CallFailures failures;
  private final Set<String> creating = new HashSet<>();
  private final Set<String> deleting = new HashSet<>();
  private final ArrayDeque<String> toDelete = new ArrayDeque<>();
  private final Map<String, Instance> seen = new HashMap<>();
  private final Set<String> away = new HashSet<>();
  private final Set<String> retiring = new HashSet<>();
  private AutoCloseable watch;

  private CloudPool(String kind, Map<String, HostTypeSpec> hosts, InstanceProvider provider, CloudPoolSettings settings, Peers peers, Clock clock,
      ActorContext<Command> ctx, TimerScheduler<Command> timers) {
    super(PersistenceId.of(ENTITY_KEY.name(), kind),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(10), 0.2));
    this.kind = kind;
    this.hosts = Map.copyOf(hosts);
    this.provider = provider;
    this.settings = settings;
    this.failures = new CallFailures(settings.backoff());
    this.peers = peers;
    this.clock = clock;
    this.ctx = ctx;
    this.timers = timers;
    this.rate = new CallRate(settings.apiRate(), System::nanoTime);
  }

  @Override
  public CloudPoolState emptyState() {
    return CloudPoolState.empty();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(200, 2);
  }

  @Override
  public SignalHandler<CloudPoolState> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), this::recovered)
        .onSignal(PostStop.instance(), s -> stopWatch())
        .build();
  }

  private void recovered(CloudPoolState s) {
    long now = clock.millis();
    for (Owned o : s.owned().values()) {
      if (o.phase() == Phase.DELETING) {
        toDelete.add(o.name());
      } else if (o.phase() == Phase.CONNECTED) {
        // Whether its agent is still there is the host pools' to say (they tell it again when
        // woken, below): one that does not come back within the grace holds no quota for long.
        away.add(o.name());
        timers.startSingleTimer("reconnect-" + o.name(), new ReconnectCheck(o.name()), settings.reconnectGrace());
      } else if (o.phase() == Phase.CREATING || o.phase() == Phase.BOOTING) {
        HostTypeSpec spec = hosts.get(o.hostType());
        long boot = spec == null ? 0 : spec.bootTimeoutMs();
        timers.startSingleTimer("boot-" + o.name(), new BootCheck(o.name()), Duration.ofMillis(Math.max(0, o.requestedAtMs() + boot - now)));
      }
    }
    try {
      ActorRef<Command> self = ctx.getSelf();
      watch = provider.watch(i -> self.tell(new Watched(i)));
    } catch (RuntimeException e) {
      ctx.getLog().warn("Cloud pool [{}]: cannot watch its instances ({}); the janitor lists them every {}", kind, e.toString(),
          settings.janitorEvery());
    }
    timers.startTimerWithFixedDelay("janitor", new Tick(), Duration.ZERO, settings.janitorEvery());
    ctx.getLog().info("Cloud pool [{}]: {} instance(s) owned, quota {}", kind, s.owned().size(), settings.quota());
    // The host pools say their needs again (this pool may have moved here and knows none).
    for (String hostType : hosts.keySet()) {
      tellHostPool(hostType, new HostPool.CloudWake());
    }
    ctx.getSelf().tell(new Pump());
  }

  private void stopWatch() {
    if (watch != null) {
      try {
        watch.close();
      } catch (Exception e) {
        ctx.getLog().debug("Cloud pool [{}]: closing the watch: {}", kind, e.toString());
      }
      watch = null;
    }
  }

  @Override
  public CommandHandlerWithReply<Command, CloudPoolEvents.Event, CloudPoolState> commandHandler() {
    return newCommandHandlerWithReplyBuilder()
        .forAnyState()
        .onCommand(Needs.class, this::onNeeds)
        .onCommand(AgentConnected.class, this::onConnected)
        .onCommand(AgentDisconnected.class, this::onDisconnected)
        .onCommand(Release.class, (s, c) -> delete(s, c.instance(), c.reason(), c.why()))
        .onCommand(GetView.class, (s, c) -> Effect().reply(c.replyTo(), view(s)))
        .onCommand(Wake.class, (s, c) -> Effect().noReply())
        .onCommand(Tick.class, this::onTick)
        .onCommand(Pump.class, (s, c) -> plan(s))
        .onCommand(CreateDone.class, this::onCreated)
        .onCommand(CreateError.class, this::onCreateError)
        .onCommand(DeleteDone.class, this::onDeleted)
        .onCommand(DeleteError.class, this::onDeleteError)
        .onCommand(RetryDelete.class, this::onRetryDelete)
        .onCommand(Listed.class, this::onListed)
        .onCommand(ListError.class, (s, c) -> {
          ctx.getLog().warn("Cloud pool [{}]: cannot list its instances: {}", kind, c.message());
          return Effect().noReply();
        })
        .onCommand(Watched.class, (s, c) -> seenNow(s, c.instance()))
        .onCommand(BootCheck.class, this::onBootCheck)
        .onCommand(ReconnectCheck.class, this::onReconnectCheck)
        .build();
  }

  // ---- needs and creation ----

  private ReplyEffect<CloudPoolEvents.Event, CloudPoolState> onNeeds(CloudPoolState s, Needs n) {
    if (!hosts.containsKey(n.hostType())) {
      return Effect().noReply();
    }
    needs.put(n.hostType(), n);
    return plan(s);
  }

  /** Asks for the instances the plan gives now, as far as the call rate allows; says who awaits quota. */
  private ReplyEffect<CloudPoolEvents.Event, CloudPoolState> plan(CloudPoolState s) {
    long now = clock.millis();
    pumpDeletes(s);
    List<QuotaPlan.Need> wanted = new ArrayList<>();
    Map<String, String> waitingWhy = new LinkedHashMap<>();
    for (Map.Entry<String, HostTypeSpec> h : hosts.entrySet()) {
      String hostType = h.getKey();
      Cost cost = Cost.of(h.getValue());
      Needs n = needs.get(hostType);
      List<Waiting> waiting = n == null ? List.of() : n.waiting();
      String backingOff = failures.backingOff(hostType, now);
      if (backingOff != null) {
        waiting.forEach(w -> waitingWhy.put(w.buildId(), backingOff));
        continue;
      }
      QuotaPlan.needs(s, hostType, cost, waiting, settings.warm().getOrDefault(hostType, 0), now, wanted, waitingWhy);
    }
    QuotaPlan.Plan plan = QuotaPlan.plan(settings.quota(), s.used(), wanted, now, settings.patience());
    waitingWhy.putAll(plan.awaiting());
    int allowed = rate.take(plan.create().size());
    if (allowed < plan.create().size()) {
      timers.startSingleTimer("pump", new Pump(), rate.untilNext());
      for (QuotaPlan.Need n : plan.create().subList(allowed, plan.create().size())) {
        waitingWhy.put(n.buildId(), "creating an instance: waiting for the API rate (" + settings.apiRate() + "/s)");
      }
    }
    long deleteAt = (now + settings.maxLifetime().toMillis()) / 1000;
    List<CloudPoolEvents.Event> events = new ArrayList<>();
    for (QuotaPlan.Need n : plan.create().subList(0, allowed)) {
      String name = InstanceNames.fresh(n.hostType());
      events.add(new CloudPoolEvents.Requested(name, n.hostType(), n.cost(), n.buildId().startsWith("warm:") ? "" : n.buildId(), now, deleteAt));
      waitingWhy.put(n.buildId(), "creating instance " + name);
    }
    tellWhy(waitingWhy);
    if (events.isEmpty()) {
      return Effect().noReply();
    }
    return Effect().persist(events).thenRun(ns -> {
      for (CloudPoolEvents.Event e : events) {
        startCreate((CloudPoolEvents.Requested) e);
      }
    }).thenNoReply();
  }

  private void startCreate(CloudPoolEvents.Requested r) {
    HostTypeSpec spec = hosts.get(r.hostType());
    creating.add(r.name());
    ctx.getLog().info("Cloud pool [{}]: creating instance [{}] of [{}]{} ({})", kind, r.name(), r.hostType(),
        r.forBuild().isEmpty() ? " (warm minimum)" : " for build [" + r.forBuild() + "]", r.cost());
    tellHostPool(r.hostType(), new HostPool.InstancesCreating(List.of(r.name())));
    timers.startSingleTimer("boot-" + r.name(), new BootCheck(r.name()), Duration.ofMillis(spec.bootTimeoutMs()));
    InstanceRequest req = new InstanceRequest(r.name(), spec, settings.nodeUrls(), Handshake.instanceKey(settings.masterKey(), r.name()),
        r.deleteAtEpochSecond());
    ctx.pipeToSelf(provider.create(req), (inst, err) -> {
      if (err == null) {
        return new CreateDone(r.name(), inst);
      }
      Throwable t = err instanceof java.util.concurrent.CompletionException && err.getCause() != null ? err.getCause() : err;
      ProviderException.Kind k = t instanceof ProviderException p ? p.kind() : ProviderException.Kind.UNAVAILABLE;
      return new CreateError(r.name(), r.hostType(), k, t.getMessage() == null ? t.toString() : t.getMessage());
    });
  }

  private ReplyEffect<CloudPoolEvents.Event, CloudPoolState> onCreated(CloudPoolState s, CreateDone c) {
    creating.remove(c.name());
    seen.put(c.name(), c.instance());
    Owned o = s.owned().get(c.name());
    if (o == null) {
      return delete(s, c.name(), Reason.LEAKED, "created after the pool forgot it");
    }
    failures.created(o.hostType());
    if (o.phase() == Phase.DELETING) {
      // Its boot timeout passed (or it was released) while the cloud was still making it.
      toDelete.add(c.name());
      pumpDeletes(s);
      return Effect().noReply();
    }
    if (o.phase() != Phase.CREATING) {
      return Effect().noReply();
    }
    long now = clock.millis();
    // Its host pool records the creation on the first build it serves (farmer's create_instance stage).
    return Effect().persist(new CloudPoolEvents.Created(c.name(), c.instance().location(), now))
        .thenRun(ns -> tellHostPool(o.hostType(), new HostPool.InstanceMade(c.name(), o.requestedAtMs(), now)))
        .thenNoReply();
  }

  private ReplyEffect<CloudPoolEvents.Event, CloudPoolState> onCreateError(CloudPoolState s, CreateError c) {
    creating.remove(c.name());
    CallFailures.Wait w = failures.createFailed(c.hostType(), c.kind(), c.message(), clock.millis());
    timers.startSingleTimer("retry-" + c.hostType(), new Pump(), w.delay());
    ctx.getLog().warn("Cloud pool [{}]: instance [{}] of [{}] not created ({} in a row), again in {} s: {}: {}", kind, c.name(),
        c.hostType(), w.inARow(), w.delay().toSeconds(), c.kind(), c.message());
    timers.cancel("boot-" + c.name());
    tellHostPool(c.hostType(), new HostPool.InstanceEnded(c.name()));
    if (!s.owned().containsKey(c.name())) {
      return Effect().noReply();
    }
    return Effect().persist(new CloudPoolEvents.CreateFailed(c.name(), c.message(), clock.millis())).thenRun(ns -> pumpLater()).thenNoReply();
  }

  // ---- the agent's side ----

  private ReplyEffect<CloudPoolEvents.Event, CloudPoolState> onConnected(CloudPoolState s, AgentConnected c) {
    away.remove(c.instance());
    timers.cancel("reconnect-" + c.instance());
    Owned o = s.owned().get(c.instance());
    if (o == null || o.phase() == Phase.CONNECTED || o.phase() == Phase.DELETING) {
      return Effect().noReply();
    }
    timers.cancel("boot-" + c.instance());
    ctx.getLog().info("Cloud pool [{}]: the agent of [{}] connected {} ms after it was asked for", kind, c.instance(),
        clock.millis() - o.requestedAtMs());
    return Effect().persist(new CloudPoolEvents.Connected(c.instance(), clock.millis())).thenRun(ns -> pumpLater()).thenNoReply();
  }

  private ReplyEffect<CloudPoolEvents.Event, CloudPoolState> onDisconnected(CloudPoolState s, AgentDisconnected c) {
    Owned o = s.owned().get(c.instance());
    if (o != null && o.phase() == Phase.CONNECTED && away.add(c.instance())) {
      timers.startSingleTimer("reconnect-" + c.instance(), new ReconnectCheck(c.instance()), settings.reconnectGrace());
    }
    return Effect().noReply();
  }

  private ReplyEffect<CloudPoolEvents.Event, CloudPoolState> onReconnectCheck(CloudPoolState s, ReconnectCheck c) {
    if (!away.remove(c.name())) {
      return Effect().noReply();
    }
    return delete(s, c.name(), Reason.AGENT_GONE, "its agent went away and did not come back within " + settings.reconnectGrace().toSeconds() + " s");
  }

  private ReplyEffect<CloudPoolEvents.Event, CloudPoolState> onBootCheck(CloudPoolState s, BootCheck c) {
    Owned o = s.owned().get(c.name());
    if (o == null || (o.phase() != Phase.CREATING && o.phase() != Phase.BOOTING)) {
      return Effect().noReply();
    }
    HostTypeSpec spec = hosts.get(o.hostType());
    return delete(s, c.name(), Reason.BOOT_TIMEOUT,
        "its agent did not connect within the boot timeout of " + Duration.ofMillis(spec == null ? 0 : spec.bootTimeoutMs()).toSeconds() + " s");
  }

  // ---- deletion ----

  /** Persists that the instance is being deleted (its quota free at once), then deletes it. */
  private ReplyEffect<CloudPoolEvents.Event, CloudPoolState> delete(CloudPoolState s, String name, Reason reason, String why) {
    Owned o = s.owned().get(name);
    if (o != null && o.phase() == Phase.DELETING) {
      return Effect().noReply();
    }
    String hostType = o != null ? o.hostType() : seen.containsKey(name) ? seen.get(name).hostType() : "";
    ctx.getLog().info("Cloud pool [{}]: deleting instance [{}] of [{}]: {} ({})", kind, name, hostType, reason.key(), why);
    timers.cancel("boot-" + name);
    timers.cancel("reconnect-" + name);
    away.remove(name);
    return Effect().persist(new CloudPoolEvents.Deleting(name, hostType, reason.key(), why, clock.millis())).thenRun(ns -> {
      if (o != null) {
        tellHostPool(hostType, new HostPool.InstanceEnded(name));
      }
      if (!creating.contains(name)) {
        toDelete.add(name);
      }
      pumpLater();
    }).thenNoReply();
  }

  /** Issues the deletes waiting, as far as the call rate allows. */
  private void pumpDeletes(CloudPoolState s) {
    while (!toDelete.isEmpty()) {
      String name = toDelete.peek();
      if (deleting.contains(name)) {
        toDelete.poll();
        continue;
      }
      if (rate.take(1) == 0) {
        timers.startSingleTimer("pump", new Pump(), rate.untilNext());
        return;
      }
      toDelete.poll();
      deleting.add(name);
      Owned o = s.owned().get(name);
      Instance i = seen.getOrDefault(name, new Instance(name, o == null ? "" : o.hostType(), o == null ? "" : o.location(),
          InstanceState.RUNNING, "", 0, 0));
      ctx.pipeToSelf(provider.delete(i), (v, err) -> err == null ? new DeleteDone(name)
          : new DeleteError(name, (err.getCause() != null ? err.getCause() : err).getMessage()));
    }
  }

  private ReplyEffect<CloudPoolEvents.Event, CloudPoolState> onDeleted(CloudPoolState s, DeleteDone c) {
    deleting.remove(c.name());
    failures.deleted(c.name());
    timers.cancel("delete-" + c.name());
    seen.remove(c.name());
    retiring.remove(c.name());
    if (!s.owned().containsKey(c.name())) {
      return Effect().noReply();
    }
    ctx.getLog().info("Cloud pool [{}]: instance [{}] deleted", kind, c.name());
    return Effect().persist(new CloudPoolEvents.Gone(c.name(), clock.millis())).thenNoReply();
  }

  /**
   * A delete call failed: the instance is still in the cloud, so it is asked again, 1 s after the
   * first failure and doubling up to {@code create-backoff.unavailable-max}, until it is gone.
   */
  private ReplyEffect<CloudPoolEvents.Event, CloudPoolState> onDeleteError(CloudPoolState s, DeleteError c) {
    deleting.remove(c.name());
    Owned o = s.owned().get(c.name());
    CallFailures.Wait w = failures.deleteFailed(c.name(), o == null ? "" : o.hostType(), c.message());
    ctx.getLog().warn("Cloud pool [{}]: deleting [{}] failed ({} in a row), again in {} ms: {}", kind, c.name(), w.inARow(),
        w.delay().toMillis(), c.message());
    timers.startSingleTimer("delete-" + c.name(), new RetryDelete(c.name()), w.delay());
    return Effect().noReply();
  }

  private ReplyEffect<CloudPoolEvents.Event, CloudPoolState> onRetryDelete(CloudPoolState s, RetryDelete c) {
    Owned o = s.owned().get(c.name());
    if (o != null && o.phase() == Phase.DELETING && !deleting.contains(c.name()) && !toDelete.contains(c.name())) {
      toDelete.add(c.name());
      pumpDeletes(s);
    }
    return Effect().noReply();
  }

  // ---- the janitor ----

  private ReplyEffect<CloudPoolEvents.Event, CloudPoolState> onTick(CloudPoolState s, Tick t) {
    ctx.pipeToSelf(provider.list(), (list, err) -> err == null ? new Listed(list)
        : new ListError((err.getCause() != null ? err.getCause() : err).getMessage()));
    retireIdle(s);
    return plan(s);
  }

  /** Asks the host pools to retire the instances idle past the idle timeout above their warm minimum, longest idle first. */
  private void retireIdle(CloudPoolState s) {
    // Asked again each round: a host pool does not retire a machine that became busy meanwhile.
    retiring.clear();
    for (Needs n : needs.values()) {
      int warm = settings.warm().getOrDefault(n.hostType(), 0);
      for (Map.Entry<String, Long> e : CloudJanitor.idleToRetire(s, n.hostType(), n.idleSince(), warm, settings.idleTimeout(), clock.millis())) {
        if (retiring.add(e.getKey())) {
          tellHostPool(n.hostType(), new HostPool.Retire(e.getKey(), Reason.IDLE,
              "idle for " + Duration.ofMillis(clock.millis() - e.getValue()).toSeconds() + " s above the warm minimum of " + warm));
        }
      }
    }
  }

  private ReplyEffect<CloudPoolEvents.Event, CloudPoolState> onListed(CloudPoolState s, Listed l) {
    l.instances().forEach(i -> seen.put(i.name(), i));
    return persistJudged(CloudJanitor.reconcile(s, l.instances(), creating, deleting, clock.millis()));
  }

  private ReplyEffect<CloudPoolEvents.Event, CloudPoolState> seenNow(CloudPoolState s, Instance i) {
    seen.put(i.name(), i);
    CloudPoolEvents.Event e = CloudJanitor.judge(s.owned().get(i.name()), i, creating, deleting, clock.millis());
    if (e == null && i.state() == InstanceState.GONE) {
      seen.remove(i.name());
    }
    return persistJudged(e == null ? List.of() : List.of(e));
  }

  /** Persists the janitor's findings; each deletion found is then carried out. */
  private ReplyEffect<CloudPoolEvents.Event, CloudPoolState> persistJudged(List<CloudPoolEvents.Event> events) {
    if (events.isEmpty()) {
      return Effect().noReply();
    }
    for (CloudPoolEvents.Event e : events) {
      if (e instanceof CloudPoolEvents.Deleting d) {
        ctx.getLog().info("Cloud pool [{}]: deleting instance [{}] of [{}]: {} ({})", kind, d.name(), d.hostType(), d.reason(), d.why());
      }
    }
    return Effect().persist(events).thenRun(ns -> {
      for (CloudPoolEvents.Event e : events) {
        if (e instanceof CloudPoolEvents.Deleting d) {
          timers.cancel("boot-" + d.name());
          tellHostPool(d.hostType(), new HostPool.InstanceEnded(d.name()));
          if (ns.owned().containsKey(d.name())) {
            toDelete.add(d.name());
          }
        } else if (e instanceof CloudPoolEvents.Gone g) {
          seen.remove(g.name());
        }
      }
      pumpLater();
    }).thenNoReply();
  }

  // ---- telling ----

  /** Plans again once this command's events are persisted (an effect made inside thenRun would be dropped). */
  private void pumpLater() {
    ctx.getSelf().tell(new Pump());
  }

  private void tellWhy(Map<String, String> why) {
    if (why.equals(awaiting)) {
      return;
    }
    awaiting = Map.copyOf(why);
    for (String hostType : hosts.keySet()) {
      Needs n = needs.get(hostType);
      if (n == null) {
        continue;
      }
      Map<String, String> mine = new HashMap<>();
      for (Waiting w : n.waiting()) {
        String reason = why.get(w.buildId());
        if (reason != null) {
          mine.put(w.buildId(), reason);
        }
      }
      tellHostPool(hostType, new HostPool.WaitReasons(mine));
    }
  }

  private void tellHostPool(String hostType, HostPool.Command c) {
    if (hostType == null || hostType.isEmpty()) {
      return;
    }
    try {
      peers.hostPool(hostType).tell(c);
    } catch (IllegalStateException notYet) {
      // The HostPool shard region is not started yet; it says its needs when it starts.
    }
  }

  private View view(CloudPoolState s) {
    Quota.Left left = settings.quota().left(s.used());
    List<Owned> list = new ArrayList<>(s.owned().values());
    list.sort(Comparator.comparingLong(Owned::requestedAtMs));
    return new View(kind, settings.quota(), left.instances(), left.milliCpus(), list, s.deletions(), s.requested(), s.createFailures(),
        awaiting, failures.lastErrors());
  }

  @Override
  public EventHandler<CloudPoolState, CloudPoolEvents.Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(CloudPoolState::apply);
  }
}
