package dev.grange.node.pool;

import dev.grange.node.ChildSession;
import dev.grange.node.Peers;
import dev.grange.node.schedule.HostPool;
import dev.grange.protocol.model.HostTypeSpec;
import dev.grange.protocol.model.PoolKind;
import dev.grange.protocol.wire.Handshake;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * The agents this node runs itself, for host types whose pool is {@code local}: real agent
 * processes on this machine, each with its own instance name and key (PROTOCOL.md section 1),
 * workdir and log under {@code var/agents/<instance>/}. One per node, not persistent: its
 * processes are its state. They run in a session of their own, so an agent outlives a killed node
 * and reconnects to the next of its node URLs ({@code grange.node.agent-urls}); a node that stops
 * cleanly stops the agents it started.
 *
 * <p>The {@link HostPool} of a host type decides, not every node: a host pool sends {@link Demand}
 * only to the local pool of the node it runs on. That pool then asks the host pool for its
 * machines ({@link HostPool.GetView}) and starts what {@link LocalPoolPlan} says: up to {@code
 * min}, more while builds wait, never more than {@code max} counting every connected machine of
 * the host type (on any node, started by any node) and its own agents still starting. Its first
 * decision for a host type waits {@code settle}: a host pool that just moved here from a dead
 * node knows no machines until their buildlets announce themselves again. At start it wakes the
 * host pools of its host types, so that one of the nodes starts their min. Stops everything it
 * started when the node stops.
 */
public final class LocalPool extends AbstractBehavior<LocalPool.Command> {

  public sealed interface Command {}

  /** From a host pool, to the local pool of its node: builds waiting, machines connected, machines idle. */
  public record Demand(String hostType, int waiting, int connected, int idle) implements Command, dev.grange.protocol.CborSerializable {}

  private record Exited(String instance, int code) implements Command {}

  /** Count the host pool's machines now and start what is missing ({@code decide}), or only wake it. */
  private record Check(String hostType, boolean decide) implements Command {}

  private record Observed(String hostType, boolean decide, HostPool.PoolView view, Throwable failure) implements Command {}

  /** How to start agents: {@code nodeUrls} in the order the agents try them. */
  public record Settings(String java, String classpath, List<String> nodeUrls, byte[] masterKey, Path agentsDir, Duration settle) {
    public Settings {
      nodeUrls = List.copyOf(nodeUrls);
      if (nodeUrls.isEmpty()) {
        throw new IllegalArgumentException("a local pool needs at least one node URL for its agents");
      }
    }
  }

  /** How long a host pool has to answer {@link HostPool.GetView}. */
  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(10);

  public static Behavior<Command> create(Settings settings, Map<String, HostTypeSpec> hosts, Peers peers) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(t -> new LocalPool(ctx, t, settings, hosts, peers)));
  }

  private final TimerScheduler<Command> timers;
  private final Settings settings;
  private final Peers peers;
  private final Map<String, HostTypeSpec> local = new LinkedHashMap<>();
  private final Map<String, Map<String, Process>> running = new HashMap<>();
  private final Map<String, Integer> crashes = new HashMap<>();
  /** Host types whose host pool has sent this pool a demand: it runs on this node (or did). */
  private final Set<String> inCharge = new HashSet<>();
  private final SecureRandom random = new SecureRandom();
  private final org.apache.pekko.actor.typed.ActorRef<Command> self;

  private LocalPool(ActorContext<Command> ctx, TimerScheduler<Command> timers, Settings settings, Map<String, HostTypeSpec> hosts,
      Peers peers) {
    super(ctx);
    // A system actor logs as ActorCell by default, which the node's logback config filters out.
    ctx.setLoggerName(LocalPool.class);
    this.timers = timers;
    this.settings = settings;
    this.peers = peers;
    this.self = ctx.getSelf();
    hosts.forEach((name, spec) -> {
      if (spec.pool() == PoolKind.LOCAL) {
        local.put(name, spec);
        running.put(name, new LinkedHashMap<>());
        // Starts the host pool wherever sharding puts it; its recovery sends its node's pool a demand.
        self.tell(new Check(name, false));
      }
    });
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Demand.class, this::onDemand)
        .onMessage(Check.class, this::onCheck)
        .onMessage(Observed.class, this::onObserved)
        .onMessage(Exited.class, this::onExited)
        .onSignal(PostStop.class, s -> { stopAll(); return this; })
        .build();
  }

  private Behavior<Command> onDemand(Demand d) {
    if (!local.containsKey(d.hostType())) {
      return this;
    }
    String key = "check-" + d.hostType();
    if (!timers.isTimerActive(key)) {
      Duration delay = inCharge.add(d.hostType()) ? settings.settle() : Duration.ZERO;
      timers.startSingleTimer(key, new Check(d.hostType(), true), delay);
    }
    return this;
  }

  private static String timerKey(String hostType, boolean decide) {
    return (decide ? "check-" : "wake-") + hostType;
  }

  private Behavior<Command> onCheck(Check c) {
    org.apache.pekko.actor.typed.RecipientRef<HostPool.Command> pool;
    try {
      pool = peers.hostPool(c.hostType());
    } catch (IllegalStateException notYet) {
      // The node creates this pool before it starts the HostPool shard region.
      timers.startSingleTimer(timerKey(c.hostType(), c.decide()), c, Duration.ofMillis(200));
      return this;
    }
    getContext().ask(HostPool.PoolView.class, pool, ASK_TIMEOUT, HostPool.GetView::new,
        (view, failure) -> new Observed(c.hostType(), c.decide(), view, failure));
    return this;
  }

  private Behavior<Command> onObserved(Observed o) {
    if (o.failure() != null) {
      // Sharding may not be ready yet at start, or the pool is moving: ask again.
      getContext().getLog().info("Host pool [{}] did not answer yet ({}); asking again", o.hostType(), o.failure().toString());
      // A wake-up retries under its own key: it must never replace a pending decision (the host
      // pool's first demand may have come meanwhile, and it sends no other by itself).
      timers.startSingleTimer(timerKey(o.hostType(), o.decide()), new Check(o.hostType(), o.decide()), settings.settle());
      return this;
    }
    if (!o.decide()) {
      return this;
    }
    HostTypeSpec spec = local.get(o.hostType());
    Map<String, Process> procs = running.get(o.hostType());
    int mineConnected = 0;
    int idle = 0;
    for (HostPool.Machine m : o.view().machines()) {
      if (procs.containsKey(m.info().instance())) {
        mineConnected++;
      }
      if (m.idle()) {
        idle++;
      }
    }
    int connected = o.view().machines().size();
    int starting = procs.size() - mineConnected;
    int n = LocalPoolPlan.toStart(spec.local().min(), spec.local().max(), connected, starting, o.view().waiters().size(), idle);
    if (n > 0) {
      getContext().getLog().info("Pool [{}]: {} connected, {} starting, {} waiting: starting {} local agent(s)",
          o.hostType(), connected, starting, o.view().waiters().size(), n);
    }
    List<String> started = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String instance = start(o.hostType());
      if (instance == null) {
        break;
      }
      started.add(instance);
    }
    if (!started.isEmpty()) {
      tellPool(o.hostType(), new HostPool.InstancesCreating(started));
    }
    return this;
  }

  private Behavior<Command> onExited(Exited m) {
    for (Map.Entry<String, Map<String, Process>> e : running.entrySet()) {
      if (e.getValue().remove(m.instance()) != null) {
        getContext().getLog().info("Local agent [{}] of [{}] exited with code {}", m.instance(), e.getKey(), m.code());
        tellPool(e.getKey(), new HostPool.InstanceEnded(m.instance()));
        if (!inCharge.contains(e.getKey())) {
          // Its host pool runs on another node, whose local pool replaces it.
          continue;
        }
        int n = crashes.merge(e.getKey(), 1, Integer::sum);
        // Back off on a crash loop: 0.5 s doubling to 30 s.
        long delay = Math.min(30_000, 500L << Math.min(6, n - 1));
        timers.startSingleTimer("check-" + e.getKey(), new Check(e.getKey(), true), Duration.ofMillis(delay));
      }
    }
    return this;
  }

  /** Tells the host type's pool, when it can be reached (it says what is being created, not the builds). */
  private void tellPool(String hostType, HostPool.Command c) {
    try {
      peers.hostPool(hostType).tell(c);
    } catch (IllegalStateException notYet) {
      // The shard region is not started yet: the agent's own announce will tell the pool.
    }
  }

  /** Starts an agent process; its instance name, or null when it could not be started. */
  private String start(String hostType) {
    String instance = "local-" + hostType + "-" + HexFormat.of().formatHex(bytes(4));
    Path dir = settings.agentsDir().resolve(instance).toAbsolutePath();
    try {
      Files.createDirectories(dir);
      Path keyFile = dir.resolve("key");
      Files.writeString(keyFile, Handshake.instanceKey(settings.masterKey(), instance), StandardCharsets.US_ASCII);
      try {
        Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-------"));
      } catch (UnsupportedOperationException ignored) {
        // Not POSIX: the directory's own permissions protect it.
      }
      List<String> cmd = new ArrayList<>(List.of(
          settings.java(), "-Xms16m", "-Xmx256m", "-XX:+UseSerialGC", "-Xss512k",
          "-cp", settings.classpath(), "dev.grange.agent.Main",
          "--host-type", hostType,
          "--key-file", keyFile.toString(),
          "--instance", instance,
          "--hostname", instance,
          "--workdir", dir.resolve("work").toString(),
          "--spool-dir", dir.resolve("spool").toString()));
      for (String url : settings.nodeUrls()) {
        cmd.add("--node");
        cmd.add(url);
      }
      ProcessBuilder pb = new ProcessBuilder(ChildSession.detached(cmd)).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("agent.log").toFile()));
      Process p = pb.start();
      running.get(hostType).put(instance, p);
      getContext().getLog().info("Started local agent [{}] of [{}], pid {}", instance, hostType, p.pid());
      p.onExit().thenAccept(done -> {
        // A clean exit (0, or 143 after a SIGTERM) leaves nothing worth keeping; a crashed
        // agent's dir (its agent.log) stays for the operator.
        if (done.exitValue() == 0 || done.exitValue() == 143) {
          deleteTree(dir);
        }
        self.tell(new Exited(instance, done.exitValue()));
      });
      return instance;
    } catch (IOException e) {
      getContext().getLog().error("Cannot start a local agent of [{}]: {}", hostType, e.toString());
      return null;
    }
  }

  private byte[] bytes(int n) {
    byte[] b = new byte[n];
    random.nextBytes(b);
    return b;
  }

  /** Runs off the actor (in a process-exit callback): touches no actor state. */
  private static void deleteTree(Path dir) {
    try (var walk = Files.walk(dir)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException | UncheckedIOException e) {
      // Left for the operator; the next agent gets a new instance name and dir.
    }
  }

  private void stopAll() {
    List<Process> all = new ArrayList<>();
    running.values().forEach(m -> all.addAll(m.values()));
    for (Process p : all) {
      p.destroy();
    }
    for (Process p : all) {
      try {
        if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
          p.descendants().forEach(ProcessHandle::destroyForcibly);
          p.destroyForcibly();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        p.destroyForcibly();
      }
    }
  }
}
