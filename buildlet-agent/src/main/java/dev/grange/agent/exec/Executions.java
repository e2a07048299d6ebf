package dev.grange.agent.exec;

import dev.grange.agent.channel.CreditGate;
import dev.grange.agent.channel.OpException;
import dev.grange.agent.channel.SessionLink;
import dev.grange.protocol.wire.AgentFrame;
import dev.grange.protocol.wire.NodeFrame;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
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
 * 5). An execution is here from its start until the node says {@code forget}: its exit may have
 * been written to a socket that died before the node read it, or read by a node that died
 * before it persisted it, so a delivered exit is kept, listed in {@code ready} and sent again by
 * {@code resume}, until the node confirms. When the socket goes, executions keep running (output
 * goes to their spools) for the {@code graceMs} of the last {@code hello}; a reconnect within it
 * lists them in {@code ready} and the node resumes each; after it they are killed and dropped.
 * While connected, an execution whose exit was delivered and that is neither resumed nor
 * forgotten within {@code keepExitMs} (10 minutes by default: longer than a node's failover, so a
 * build recovered on another node still hears the exit) is dropped, so a node that never forgets
 * cannot fill the disk.
 */
public final class Executions {
  private static final Logger log = LoggerFactory.getLogger(Executions.class);

  private final ExecRunner runner;
  private final ScheduledExecutorService timers;
  private final Map<String, Execution> byId = new ConcurrentHashMap<>();
  /** Delivered exits waiting for a forget, while connected: execId -> the drop that bounds the wait. */
  private final Map<String, Expiry> expiries = new HashMap<>();
  private final Object idle = new Object();
  private ScheduledFuture<?> graceKill;
  private long graceMs;
  private final long keepExitMs;
  private boolean connected;
  private long expirySeq;

  public Executions(ExecRunner runner, ScheduledExecutorService timers, long keepExitMs) {
    this.runner = runner;
    this.timers = timers;
    this.keepExitMs = keepExitMs;
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

  /**
   * Sends the execution's output from {@code from} on {@code gate}'s stream, then its exit (again,
   * when it was delivered before). No expiry runs while it is attached: it restarts at the
   * delivery.
   */
  public synchronized void attach(Execution exec, SessionLink link, CreditGate gate, long from) throws OpException {
    exec.attach(link, gate, from, this::delivered);
    cancelExpiry(exec.execId());
  }

  /** The execution, or null when the agent has none by that id (unknown, forgotten or dropped). */
  public Execution get(String execId) {
    return byId.get(execId);
  }

  /** What {@code ready} lists: every execution the node has not forgotten, with its output size. */
  public List<AgentFrame.RunningExec> running() {
    List<AgentFrame.RunningExec> list = new ArrayList<>();
    for (Execution e : byId.values()) {
      list.add(new AgentFrame.RunningExec(e.execId(), e.spool().size()));
    }
    list.sort(Comparator.comparing(AgentFrame.RunningExec::execId));
    return list;
  }

  /**
   * Executions that still hold the agent: the process runs, or its exit was not yet delivered.
   * One that only waits for the node's forget is not counted ({@code status.running}, drain).
   */
  public int alive() {
    return (int) byId.values().stream().filter(e -> !e.exitDelivered()).count();
  }

  /** Executions kept, delivered or not (what {@code ready} lists). */
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

  /**
   * The node persisted the execution's exit and output: drops it and deletes its spool. An
   * unknown id is ignored (a forget may cross a drop, or repeat); so is a command still running,
   * whose exit the node cannot have.
   */
  public synchronized void forget(String execId) {
    Execution e = byId.get(execId);
    if (e == null) {
      log.debug("Forget of exec [{}], which this agent does not have: ignored", execId);
      return;
    }
    if (e.exit() == null) {
      log.warn("Node asked to forget exec [{}], which still runs: ignored (cancel it first)", execId);
      return;
    }
    log.debug("Exec [{}] forgotten", execId);
    drop(e);
  }

  /**
   * A node greeted us: no kill is pending any more; this is the grace for the next loss, and the
   * time this node has to resume or forget each delivered exit.
   */
  public synchronized void onConnected(long graceMs) {
    this.graceMs = graceMs;
    connected = true;
    if (graceKill != null) {
      graceKill.cancel(false);
      graceKill = null;
    }
    for (Execution e : byId.values()) {
      if (e.exitDelivered()) {
        scheduleExpiry(e);
      }
    }
  }

  /** The socket is gone: stop sending; kill everything if no node greets us within the grace. */
  public synchronized void onDisconnected() {
    connected = false;
    byId.values().forEach(Execution::detach);
    // While no node is there the grace kill bounds every execution, delivered or not.
    expiries.values().forEach(x -> x.timer().cancel(false));
    expiries.clear();
    if (byId.isEmpty() || graceKill != null) {
      return;
    }
    log.info("{} executions kept for {} ms without a node", byId.size(), graceMs);
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

  /**
   * Waits until every execution ended and its exit was delivered (or it was dropped); one that
   * only waits for a forget does not hold it up. False on timeout.
   */
  public boolean awaitIdle(long timeoutMs) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    synchronized (idle) {
      while (alive() > 0) {
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0) {
          return false;
        }
        idle.wait(left);
      }
    }
    return true;
  }

  private synchronized void delivered(Execution e) {
    log.debug("Exec [{}]: exit delivered", e.execId());
    e.markExitDelivered();
    if (connected && byId.get(e.execId()) == e) {
      scheduleExpiry(e);
    }
    wakeIdle();
  }

  /** A pending drop; {@code n} tells a cancelled one that already fired from the current one. */
  private record Expiry(long n, ScheduledFuture<?> timer) {}

  private void scheduleExpiry(Execution e) {
    cancelExpiry(e.execId());
    long n = ++expirySeq;
    long after = keepExitMs;
    expiries.put(e.execId(), new Expiry(n, timers.schedule(() -> expire(e, n, after), after, TimeUnit.MILLISECONDS)));
  }

  private void cancelExpiry(String execId) {
    Expiry x = expiries.remove(execId);
    if (x != null) {
      x.timer().cancel(false);
    }
  }

  private synchronized void expire(Execution e, long n, long afterMs) {
    Expiry x = expiries.get(e.execId());
    if (x == null || x.n() != n || byId.get(e.execId()) != e) {
      return;
    }
    log.warn("Exec [{}]: exit delivered {} ms ago and neither resumed nor forgotten; dropping it", e.execId(), afterMs);
    drop(e);
  }

  private synchronized void drop(Execution e) {
    if (byId.remove(e.execId(), e)) {
      cancelExpiry(e.execId());
      e.detach();
      e.spool().close();
    }
    wakeIdle();
  }

  private void wakeIdle() {
    synchronized (idle) {
      idle.notifyAll();
    }
  }
}
