package dev.grange.agent.exec;

import dev.grange.agent.channel.CreditGate;
import dev.grange.agent.channel.OpException;
import dev.grange.agent.channel.SessionLink;
import dev.grange.protocol.wire.AgentFrame;
import dev.grange.protocol.wire.ExitStates;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * One command, running or ended: its process, its spooled output and, once decided, its {@code
 * exit}. Lives from a successful {@code exec} until the node says {@code forget}, or until it
 * is dropped (grace expired, exit delivered and never forgotten, halt). Across a reconnect it
 * survives; its output is then re-attached to the new socket by {@code resume}, which sends an
 * ended execution's exit again.
 *
 * <p>{@link #lock} is the monitor its {@link OutputPump} waits on; output, credit, the exit and
 * a detach all notify it.
 */
public final class Execution {
  /** Why the agent killed a process, and the exit state that reports it. */
  public enum KillReason {
    CANCEL(ExitStates.KILLED),
    TIMEOUT(ExitStates.TIMEOUT),
    GRACE(ExitStates.KILLED),
    HALT(ExitStates.KILLED),
    SPOOL_FAILED(ExitStates.KILLED);

    final String state;

    KillReason(String state) {
      this.state = state;
    }
  }

  final Object lock = new Object();
  private final String execId;
  private final Process process;
  private final OutputSpool spool;
  private final long startNanos;
  private final CompletableFuture<AgentFrame.Exit> exited = new CompletableFuture<>();
  private KillReason killReason;
  private AgentFrame.Exit exit;
  private boolean exitDelivered;
  private OutputPump pump;

  Execution(String execId, Process process, OutputSpool spool, long startNanos) {
    this.execId = execId;
    this.process = process;
    this.spool = spool;
    this.startNanos = startNanos;
    spool.onAppend(this::signal);
  }

  public String execId() {
    return execId;
  }

  public long pid() {
    return process.pid();
  }

  public OutputSpool spool() {
    return spool;
  }

  /** True while the process runs. */
  public boolean isAlive() {
    return process.isAlive();
  }

  /** Completes with the exit once the process ended and all its output is spooled. */
  public CompletableFuture<AgentFrame.Exit> exited() {
    return exited;
  }

  /** The exit, or null while the command runs. */
  public AgentFrame.Exit exit() {
    synchronized (lock) {
      return exit;
    }
  }

  /**
   * True once its exit was written to a socket (at least once): from then on the node, not the
   * process, holds it up, so a drain does not wait for it and status does not count it.
   */
  public boolean exitDelivered() {
    synchronized (lock) {
      return exitDelivered;
    }
  }

  void markExitDelivered() {
    synchronized (lock) {
      exitDelivered = true;
    }
  }

  KillReason killReason() {
    synchronized (lock) {
      return killReason;
    }
  }

  /** Kills the process tree; the first reason given is the one the exit reports. */
  public void kill(KillReason reason) {
    synchronized (lock) {
      // Even when the process itself is gone: its pipes may still be held by an orphan, and
      // the reason lets the waiter stop waiting for them.
      if (exit != null) {
        return;
      }
      if (killReason == null) {
        killReason = reason;
      }
    }
    ProcessTree.kill(process.toHandle());
    signal();
  }

  /**
   * Sends the output from {@code from} on the stream of {@code gate} (opened on {@code link}),
   * then the exit; a previous attachment (a socket that is gone, an earlier resume) stops.
   *
   * @param onDelivered called once the exit was written to the socket
   * @throws OpException bad_request when {@code from} is beyond the output or already dropped
   */
  public void attach(SessionLink link, CreditGate gate, long from, Consumer<Execution> onDelivered) throws OpException {
    long size = spool.size();
    if (from > size) {
      throw OpException.badRequest(
          "exec " + execId + " has " + size + " bytes of output; cannot resume from " + from);
    }
    if (from < spool.firstRetained()) {
      throw OpException.badRequest(
          "exec " + execId + " output below offset " + spool.firstRetained()
              + " was dropped after the node acknowledged it; cannot resume from " + from);
    }
    gate.onChange(this::signal);
    OutputPump next = new OutputPump(this, link, gate, from, onDelivered);
    OutputPump previous;
    synchronized (lock) {
      previous = pump;
      pump = next;
    }
    if (previous != null) {
      previous.stop();
    }
    next.start();
  }

  /** Stops sending (the socket is gone); output keeps going to the spool. */
  public void detach() {
    OutputPump p;
    synchronized (lock) {
      p = pump;
      pump = null;
    }
    if (p != null) {
      p.stop();
    }
  }

  /** The process ended and its output is complete: decides the exit. */
  void finish(int exitValue) {
    long durationMs = (System.nanoTime() - startNanos) / 1_000_000;
    spool.seal();
    AgentFrame.Exit e;
    synchronized (lock) {
      String state;
      int code;
      if (killReason != null) {
        state = killReason.state;
        code = -1;
      } else if (exitValue == 0) {
        state = ExitStates.OK;
        code = 0;
      } else {
        // The JDK reports a signal death as 128+N, like a shell; it cannot tell the two apart.
        state = ExitStates.exitStatus(exitValue);
        code = exitValue;
      }
      e = new AgentFrame.Exit(execId, state, code, durationMs, spool.size());
      exit = e;
    }
    exited.complete(e);
    signal();
  }

  void signal() {
    synchronized (lock) {
      lock.notifyAll();
    }
  }
}
