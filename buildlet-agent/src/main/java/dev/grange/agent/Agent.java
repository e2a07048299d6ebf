package dev.grange.agent;

import dev.grange.agent.channel.Backoff;
import dev.grange.agent.channel.Connector;
import dev.grange.agent.channel.Session;
import dev.grange.agent.exec.ExecRunner;
import dev.grange.agent.exec.Execution;
import dev.grange.agent.exec.Executions;
import dev.grange.agent.files.FileOps;
import dev.grange.agent.files.TarExtractor;
import dev.grange.agent.files.WorkDir;
import dev.grange.protocol.wire.AgentFrame;
import dev.grange.protocol.wire.Handshake;
import dev.grange.protocol.wire.Limits;
import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One buildlet agent: its identity, its directories, its executions and its connection to the
 * cluster. Built and started by {@link Main}; lives until {@link #halt()} (the node asked),
 * {@link #drain(long)} (SIGTERM) or {@link #stop()}, then calls its exit action once.
 *
 * <p>Directories: the workdir, where builds run; a staging area next to it (same filesystem,
 * never inside it) where archives are assembled; a spool dir, also outside the workdir, where
 * command output waits for the node. Staging and spool leftovers of an earlier run are removed
 * at start: their executions died with that process.
 */
public final class Agent {
  private static final Logger log = LoggerFactory.getLogger(Agent.class);
  /** How long stopping waits for the socket's close handshake (the session gives up after 5 s). */
  private static final long CLOSE_WAIT_MS = 10_000;

  private final String agentId = newAgentId();
  private final AgentOptions options;
  private final WorkDir workDir;
  private final Path spoolDir;
  private final ScheduledExecutorService timers;
  private final ExecutorService workers;
  private final HttpClient http;
  private final Executions executions;
  private final Connector connector;
  private final IntConsumer exit;
  private final AtomicBoolean stopping = new AtomicBoolean();
  private final CompletableFuture<Integer> stopped = new CompletableFuture<>();
  private volatile String drainReason;

  /**
   * @param dirs the workdir, staging area and spool dir, already checked by {@link Main}
   * @param exit what to do at the end, with the exit status (Main: {@code System::exit})
   */
  public Agent(AgentOptions options, String key, Dirs dirs, IntConsumer exit) throws IOException {
    this.options = options;
    this.exit = exit;
    this.workDir = new WorkDir(dirs.workdir(), dirs.staging());
    this.spoolDir = Files.createDirectories(dirs.spool());
    clean(workDir.staging(), "");
    clean(spoolDir, "exec-");
    this.timers = Executors.newScheduledThreadPool(2, daemon("grange-timer"));
    this.workers = Executors.newCachedThreadPool(daemon("grange-worker"));
    this.http = HttpClient.newBuilder()
        .connectTimeout(Duration.ofSeconds(10))
        .followRedirects(HttpClient.Redirect.NORMAL)
        .executor(workers)
        .build();
    ExecRunner runner = new ExecRunner(workDir, spoolDir, ExecRunner.defaultBaseEnv(workDir.root()), timers);
    this.executions = new Executions(runner, timers, options.keepExitMs());
    TarExtractor extractor = new TarExtractor(workDir, options.maxArchiveBytes(), options.maxArchiveEntries());
    FileOps files = new FileOps(workDir, extractor, http, key, workers, options.maxArchiveBytes());
    Operations ops = new Operations(this, workDir, executions, files, workers);
    this.connector = new Connector(options.nodes(), headers(options, key), ops, http, timers, Backoff.standard());
  }

  /** The directories an agent works in. */
  public record Dirs(Path workdir, Path staging, Path spool) {}

  /** Starts dialling the nodes. */
  public void start() {
    log.info("Agent [{}] starting: host type [{}], workdir [{}], spool [{}], nodes {}",
        agentId, options.hostType(), workDir.root(), spoolDir, options.nodes());
    connector.start();
  }

  /** The random id of this agent process, the same on every reconnect. */
  public String agentId() {
    return agentId;
  }

  public Path workdir() {
    return workDir.root();
  }

  /** Completes with the exit status once the agent has stopped. */
  public CompletableFuture<Integer> stopped() {
    return stopped;
  }

  boolean isDraining() {
    return drainReason != null;
  }

  String drainReason() {
    return drainReason;
  }

  /**
   * SIGTERM: tells the node ({@code draining}), refuses new execs, lets the running ones
   * finish and report for up to {@code boundMs}, kills what is left, then stops.
   */
  public void drain(long boundMs) {
    if (stopping.get() || drainReason != null) {
      return;
    }
    drainReason = "agent received SIGTERM";
    Session s = connector.current();
    if (s != null && s.greeted()) {
      s.send(new AgentFrame.Draining(drainReason));
    }
    log.info("Draining: {} executions may run for up to {} ms", executions.alive(), boundMs);
    try {
      if (!executions.awaitIdle(boundMs)) {
        log.warn("Draining: killing {} executions still running after {} ms", executions.alive(), boundMs);
        executions.killAll(Execution.KillReason.HALT);
        executions.awaitIdle(5_000);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    shutdown(1001, "agent stopping", 0);
  }

  /** The node sent halt: stop executions, stop, and power off when so configured. */
  void halt() {
    executions.killAll(Execution.KillReason.HALT);
    try {
      executions.awaitIdle(2_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (options.haltMachine()) {
      powerOff();
    }
    shutdown(1000, "halted", 0);
  }

  /** Stops at once: kills executions, closes the socket (tests, and a second SIGTERM). */
  public void stop() {
    executions.dropAll(Execution.KillReason.HALT);
    shutdown(1001, "agent stopping", 0);
  }

  private void shutdown(int code, String reason, int status) {
    if (!stopping.compareAndSet(false, true)) {
      return;
    }
    connector.stop(code, reason);
    // The close handshake runs on the workers (the socket's executor) and the timers: they stay
    // up until it is done, or the node would see the socket drop instead of this close code.
    try {
      if (!connector.awaitStopped(CLOSE_WAIT_MS)) {
        log.warn("The socket did not close within {} ms; stopping anyway", CLOSE_WAIT_MS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    executions.dropAll(Execution.KillReason.HALT);
    log.info("Agent [{}] stopped: {}", agentId, reason);
    timers.shutdown();
    workers.shutdown();
    stopped.complete(status);
    exit.accept(status);
  }

  private void powerOff() {
    boolean windows = Platform.os().equals("windows");
    String[] cmd = windows ? new String[] {"shutdown", "/s", "/t", "0", "/f"} : new String[] {"shutdown", "-h", "now"};
    log.warn("Halting the machine: {}", String.join(" ", cmd));
    try {
      new ProcessBuilder(cmd).inheritIO().start().waitFor();
    } catch (IOException e) {
      log.error("Cannot halt the machine: {}", e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private Map<String, String> headers(AgentOptions o, String key) {
    Map<String, String> h = new LinkedHashMap<>();
    h.put(Handshake.HOST_TYPE, o.hostType());
    h.put(Handshake.HOSTNAME, o.hostname() != null ? o.hostname() : Platform.hostname());
    h.put(Handshake.AGENT_ID, agentId);
    h.put(Handshake.AGENT_VERSION, Integer.toString(Limits.VERSION));
    if (o.instance() != null) {
      h.put(Handshake.INSTANCE, o.instance());
    }
    h.put(Handshake.AUTHORIZATION, "Bearer " + key);
    return h;
  }

  private static String newAgentId() {
    byte[] b = new byte[16];
    new SecureRandom().nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  private static void clean(Path dir, String prefix) throws IOException {
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, prefix + "*")) {
      for (Path p : ds) {
        try (var walk = Files.walk(p)) {
          walk.sorted(java.util.Comparator.reverseOrder()).forEach(q -> q.toFile().delete());
        }
      }
    }
  }

  private static ThreadFactory daemon(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
