package dev.grange.node.pool;

import dev.grange.node.ChildSession;
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
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
 * processes are its state, and they die with it (an agent outlives a crashed node only until
 * its grace period ends).
 *
 * <p>Keeps {@code min} agents per host type running (restarting one that exits, with backoff),
 * and starts more, up to {@code max}, when its {@link dev.grange.node.schedule.HostPool} reports
 * builds waiting with no idle machine. Stops everything it started when the node stops.
 */
public final class LocalPool extends AbstractBehavior<LocalPool.Command> {

  public sealed interface Command {}

  /** From a host pool: builds waiting, machines connected, machines idle. */
  public record Demand(String hostType, int waiting, int connected, int idle) implements Command, dev.grange.protocol.CborSerializable {}

  private record Exited(String instance, int code) implements Command {}

  private record Restart(String hostType) implements Command {}

  /** How to start agents. */
  public record Settings(String java, String classpath, String nodeUrl, byte[] masterKey, Path agentsDir) {}

  public static Behavior<Command> create(Settings settings, Map<String, HostTypeSpec> hosts) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(t -> new LocalPool(ctx, t, settings, hosts)));
  }

  private final TimerScheduler<Command> timers;
  private final Settings settings;
  private final Map<String, HostTypeSpec> local = new LinkedHashMap<>();
  private final Map<String, Map<String, Process>> running = new HashMap<>();
  private final Map<String, Integer> crashes = new HashMap<>();
  private final SecureRandom random = new SecureRandom();
  private final org.apache.pekko.actor.typed.ActorRef<Command> self;

  private LocalPool(ActorContext<Command> ctx, TimerScheduler<Command> timers, Settings settings, Map<String, HostTypeSpec> hosts) {
    super(ctx);
    this.timers = timers;
    this.settings = settings;
    this.self = ctx.getSelf();
    hosts.forEach((name, spec) -> {
      if (spec.pool() == PoolKind.LOCAL) {
        local.put(name, spec);
        running.put(name, new LinkedHashMap<>());
      }
    });
    local.forEach((name, spec) -> {
      for (int i = 0; i < spec.local().min(); i++) {
        start(name);
      }
    });
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Demand.class, this::onDemand)
        .onMessage(Exited.class, this::onExited)
        .onMessage(Restart.class, m -> { topUp(m.hostType()); return this; })
        .onSignal(PostStop.class, s -> { stopAll(); return this; })
        .build();
  }

  private Behavior<Command> onDemand(Demand d) {
    HostTypeSpec spec = local.get(d.hostType());
    if (spec == null) {
      return this;
    }
    Map<String, Process> procs = running.get(d.hostType());
    int starting = Math.max(0, procs.size() - d.connected());
    int need = d.waiting() - d.idle() - starting;
    int room = spec.local().max() - procs.size();
    for (int i = 0; i < Math.min(need, room); i++) {
      start(d.hostType());
    }
    return this;
  }

  private Behavior<Command> onExited(Exited m) {
    for (Map.Entry<String, Map<String, Process>> e : running.entrySet()) {
      if (e.getValue().remove(m.instance()) != null) {
        getContext().getLog().info("Local agent [{}] of [{}] exited with code {}", m.instance(), e.getKey(), m.code());
        int n = crashes.merge(e.getKey(), 1, Integer::sum);
        // Back off on a crash loop: 0.5 s doubling to 30 s.
        long delay = Math.min(30_000, 500L << Math.min(6, n - 1));
        timers.startSingleTimer("restart-" + e.getKey(), new Restart(e.getKey()), Duration.ofMillis(delay));
      }
    }
    return this;
  }

  private void topUp(String hostType) {
    HostTypeSpec spec = local.get(hostType);
    while (running.get(hostType).size() < spec.local().min()) {
      if (!start(hostType)) {
        return;
      }
    }
  }

  private boolean start(String hostType) {
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
          "--node", settings.nodeUrl(),
          "--host-type", hostType,
          "--key-file", keyFile.toString(),
          "--instance", instance,
          "--hostname", instance,
          "--workdir", dir.resolve("work").toString(),
          "--spool-dir", dir.resolve("spool").toString()));
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
      return true;
    } catch (IOException e) {
      getContext().getLog().error("Cannot start a local agent of [{}]: {}", hostType, e.toString());
      return false;
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
