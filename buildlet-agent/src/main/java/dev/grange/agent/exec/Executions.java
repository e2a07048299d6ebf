package dev.grange.agent.exec;

import dev.grange.agent.channel.CreditGate;
import dev.grange.agent.channel.OpException;
import dev.grange.agent.channel.SessionLink;
import dev.grange.protocol.wire.AgentFrame;
import dev.grange.protocol.wire.NodeFrame;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's executions by {@code execId}, and their life across sockets (PROTOCOL.md section
 * 5). An execution is here from its start until its exit was written to a socket. When the
 * socket goes, they keep running (output goes to their spools) for the {@code graceMs} of the
 * last {@code hello}; a reconnect within it lists them in {@code ready} and the node resumes
 * each; after it they are killed and dropped.
 */
public final class Executions {
  private static final Logger log = LoggerFactory.getLogger(Executions.class);

  private final ExecRunner runner;
  private final ScheduledExecutorService timers;
  private final Map<String, Execution> byId = new ConcurrentHashMap<>();
  private final Object idle = new Object();
  private ScheduledFuture<?> graceKill;
  private long graceMs;

  public Executions(ExecRunner runner, ScheduledExecutorService timers) {
    this.runner = runner;
    this.timers = timers;
  }

  /** Starts a command; its output waits in the spool until {@link #attach}. */
  public Execution start(NodeFrame.Exec req) throws OpException {
    if (byId.containsKey(req.execId())) {
      throw OpException.badRequest("execId " + req.execId() + " is already in use on this agent");
    }
    Execution exec = runner.start(req);
    byId.put(req.execId(), exec);
    return exec;
  }

  /** Sends the execution's output from {@code from} on {@code gate}'s stream, then its exit. */
  public void attach(Execution exec, SessionLink link, CreditGate gate, long from) throws OpException {
    exec.attach(link, gate, from, this::delivered);
  }

  /** The execution, or null when the agent has none by that id (unknown or already reported). */
  public Execution get(String execId) {
    return byId.get(execId);
  }

  /** What {@code ready} lists: every execution whose exit the node has not been sent. */
  public List<AgentFrame.RunningExec> running() {
    List<AgentFrame.RunningExec> list = new ArrayList<>();
    for (Execution e : byId.values()) {
      list.add(new AgentFrame.RunningExec(e.execId(), e.spool().size()));
    }
    list.sort(Comparator.comparing(AgentFrame.RunningExec::execId));
    return list;
  }

  /** Processes still running. */
  public int alive() {
    return (int) byId.values().stream().filter(Execution::isAlive).count();
  }

  /** Executions not yet reported. */
  public int size() {
    return byId.size();
  }

  /** The node persisted output below {@code offset}: the spool may drop it. */
  public void ack(String execId, long offset) {
    Execution e = byId.get(execId);
    if (e == null) {
      return;
    }
    try {
      e.spool().dropBelow(offset);
    } catch (IOException x) {
      log.warn("Exec [{}]: cannot drop acknowledged output: {}", execId, x.toString());
    }
  }

  /** A node greeted us: no kill is pending any more; this is the grace for the next loss. */
  public synchronized void onConnected(long graceMs) {
    this.graceMs = graceMs;
    if (graceKill != null) {
      graceKill.cancel(false);
      graceKill = null;
    }
  }

  /** The socket is gone: stop sending; kill everything if no node greets us within the grace. */
  public synchronized void onDisconnected() {
    byId.values().forEach(Execution::detach);
    if (byId.isEmpty() || graceKill != null) {
      return;
    }
    log.info("{} executions keep running for {} ms without a node", byId.size(), graceMs);
    graceKill = timers.schedule(() -> {
      synchronized (this) {
        graceKill = null;
      }
      log.warn("No node within {} ms: killing {} executions", graceMs, byId.size());
      dropAll(Execution.KillReason.GRACE);
    }, graceMs, TimeUnit.MILLISECONDS);
  }

  /**
   * Kills every process tree; each exit still goes to the node if a socket is attached (drain,
   * halt).
   */
  public void killAll(Execution.KillReason reason) {
    for (Execution e : List.copyOf(byId.values())) {
      e.kill(reason);
    }
  }

  /** Kills every process tree and forgets the executions once they ended (no node to tell). */
  public void dropAll(Execution.KillReason reason) {
    for (Execution e : List.copyOf(byId.values())) {
      e.kill(reason);
      e.detach();
      e.exited().whenComplete((x, t) -> drop(e));
    }
  }

  /** Waits until every execution was reported (or dropped); false on timeout. */
  public boolean awaitIdle(long timeoutMs) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    synchronized (idle) {
      while (!byId.isEmpty()) {
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0) {
          return false;
        }
        idle.wait(left);
      }
    }
    return true;
  }

  private void delivered(Execution e) {
    log.debug("Exec [{}]: exit delivered", e.execId());
    drop(e);
  }

  private void drop(Execution e) {
    if (byId.remove(e.execId(), e)) {
      e.spool().close();
    }
    synchronized (idle) {
      idle.notifyAll();
    }
  }
}
