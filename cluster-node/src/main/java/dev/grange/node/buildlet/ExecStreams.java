package dev.grange.node.buildlet;

import dev.grange.protocol.wire.AgentFrame;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The executions one {@link BuildletSession} carries: which output stream belongs to which
 * execution, who listens, which exits arrived before all their output was stored, and the
 * executions the agent listed in {@code ready} that no build has claimed yet. Streams and
 * executions the session let go of (replaced by a resume, abandoned after a store failure) are
 * remembered so that their late frames are dropped instead of breaking the protocol. Pure
 * bookkeeping, owned by the session's actor: not thread-safe.
 */
final class ExecStreams {
  /** One execution attached to this session. */
  static final class Live {
    final ExecOutput out;
    final ActorRef<ExecEvent> listener;
    /** The resume request that attached it (its success has no answer), or 0 for an exec. */
    final long resumeRequest;

    Live(ExecOutput out, ActorRef<ExecEvent> listener, long resumeRequest) {
      this.out = out;
      this.listener = listener;
      this.resumeRequest = resumeRequest;
    }
  }

  private final Map<Integer, Live> byStream = new HashMap<>();
  private final Map<String, Live> byExec = new HashMap<>();
  private final Map<String, AgentFrame.Exit> exitsWaiting = new HashMap<>();
  private final Set<Integer> ignoredStreams = new HashSet<>();
  private final Set<String> abandoned = new HashSet<>();
  private final Map<String, Long> unclaimed = new HashMap<>();

  /** Attaches an execution's output stream; one attached before under the same id is let go. */
  void open(ExecOutput out, ActorRef<ExecEvent> listener, long resumeRequest) {
    Live old = byExec.get(out.execId);
    if (old != null) {
      remove(old);
      ignoredStreams.add(old.out.stream);
    }
    Live l = new Live(out, listener, resumeRequest);
    byStream.put(out.stream, l);
    byExec.put(out.execId, l);
    unclaimed.remove(out.execId);
    abandoned.remove(out.execId);
  }

  Live byStream(int stream) {
    return byStream.get(stream);
  }

  Live byExec(String execId) {
    return byExec.get(execId);
  }

  boolean attached(String execId) {
    return byExec.containsKey(execId);
  }

  /** True for a stream the session let go of: its frames are dropped. */
  boolean ignored(int stream) {
    return ignoredStreams.contains(stream);
  }

  /** True for an execution the session let go of: its exit is answered with forget and dropped. */
  boolean abandoned(String execId) {
    return abandoned.contains(execId);
  }

  /** The exit arrived; it is reported once all output before it is stored. */
  void exitArrived(AgentFrame.Exit x) {
    exitsWaiting.put(x.execId(), x);
  }

  /** The exit that arrived for an attached execution, or null. */
  AgentFrame.Exit exitOf(String execId) {
    return exitsWaiting.get(execId);
  }

  /** The execution is over for this session (reported, or given up). */
  void remove(Live l) {
    byStream.remove(l.out.stream);
    byExec.remove(l.out.execId);
    exitsWaiting.remove(l.out.execId);
  }

  /** Gives an execution up: its later output and exit are dropped. */
  void abandon(Live l) {
    remove(l);
    ignoredStreams.add(l.out.stream);
    abandoned.add(l.out.execId);
  }

  /** Gives up an execution no build claimed: its output on {@code stream} and its exit are dropped. */
  void abandonUnattached(String execId, int stream) {
    ignoredStreams.add(stream);
    abandoned.add(execId);
  }

  void forgetAbandoned(String execId) {
    abandoned.remove(execId);
  }

  /** Every attached execution, removed from the books (the session ends). */
  List<Live> drain() {
    List<Live> all = new ArrayList<>(byExec.values());
    byStream.clear();
    byExec.clear();
    exitsWaiting.clear();
    return all;
  }

  /** The agent's {@code ready} listed these as alive from before: a build should resume them. */
  void listedByAgent(String execId, long outputBytes) {
    unclaimed.put(execId, outputBytes);
  }

  /** The executions the agent listed that no build resumed; they are no longer waited for. */
  Map<String, Long> takeUnclaimed() {
    Map<String, Long> u = new HashMap<>(unclaimed);
    unclaimed.clear();
    return u;
  }

  boolean anyUnclaimed() {
    return !unclaimed.isEmpty();
  }
}
