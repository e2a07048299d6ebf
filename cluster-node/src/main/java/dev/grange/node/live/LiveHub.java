package dev.grange.node.live;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.grange.node.api.ApiErrors;
import dev.grange.node.schedule.HostPool;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.stream.QueueOfferResult;
import org.apache.pekko.stream.BoundedSourceQueue;

/**
 * The live UI of one node: subscribes to the cluster's {@link LiveNote} topic, reads the pools
 * that notes say changed (at most once per {@code tick} each, so a burst of changes costs one
 * read), keeps what the browsers were last told, and pushes only the differences, batched into
 * one patch per tick, to every browser connected to this node ({@link LiveRoute}). A new browser
 * first gets a snapshot of everything, then the patches, in that order, from this one actor. A
 * browser that cannot keep up has its socket failed (it reconnects and gets a fresh snapshot):
 * a patch is never dropped silently. Every {@code refresh} it reads all pools anyway, which
 * repairs a lost note. Also tells the other nodes it is there ({@link LiveNote.NodeHello}) and
 * tracks the cluster's members for the nodes table.
 */
public final class LiveHub extends AbstractBehavior<LiveHub.Command> {
  public sealed interface Command {}

  /** A browser's socket: the hub sends the snapshot, then every patch, into {@code queue}. */
  public record Subscribe(long id, BoundedSourceQueue<String> queue) implements Command {}

  public record Unsubscribe(long id) implements Command {}

  /** Queue depth and utilisation of every pool over the last hour, as the JSON of {@code /api/v1/pools/history}. */
  public record GetHistory(ActorRef<String> replyTo) implements Command {}

  /** One sample a pool every this long; an hour of them is kept (in memory: a restarted node starts afresh). */
  static final Duration SAMPLE_EVERY = Duration.ofSeconds(10);
  static final Duration HISTORY = Duration.ofHours(1);

  private record Note(LiveNote note) implements Command {}

  private record ViewGot(String hostType, HostPool.PoolView view, Throwable failure) implements Command {}

  private record ClusterChanged(Object event) implements Command {}

  private enum Tick implements Command {
    INSTANCE
  }

  private enum Refresh implements Command {
    INSTANCE
  }

  private enum Hello implements Command {
    INSTANCE
  }

  /** Settings: how often patches go out at most, how often everything is read again, how long a pool may take to answer. */
  public record Settings(Duration tick, Duration refresh, Duration askTimeout, String httpUrl, String version) {}

  public static Behavior<Command> create(
      ClusterSharding sharding, List<String> hostTypes, ActorRef<Topic.Command<LiveNote>> topic, Settings settings) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(t -> new LiveHub(ctx, t, sharding, hostTypes, topic, settings)));
  }

  private final ClusterSharding sharding;
  private final List<String> hostTypes;
  private final ActorRef<Topic.Command<LiveNote>> topic;
  private final Settings settings;
  private final Cluster cluster;
  private final long startedAtMs = System.currentTimeMillis();
  private final String self;

  private final Map<Long, BoundedSourceQueue<String>> subscribers = new LinkedHashMap<>();
  private final Set<String> dirty = new HashSet<>();
  private final Set<String> reading = new HashSet<>();
  private final Map<String, String> poolJson = new HashMap<>();
  private final Map<String, String> queueJson = new HashMap<>();
  private final Map<String, Map<String, String>> machineJson = new HashMap<>();
  private final Map<String, LiveNote.NodeHello> hellos = new HashMap<>();
  private final Map<String, String> nodeJson = new HashMap<>();
  private final Map<String, java.util.ArrayDeque<long[]>> samples = new HashMap<>();
  private boolean nodesDirty = true;
  private long seq;

  private final List<String> pendingPools = new ArrayList<>();
  private final List<String> pendingQueues = new ArrayList<>();
  private final List<String> pendingUpserts = new ArrayList<>();
  private final List<String> pendingRemoves = new ArrayList<>();
  private final List<String> pendingNodes = new ArrayList<>();
  private final List<String> pendingNodesGone = new ArrayList<>();
  private final Map<String, LiveNote.BuildChanged> pendingBuilds = new LinkedHashMap<>();

  private LiveHub(ActorContext<Command> ctx, TimerScheduler<Command> timers, ClusterSharding sharding, List<String> hostTypes,
      ActorRef<Topic.Command<LiveNote>> topic, Settings settings) {
    super(ctx);
    this.sharding = sharding;
    this.hostTypes = List.copyOf(hostTypes);
    this.topic = topic;
    this.settings = settings;
    this.cluster = Cluster.get(ctx.getSystem());
    this.self = cluster.selfMember().address().toString();
    topic.tell(Topic.subscribe(ctx.messageAdapter(LiveNote.class, Note::new)));
    cluster.subscriptions().tell(org.apache.pekko.cluster.typed.Subscribe.create(
        ctx.messageAdapter(ClusterEvent.MemberEvent.class, ClusterChanged::new), ClusterEvent.MemberEvent.class));
    cluster.subscriptions().tell(org.apache.pekko.cluster.typed.Subscribe.create(
        ctx.messageAdapter(ClusterEvent.ReachabilityEvent.class, ClusterChanged::new), ClusterEvent.ReachabilityEvent.class));
    timers.startTimerWithFixedDelay(Tick.INSTANCE, settings.tick());
    timers.startTimerWithFixedDelay(Refresh.INSTANCE, Duration.ZERO, settings.refresh());
    timers.startTimerWithFixedDelay(Hello.INSTANCE, Duration.ZERO, Duration.ofSeconds(5));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Subscribe.class, this::onSubscribe)
        .onMessage(Unsubscribe.class, c -> {
          subscribers.remove(c.id());
          return this;
        })
        .onMessage(Note.class, this::onNote)
        .onMessage(GetHistory.class, c -> {
          c.replyTo().tell(history());
          return this;
        })
        .onMessage(ViewGot.class, this::onView)
        .onMessage(ClusterChanged.class, c -> {
          nodesDirty = true;
          return this;
        })
        .onMessageEquals(Tick.INSTANCE, this::onTick)
        .onMessageEquals(Refresh.INSTANCE, () -> {
          dirty.addAll(hostTypes);
          nodesDirty = true;
          return this;
        })
        .onMessageEquals(Hello.INSTANCE, () -> {
          topic.tell(Topic.publish(new LiveNote.NodeHello(self, startedAtMs, settings.version(), settings.httpUrl())));
          return this;
        })
        .build();
  }

  private Behavior<Command> onSubscribe(Subscribe c) {
    if (offer(c.queue(), snapshot())) {
      subscribers.put(c.id(), c.queue());
    }
    return this;
  }

  private Behavior<Command> onNote(Note n) {
    if (n.note() instanceof LiveNote.PoolChanged p) {
      dirty.add(p.hostType());
    } else if (n.note() instanceof LiveNote.BuildChanged b) {
      pendingBuilds.put(b.buildId(), b);
    } else if (n.note() instanceof LiveNote.NodeHello h && !h.equals(hellos.put(h.address(), h))) {
      nodesDirty = true;
    }
    return this;
  }

  private Behavior<Command> onTick() {
    for (String hostType : List.copyOf(dirty)) {
      if (reading.add(hostType)) {
        dirty.remove(hostType);
        getContext().ask(HostPool.PoolView.class, sharding.entityRefFor(HostPool.ENTITY_KEY, hostType), settings.askTimeout(),
            HostPool.GetView::new, (v, t) -> new ViewGot(hostType, v, t));
      }
    }
    if (nodesDirty) {
      nodesDirty = false;
      diffNodes();
    }
    flush();
    return this;
  }

  private Behavior<Command> onView(ViewGot g) {
    reading.remove(g.hostType());
    if (g.failure() != null) {
      dirty.add(g.hostType()); // read again at the next tick: the pool may be moving or recovering
      return this;
    }
    diffPool(g.view(), System.currentTimeMillis());
    if (reading.isEmpty()) {
      flush(); // every read of this tick is in: no need to wait for the next
    }
    return this;
  }

  private void diffPool(HostPool.PoolView v, long now) {
    String hostType = v.hostType();
    sample(v, now);
    String p = LiveJson.pool(v, now).toString();
    if (!p.equals(poolJson.put(hostType, p))) {
      pendingPools.add(p);
    }
    String q = LiveJson.queue(v, now).toString();
    if (!q.equals(queueJson.put(hostType, q))) {
      pendingQueues.add(q);
    }
    Map<String, String> old = machineJson.computeIfAbsent(hostType, k -> new HashMap<>());
    Set<String> seen = new HashSet<>();
    for (HostPool.Machine m : v.machines()) {
      String id = m.info().agentId();
      seen.add(id);
      String j = LiveJson.machine(v, m).toString();
      if (!j.equals(old.put(id, j))) {
        pendingUpserts.add(j);
      }
    }
    for (String id : List.copyOf(old.keySet())) {
      if (!seen.contains(id)) {
        old.remove(id);
        pendingRemoves.add(id);
      }
    }
  }

  private void sample(HostPool.PoolView v, long now) {
    java.util.ArrayDeque<long[]> d = samples.computeIfAbsent(v.hostType(), k -> new java.util.ArrayDeque<>());
    if (!d.isEmpty() && now - d.peekLast()[0] < SAMPLE_EVERY.toMillis()) {
      return;
    }
    long busy = v.machines().stream().filter(m -> m.leasedTo() != null).count();
    d.addLast(new long[] {now, v.waiters().size(), busy, v.machines().size()});
    while (now - d.peekFirst()[0] > HISTORY.toMillis()) {
      d.removeFirst();
    }
  }

  private String history() {
    ObjectNode o = ApiErrors.JSON.createObjectNode();
    for (String hostType : hostTypes) {
      ArrayNode a = o.putArray(hostType);
      for (long[] x : samples.getOrDefault(hostType, new java.util.ArrayDeque<>())) {
        ObjectNode n = a.addObject();
        n.put("atMs", x[0]);
        n.put("waiting", x[1]);
        n.put("busy", x[2]);
        n.put("connected", x[3]);
      }
    }
    return o.toString();
  }

  private void diffNodes() {
    Map<String, String> now = new LinkedHashMap<>();
    var state = cluster.state();
    Set<String> unreachable = new HashSet<>();
    for (Member m : state.getUnreachable()) {
      unreachable.add(m.address().toString());
    }
    for (Member m : state.getMembers()) {
      String address = m.address().toString();
      ObjectNode n = ApiErrors.JSON.createObjectNode();
      n.put("address", address);
      n.put("status", unreachable.contains(address) ? "unreachable" : m.status().toString().toLowerCase(java.util.Locale.ROOT));
      n.put("self", address.equals(self));
      LiveNote.NodeHello h = hellos.get(address);
      if (h != null) {
        n.put("startedAtMs", h.startedAtMs());
        n.put("version", h.version());
        n.put("url", h.httpUrl());
      } else {
        n.putNull("startedAtMs");
        n.put("version", "");
        n.put("url", "");
      }
      now.put(address, n.toString());
    }
    for (var e : now.entrySet()) {
      if (!e.getValue().equals(nodeJson.get(e.getKey()))) {
        pendingNodes.add(e.getValue());
      }
    }
    for (String address : List.copyOf(nodeJson.keySet())) {
      if (!now.containsKey(address)) {
        pendingNodesGone.add(address);
        hellos.remove(address);
      }
    }
    nodeJson.clear();
    nodeJson.putAll(now);
  }

  private void flush() {
    if (pendingPools.isEmpty() && pendingQueues.isEmpty() && pendingUpserts.isEmpty() && pendingRemoves.isEmpty()
        && pendingNodes.isEmpty() && pendingNodesGone.isEmpty() && pendingBuilds.isEmpty()) {
      return;
    }
    seq++;
    StringBuilder b = new StringBuilder(256).append("{\"type\":\"patch\",\"seq\":").append(seq)
        .append(",\"atMs\":").append(System.currentTimeMillis());
    array(b, "pools", pendingPools);
    array(b, "queues", pendingQueues);
    array(b, "machines", pendingUpserts);
    strings(b, "machinesGone", pendingRemoves);
    array(b, "nodes", pendingNodes);
    strings(b, "nodesGone", pendingNodesGone);
    if (!pendingBuilds.isEmpty()) {
      ArrayNode builds = ApiErrors.JSON.createArrayNode();
      for (LiveNote.BuildChanged c : pendingBuilds.values()) {
        ObjectNode o = builds.addObject();
        o.put("id", c.buildId());
        o.put("state", c.state());
        o.put("builder", c.builder());
        o.put("repo", c.repo());
        o.put("rev", c.rev());
      }
      b.append(",\"builds\":").append(builds);
    }
    String patch = b.append('}').toString();
    pendingPools.clear();
    pendingQueues.clear();
    pendingUpserts.clear();
    pendingRemoves.clear();
    pendingNodes.clear();
    pendingNodesGone.clear();
    pendingBuilds.clear();
    subscribers.entrySet().removeIf(e -> !offer(e.getValue(), patch));
  }

  /** Everything a new browser needs, at the current sequence number. */
  private String snapshot() {
    StringBuilder b = new StringBuilder(1024).append("{\"type\":\"snapshot\",\"seq\":").append(seq)
        .append(",\"atMs\":").append(System.currentTimeMillis())
        .append(",\"self\":").append(ApiErrors.JSON.getNodeFactory().textNode(self));
    array(b, "pools", poolJson.values());
    array(b, "queues", queueJson.values());
    List<String> machines = new ArrayList<>();
    machineJson.values().forEach(m -> machines.addAll(m.values()));
    array(b, "machines", machines);
    array(b, "nodes", nodeJson.values());
    return b.append('}').toString();
  }

  private static void array(StringBuilder b, String name, java.util.Collection<String> jsons) {
    b.append(",\"").append(name).append("\":[");
    boolean first = true;
    for (String j : jsons) {
      if (!first) {
        b.append(',');
      }
      b.append(j);
      first = false;
    }
    b.append(']');
  }

  private static void strings(StringBuilder b, String name, List<String> values) {
    if (values.isEmpty()) {
      return;
    }
    ArrayNode a = ApiErrors.JSON.createArrayNode();
    values.forEach(a::add);
    b.append(",\"").append(name).append("\":").append(a);
  }

  /** False when the browser's buffer is full or its socket gone: its stream is failed, and it reconnects for a snapshot. */
  private boolean offer(BoundedSourceQueue<String> q, String message) {
    QueueOfferResult r = q.offer(message);
    if (r == QueueOfferResult.enqueued()) {
      return true;
    }
    if (r == QueueOfferResult.dropped()) {
      q.fail(new IllegalStateException("the browser did not keep up with the live updates"));
    }
    return false;
  }
}
