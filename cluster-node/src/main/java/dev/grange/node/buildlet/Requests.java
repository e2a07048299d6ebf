package dev.grange.node.buildlet;

import dev.grange.protocol.wire.AgentFrame;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The requests a {@link BuildletSession} sent and the agent has not answered yet: their ids
 * (positive, unique within the session, PROTOCOL.md section 2), what to do with the answer, and
 * what to tell the requester if the session ends first. Requests with a deadline must be
 * answered within the node's request timeout or the session counts as failed; a {@code put_tar}
 * has none (its answer comes after the whole archive). Pure bookkeeping, owned by the session's
 * actor: not thread-safe.
 */
final class Requests {
  private record Pending(long sentAtNanos, boolean deadline, Consumer<AgentFrame> onAnswer, Consumer<String> onLost) {}

  private final Map<Long, Pending> pending = new HashMap<>();
  private long nextId = 1;

  /** A new request id, for a request that expects no answer (for example a cancel after a store failure). */
  long nextId() {
    return nextId++;
  }

  /** Registers a request sent now; returns its id. */
  long add(long nowNanos, boolean deadline, Consumer<AgentFrame> onAnswer, Consumer<String> onLost) {
    long id = nextId++;
    pending.put(id, new Pending(nowNanos, deadline, onAnswer, onLost));
    return id;
  }

  /** Hands the answer to its request; false when no request has that id (answered already, or never sent). */
  boolean answer(AgentFrame.Answer a) {
    Pending p = pending.remove(a.id());
    if (p == null) {
      return false;
    }
    p.onAnswer().accept((AgentFrame) a);
    return true;
  }

  /** Stops waiting for a request whose success has no answer (a resume, once its exit came). */
  void drop(long id) {
    pending.remove(id);
  }

  /** True when a request with a deadline has waited longer than {@code timeout}. */
  boolean anyOverdue(long nowNanos, Duration timeout) {
    for (Pending p : pending.values()) {
      if (p.deadline() && nowNanos - p.sentAtNanos() > timeout.toNanos()) {
        return true;
      }
    }
    return false;
  }

  /** The session ended: every requester hears why, once. */
  void loseAll(String cause) {
    for (Pending p : pending.values()) {
      p.onLost().accept(cause);
    }
    pending.clear();
  }

  int size() {
    return pending.size();
  }
}
