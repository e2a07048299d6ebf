package dev.grange.agent.exec;

import dev.grange.agent.channel.OpException;
import dev.grange.agent.files.WorkDir;
import dev.grange.protocol.wire.ErrorCode;
import dev.grange.protocol.wire.NodeFrame;
import dev.grange.protocol.wire.StreamKind;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the process of an {@code exec} (PROTOCOL.md section 3) and watches it to its end.
 *
 * <ul>
 *   <li>Not {@code sys}: {@code cmd} is a file in the workdir (checked like every path). {@code
 *       sys}: {@code cmd} is a system command, looked up in the PATH the child will have.
 *   <li>{@code dir} is relative to the workdir; "." (or absent) is the workdir itself.
 *   <li>{@code env} is appended to the agent's base environment (a later entry wins), then
 *       {@code path} is applied ({@link PathEnv}).
 *   <li>A process that cannot be started is refused with {@code error} ({@code not_found} for a
 *       missing command or dir, {@code io_error} otherwise), never reported as an {@code exit}:
 *       nothing ran, so there is no remote result to report.
 *   <li>stdin is empty; stdout and stderr go to the execution's {@link OutputSpool}.
 *   <li>{@code timeoutMs} kills the process tree and the exit says "timeout".
 * </ul>
 */
public final class ExecRunner {
  private static final Logger log = LoggerFactory.getLogger(ExecRunner.class);
  static final long SEGMENT_BYTES = 8L << 20;
  /** After a kill, how long to wait for the pipes to close (an orphan may hold them open). */
  private static final long KILLED_PIPE_WAIT_MS = 2_000;

  private final WorkDir workDir;
  private final Path spoolRoot;
  private final Map<String, String> baseEnv;
  private final ScheduledExecutorService timers;

  /**
   * @param baseEnv the environment every command starts from
   */
  public ExecRunner(WorkDir workDir, Path spoolRoot, Map<String, String> baseEnv, ScheduledExecutorService timers) {
    this.workDir = workDir;
    this.spoolRoot = spoolRoot;
    this.baseEnv = Map.copyOf(baseEnv);
    this.timers = timers;
  }

  /** The agent's environment plus WORKDIR, as the Go buildlet set it. */
  public static Map<String, String> defaultBaseEnv(Path workdir) {
    Map<String, String> env = new LinkedHashMap<>(System.getenv());
    env.put("WORKDIR", workdir.toString());
    return env;
  }

  /** Starts the command; the returned execution runs on its own threads. */
  public Execution start(NodeFrame.Exec req) throws OpException {
    Path dir = workDir.resolve(req.dir());
    if (!Files.isDirectory(dir)) {
      throw OpException.notFound("directory \"" + req.dir() + "\" does not exist");
    }
    Map<String, String> env = new LinkedHashMap<>(baseEnv);
    for (String kv : req.env()) {
      int eq = kv.indexOf('=');
      env.put(kv.substring(0, eq), kv.substring(eq + 1));
    }
    PathEnv.apply(env, req.path(), workDir.root());
    List<String> argv = new ArrayList<>();
    argv.add(command(req, dir, env));
    argv.addAll(req.args());

    OutputSpool spool;
    try {
      spool = new OutputSpool(spoolRoot.resolve("exec-" + UUID.randomUUID()), SEGMENT_BYTES);
    } catch (IOException e) {
      throw OpException.io("cannot create the output spool: " + e.getMessage(), e);
    }
    ProcessBuilder pb = new ProcessBuilder(argv).directory(dir.toFile());
    pb.environment().clear();
    pb.environment().putAll(env);
    long start = System.nanoTime();
    Process process;
    try {
      process = pb.start();
    } catch (IOException e) {
      spool.close();
      String msg = e.getMessage() == null ? e.toString() : e.getMessage();
      // The JDK's message carries errno: 2 is ENOENT.
      ErrorCode code = msg.contains("error=2,") ? ErrorCode.NOT_FOUND : ErrorCode.IO_ERROR;
      throw new OpException(code, "start failed: " + msg, e);
    }
    try {
      process.getOutputStream().close();
    } catch (IOException ignored) {
      // stdin is only closed so the command sees EOF; nothing to do if it is gone already.
    }
    Execution exec = new Execution(req.execId(), process, spool, start);
    Thread out = reader(exec, process.getInputStream(), StreamKind.STDOUT);
    Thread err = reader(exec, process.getErrorStream(), StreamKind.STDERR);
    Thread waiter = new Thread(() -> await(exec, process, out, err), "exec-wait-" + req.execId());
    waiter.setDaemon(true);
    waiter.start();
    if (req.timeoutMs() > 0) {
      var timeout = timers.schedule(() -> exec.kill(Execution.KillReason.TIMEOUT), req.timeoutMs(), TimeUnit.MILLISECONDS);
      exec.exited().whenComplete((x, e) -> timeout.cancel(false));
    }
    log.info("Exec [{}] started: pid {}, {} in [{}]", req.execId(), process.pid(), argv.get(0), workDir.relative(dir));
    return exec;
  }

  private String command(NodeFrame.Exec req, Path dir, Map<String, String> env) throws OpException {
    String cmd = req.cmd();
    if (!req.sys()) {
      Path file = workDir.resolve(cmd);
      if (!Files.isRegularFile(file)) {
        throw OpException.notFound("command \"" + cmd + "\" not found in the workdir");
      }
      return file.toString();
    }
    if (cmd.indexOf('/') >= 0 || cmd.indexOf(File.separatorChar) >= 0) {
      // A relative system path is relative to the command's dir, as in Go's os/exec.
      return dir.resolve(cmd).toString();
    }
    Path found = PathEnv.lookup(cmd, env, dir);
    if (found != null) {
      return found.toString();
    }
    if (File.separatorChar == '\\') {
      return cmd; // Windows: let CreateProcess apply PATHEXT
    }
    throw OpException.notFound("command \"" + cmd + "\" not found in PATH");
  }

  private static Thread reader(Execution exec, InputStream in, StreamKind kind) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[32 << 10];
      boolean spooling = true;
      try (in) {
        int n;
        while ((n = in.read(buf)) >= 0) {
          if (spooling && n > 0) {
            try {
              exec.spool().append(kind, buf, 0, n);
            } catch (IOException e) {
              // Output that cannot be kept cannot be delivered: stop the command rather than
              // report a result whose log has a hole.
              log.error("Exec [{}]: cannot spool output, killing it: {}", exec.execId(), e.toString());
              spooling = false;
              exec.kill(Execution.KillReason.SPOOL_FAILED);
            }
          }
        }
      } catch (IOException e) {
        log.debug("Exec [{}]: {} pipe closed: {}", exec.execId(), kind, e.toString());
      }
    }, "exec-" + kind.name().toLowerCase() + "-" + exec.execId());
    t.setDaemon(true);
    t.start();
    return t;
  }

  private static void await(Execution exec, Process process, Thread out, Thread err) {
    try {
      int code = process.waitFor();
      // The output is complete when both pipes are closed. A background child may hold them
      // open past the process's own end, as with the Go buildlet; after a kill, wait only a
      // bounded time for them (the orphan's later output is not the command's).
      long killedAt = -1;
      while (out.isAlive() || err.isAlive()) {
        out.join(100);
        err.join(100);
        if (exec.killReason() != null) {
          long now = System.nanoTime();
          if (killedAt < 0) {
            killedAt = now;
          } else if (now - killedAt > TimeUnit.MILLISECONDS.toNanos(KILLED_PIPE_WAIT_MS)) {
            break;
          }
        }
      }
      exec.finish(code);
      log.info("Exec [{}] ended: {}", exec.execId(), exec.exit().state());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
