package dev.grange.node.buildlet;

import dev.grange.node.source.Sources;
import dev.grange.node.store.LogStore;
import dev.grange.protocol.CborSerializable;
import dev.grange.protocol.wire.AgentFrame;
import dev.grange.protocol.wire.DataFrame;
import dev.grange.protocol.wire.Frame;
import dev.grange.protocol.wire.FrameCodec;
import dev.grange.protocol.wire.Limits;
import dev.grange.protocol.wire.NodeFrame;
import dev.grange.protocol.wire.ProtocolException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.http.javadsl.model.ws.BinaryMessage;
import org.apache.pekko.http.javadsl.model.ws.TextMessage;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.QueueOfferResult;
import org.apache.pekko.util.ByteString;

/**
 * The node's end of one agent's WebSocket (PROTOCOL.md): one actor per open socket, on the node
 * that holds the socket, alive exactly as long as the socket.
 *
 * <p>Started by {@link ConnectRoute} after the handshake passed. It greets the agent ({@code
 * hello}), and on {@code ready} attaches itself to the agent's {@link Buildlet} entity, which is
 * how the rest of the cluster reaches it. It turns commands ({@link Exec}, {@link PutSource},
 * {@link RemoveAll}...) into frames with request ids and streams, matches answers to them,
 * keeps both sides' credit, writes exec output straight into the {@link LogStore} as it arrives
 * (granting credit back only for stored bytes), and pings. Any broken rule closes the socket
 * (1008); a closed socket, three missed pongs or a request past its deadline end the session,
 * and every listener hears {@link ExecEvent.Lost}: a communication failure, never a test result.
 */
public final class BuildletSession extends AbstractBehavior<BuildletSession.Command> {

  /** Messages to a session; the public ones may come from any node. */
  public sealed interface Command extends CborSerializable {}

  /** Runs a command; output goes to the log of (buildId, step); events go to {@code listener}. */
  public record Exec(String buildId, int attempt, int step, ExecSpec spec, ActorRef<ExecEvent> listener)
      implements Command {}

  /**
   * Attaches an execution that outlived an earlier socket (the agent keeps it for its grace
   * period) and streams its output from {@code fromOffset}: the stored rest, then live output,
   * then its exit. {@link ExecEvent.Unknown} when the agent has no such execution.
   */
  public record Resume(String buildId, int attempt, int step, String execId, long fromOffset, ActorRef<ExecEvent> listener)
      implements Command {}

  /** The build persisted the output of {@code execId} below {@code offset}: the agent may drop it from its spool. */
  public record AckOutput(String execId, long offset) implements Command {}

  /** The build persisted the end of {@code execId}: the agent drops the execution. */
  public record Forget(String execId) implements Command {}

  /** Kills an execution's process tree; its {@link ExecEvent.Exited} follows. */
  public record CancelExec(String execId) implements Command {}

  /** Ships the tree of {@code sha} of {@code repo} to {@code dir} on the buildlet as a gzip'd tar. */
  public record PutSource(String dir, String repo, String sha, ActorRef<StatusReply<SourcePut>> replyTo)
      implements Command {}

  /**
   * How a source archive reached the buildlet: {@code from} the URL the agent fetched it from, or
   * {@link #PUSHED}; what the agent extracted.
   */
  public record SourcePut(String from, long files, long bytes) implements dev.grange.protocol.CborSerializable {
    public static final String PUSHED = "pushed by the node";
  }

  /** Removes paths on the buildlet; {@code "."} empties its workdir. */
  public record RemoveAll(List<String> paths, ActorRef<StatusReply<Done>> replyTo)
      implements Command {}

  /** The agent's status. */
  public record GetStatus(ActorRef<StatusReply<AgentStatus>> replyTo) implements Command {}

  /** Stops the agent. */
  public record Halt(ActorRef<StatusReply<Done>> replyTo) implements Command {}

  /** Ends the session: the agent connected again on another socket, or was revoked. */
  public record Close(int code, String reason) implements Command {}

  /** The answer to {@link GetStatus}. */
  public record AgentStatus(int version, long uptimeMs, double load, long diskFreeBytes, int running)
      implements CborSerializable {}

  /** The agent side's acknowledgement of a stream element (backpressure to the socket). */
  public enum Ack {
    INSTANCE
  }

  // Messages from the socket and from this actor's own futures and timers.
  private record InStarted(ActorRef<Ack> ackTo) implements Command {}

  private record InFrame(ActorRef<Ack> ackTo, Message msg) implements Command {}

  private enum InClosed implements Command {
    INSTANCE
  }

  private record InFailed(Throwable cause) implements Command {}

  private enum Tick implements Command {
    INSTANCE
  }

  private enum ReadyTimeout implements Command {
    INSTANCE
  }

  /** The executions the agent listed in ready had their time to be resumed by their builds. */
  private enum ClaimTimeout implements Command {
    INSTANCE
  }

  /** The prefix of every error a request gets because the session ended: a communication failure. */
  public static final String SESSION_ENDED = "buildlet session ended";

  /** The socket had its time to flush the last frames and close; stop regardless. */
  private enum LingerOver implements Command {
    INSTANCE
  }

  /**
   * How long a session that closed the socket waits for the outgoing frames (the {@code closing}
   * that says why) to be written and the socket to close: stopping at once would tear the socket
   * down under them, and the agent would never hear why.
   */
  private static final Duration LINGER = Duration.ofSeconds(5);

  /** A log store write of an execution's output finished (see {@link SessionExecs}). */
  record Stored(int stream, long offset, int length, Throwable failure) implements Command {}

  /** {@code timedOut}: the buildlet entity did not answer (its shard may be moving off a dead node). */
  private record AttachResult(StatusReply<Done> reply, boolean timedOut) implements Command {}

  private enum AttachAgain implements Command {
    INSTANCE
  }

  /** Tells the buildlet entity the session is open, so an entity that moved off a dead node starts again. */
  private enum StillAlive implements Command {
    INSTANCE
  }

  /** How long one attach may take; a shard moving off a dead node swallows the first tries. */
  private static final Duration ATTACH_TRY = Duration.ofSeconds(4);

  record ArchiveReady(PutSource request, Path archive, Throwable failure) implements Command {}

  record ChunkRead(int stream, byte[] bytes, Throwable failure) implements Command {}

  /** What the session needs from its node. */
  public record Deps(
      Buildlet.Directory buildlets,
      LogStore logs,
      Sources sources,
      Executor blocking,
      Duration heartbeat,
      Duration grace,
      Duration requestTimeout,
      Duration resumeClaimTimeout,
      String nodeAddress,
      SourceUrls sourceUrls) {}

  /**
   * Where this node serves the source archive of a repository at a commit (a path such as {@code
   * /src/<name>.tar.gz?rev=<sha>}), when it does: the agent then fetches it itself ({@code
   * put_tar_url}) instead of the node pushing the bytes.
   */
  public interface SourceUrls {
    SourceUrls NONE = (repo, sha) -> java.util.Optional.empty();

    java.util.Optional<String> path(String repo, String sha);
  }

  /**
   * The handshake facts the route checked. {@code nodeUrl}: this node as the agent reached it
   * ({@code http://host:port}, from the request's Host), the base of the URLs it is given.
   */
  public record Handshaken(String agentId, String hostType, String hostname, int version, String instance, String nodeUrl) {}

  public static Behavior<Command> create(Handshaken who, Deps deps, BoundedSourceQueue<Message> out) {
    return Behaviors.setup(
        ctx -> Behaviors.withTimers(timers -> new BuildletSession(ctx, timers, who, deps, out)));
  }

  /** The messages the socket's inbound stream turns into (see {@link ConnectRoute}). */
  public static Command inStarted(ActorRef<Ack> ackTo) {
    return new InStarted(ackTo);
  }

  public static Command inFrame(ActorRef<Ack> ackTo, Message msg) {
    return new InFrame(ackTo, msg);
  }

  public static Command inClosed() {
    return InClosed.INSTANCE;
  }

  public static Command inFailed(Throwable t) {
    return new InFailed(t);
  }

  private final TimerScheduler<Command> timers;
  private final Handshaken who;
  private final Deps deps;
  private final BoundedSourceQueue<Message> out;
  private final String sessionId = UUID.randomUUID().toString();
  private final Requests requests = new Requests();
  private final SessionExecs execs;
  private final SessionSources sources;
  private BuildletInfo info;
  private int nextStream = 1;
  /** When the agent was last heard from (any frame): three heartbeats of silence end the session. */
  private long lastHeardNanos = System.nanoTime();
  private int ticks;
  private boolean closed;

  private BuildletSession(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      Handshaken who,
      Deps deps,
      BoundedSourceQueue<Message> out) {
    super(ctx);
    this.timers = timers;
    this.who = who;
    this.deps = deps;
    this.out = out;
    SessionExecs.Io io = new SessionExecs.Io() {
      @Override
      public boolean usable() {
        return !closed && info != null;
      }

      @Override
      public boolean open() {
        return !closed;
      }

      @Override
      public void send(NodeFrame f) {
        BuildletSession.this.send(f);
      }

      @Override
      public void sendBinary(byte[] bytes) {
        BuildletSession.this.sendBinary(bytes);
      }

      @Override
      public void fail(String cause) {
        end(cause, true);
      }

      @Override
      public int nextStream() {
        return nextStream++;
      }

      @Override
      public Requests requests() {
        return requests;
      }

      @Override
      public <T> void pipe(java.util.concurrent.CompletionStage<T> future, java.util.function.BiFunction<T, Throwable, Command> adapt) {
        getContext().pipeToSelf(future, adapt::apply);
      }

      @Override
      public org.slf4j.Logger log() {
        return getContext().getLog();
      }

      @Override
      public String agentId() {
        return who.agentId();
      }
    };
    this.execs = new SessionExecs(io, deps);
    this.sources = new SessionSources(io, deps, who.nodeUrl());
    send(new NodeFrame.Hello(sessionId, deps.heartbeat().toMillis(), deps.grace().toMillis()));
    timers.startSingleTimer(ReadyTimeout.INSTANCE, deps.requestTimeout());
    timers.startTimerWithFixedDelay(Tick.INSTANCE, tickEvery());
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(InStarted.class, m -> ack(m.ackTo()))
        .onMessage(InFrame.class, this::onFrame)
        .onMessageEquals(InClosed.INSTANCE, () -> closed ? Behaviors.stopped() : end("socket closed by the agent", false))
        .onMessage(InFailed.class, m -> closed ? Behaviors.stopped() : end("socket failed: " + m.cause().getMessage(), false))
        .onMessageEquals(LingerOver.INSTANCE, Behaviors::stopped)
        .onMessageEquals(Tick.INSTANCE, this::onTick)
        .onMessageEquals(ReadyTimeout.INSTANCE, this::onReadyTimeout)
        .onMessage(AttachResult.class, this::onAttachResult)
        .onMessageEquals(StillAlive.INSTANCE, () -> {
          if (!closed) {
            deps.buildlets().alive(info, getContext().getSelf());
          }
          return this;
        })
        .onMessageEquals(AttachAgain.INSTANCE, () -> {
          if (!closed) {
            attach();
          }
          return this;
        })
        .onMessage(Stored.class, m -> delegate(() -> execs.onStored(m)))
        .onMessage(Exec.class, m -> delegate(() -> execs.onExec(m)))
        .onMessage(Resume.class, m -> delegate(() -> execs.onResume(m)))
        .onMessage(AckOutput.class, m -> delegate(() -> execs.onAckOutput(m)))
        .onMessage(Forget.class, m -> delegate(() -> execs.onForget(m)))
        .onMessageEquals(ClaimTimeout.INSTANCE, () -> delegate(execs::onClaimTimeout))
        .onMessage(CancelExec.class, m -> delegate(() -> execs.onCancel(m)))
        .onMessage(PutSource.class, m -> delegate(() -> sources.onPutSource(m)))
        .onMessage(ArchiveReady.class, m -> delegate(() -> sources.onArchiveReady(m)))
        .onMessage(ChunkRead.class, m -> delegate(() -> sources.onChunkRead(m)))
        .onMessage(RemoveAll.class, this::onRemoveAll)
        .onMessage(GetStatus.class, this::onGetStatus)
        .onMessage(Halt.class, this::onHalt)
        .onMessage(Close.class, m -> close(m.code(), m.reason()))
        .build();
  }

  // ---- the socket ----

  private Behavior<Command> ack(ActorRef<Ack> to) {
    to.tell(Ack.INSTANCE);
    return this;
  }

  private Behavior<Command> onFrame(InFrame m) {
    m.ackTo().tell(Ack.INSTANCE);
    if (closed) {
      return this;
    }
    lastHeardNanos = System.nanoTime();
    try {
      Message msg = m.msg();
      if (msg.isText()) {
        onText(FrameCodec.decodeFromAgent(msg.asTextMessage().getStrictText()));
      } else {
        ByteString bytes = msg.asBinaryMessage().getStrictData();
        execs.onData(DataFrame.decode(bytes.asByteBuffer()));
      }
    } catch (ProtocolException e) {
      return violation(e.getMessage());
    }
    return this;
  }

  private void onText(AgentFrame f) {
    if (info == null && !(f instanceof AgentFrame.Ready) && !(f instanceof Frame.Ping) && !(f instanceof Frame.Pong)) {
      throw new ProtocolException("expected ready, got " + f.getClass().getSimpleName());
    }
    if (f instanceof AgentFrame.Ready r) {
      onReady(r);
    } else if (f instanceof Frame.Ping p) {
      send(new Frame.Pong(p.t()));
    } else if (f instanceof Frame.Pong) {
      // any frame proves the agent alive (lastHeardNanos)
    } else if (f instanceof Frame.Credit c) {
      sources.onCredit(c);
    } else if (f instanceof AgentFrame.Exit x) {
      execs.onExit(x);
    } else if (f instanceof AgentFrame.Draining d) {
      getContext().getLog().info("Buildlet [{}] is draining: {}", who.agentId(), d.reason());
      execs.draining();
      deps.buildlets().draining(who.agentId(), getContext().getSelf(), d.reason());
    } else if (f instanceof AgentFrame.Answer a) {
      if (!requests.answer(a)) {
        getContext().getLog().debug("Answer to unknown request [{}] from [{}]", a.id(), who.agentId());
      }
    } else if (f instanceof Frame.End e) {
      throw new ProtocolException("end for unknown stream " + e.stream());
    } else {
      throw new ProtocolException("unexpected frame " + f.getClass().getSimpleName());
    }
  }

  private void onReady(AgentFrame.Ready r) {
    if (info != null) {
      throw new ProtocolException("ready sent twice");
    }
    timers.cancel(ReadyTimeout.INSTANCE);
    info =
        new BuildletInfo(
            who.agentId(), who.hostType(), who.hostname(), r.version(), who.instance(), r.os(),
            r.arch(), r.cpus(), r.workdir(), deps.nodeAddress(), System.currentTimeMillis());
    if (execs.listedByAgent(r.running())) {
      getContext().getLog().info("Buildlet [{}] reconnected with {} executions to resume", who.agentId(), r.running().size());
      timers.startSingleTimer(ClaimTimeout.INSTANCE, deps.resumeClaimTimeout());
    }
    attachStartedNanos = System.nanoTime();
    attach();
  }

  private long attachStartedNanos;

  private void attach() {
    getContext()
        .pipeToSelf(
            deps.buildlets().attach(info, getContext().getSelf(), ATTACH_TRY),
            (reply, err) -> new AttachResult(err != null ? StatusReply.error(err) : reply, err instanceof java.util.concurrent.TimeoutException));
  }

  private Behavior<Command> onAttachResult(AttachResult m) {
    if (closed) {
      return this;
    }
    if (m.reply().isError()) {
      boolean timeLeft = System.nanoTime() - attachStartedNanos < deps.requestTimeout().toNanos();
      if (m.timedOut() && timeLeft) {
        getContext().getLog().info("Buildlet [{}]: attach unanswered within {}; trying again", who.agentId(), ATTACH_TRY);
        timers.startSingleTimer(AttachAgain.INSTANCE, Duration.ofMillis(200));
        return this;
      }
      return close(1008, "not attached: " + m.reply().getError().getMessage());
    }
    getContext()
        .getLog()
        .info("Buildlet [{}] of [{}] ({}) attached", who.agentId(), who.hostType(), who.hostname());
    timers.startTimerWithFixedDelay(StillAlive.INSTANCE, deps.heartbeat().multipliedBy(5));
    return this;
  }

  private Behavior<Command> onReadyTimeout() {
    return info == null ? close(1008, "no ready within " + deps.requestTimeout()) : this;
  }

  /**
   * Liveness is checked ten times a heartbeat, so that an agent silent for three heartbeats (it
   * pings and answers pings every heartbeat) is declared lost within three heartbeats, not four.
   */
  private Duration tickEvery() {
    return Duration.ofMillis(Math.max(50, deps.heartbeat().toMillis() / 10));
  }

  private Behavior<Command> onTick() {
    if (closed) {
      return this;
    }
    long now = System.nanoTime();
    long silence = now - lastHeardNanos;
    if (silence >= deps.heartbeat().multipliedBy(3).minus(tickEvery()).toNanos()) {
      return end("missed 3 heartbeats (nothing heard for " + java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(silence) + " ms)", true);
    }
    if (requests.anyOverdue(now, deps.requestTimeout())) {
      return end("a request went unanswered for " + deps.requestTimeout(), true);
    }
    if (ticks++ % 10 == 0) {
      send(new Frame.Ping(System.currentTimeMillis()));
    }
    return this;
  }

  // ---- exec (SessionExecs) ----

  private Behavior<Command> delegate(Runnable r) {
    r.run();
    return this;
  }

  // ---- simple requests ----

  private Behavior<Command> onRemoveAll(RemoveAll m) {
    request(id -> new NodeFrame.RemoveAll(id, m.paths()), a -> doneOrError(a, m.replyTo()), m.replyTo());
    return this;
  }

  private Behavior<Command> onHalt(Halt m) {
    request(NodeFrame.Halt::new, a -> doneOrError(a, m.replyTo()), m.replyTo());
    return this;
  }

  private Behavior<Command> onGetStatus(GetStatus m) {
    request(
        NodeFrame.StatusRequest::new,
        a -> {
          if (a instanceof AgentFrame.StatusReply s) {
            m.replyTo().tell(StatusReply.success(new AgentStatus(s.version(), s.uptimeMs(), s.load(), s.diskFreeBytes(), s.running())));
          } else {
            m.replyTo().tell(StatusReply.error(describe(a)));
          }
        },
        m.replyTo());
    return this;
  }

  private <T> void request(java.util.function.LongFunction<NodeFrame> frame, Consumer<AgentFrame> onAnswer, ActorRef<StatusReply<T>> replyTo) {
    if (closed || info == null) {
      replyTo.tell(StatusReply.error(SESSION_ENDED + ": closed"));
      return;
    }
    long id = requests.add(System.nanoTime(), true, onAnswer, cause -> replyTo.tell(StatusReply.error(cause)));
    send(frame.apply(id));
  }

  private static void doneOrError(AgentFrame a, ActorRef<StatusReply<Done>> replyTo) {
    if (a instanceof AgentFrame.Ok) {
      replyTo.tell(StatusReply.ack());
    } else {
      replyTo.tell(StatusReply.error(describe(a)));
    }
  }

  private static String describe(AgentFrame a) {
    if (a instanceof AgentFrame.Error e) {
      return e.code().wire() + ": " + e.message();
    }
    return "unexpected answer " + a.getClass().getSimpleName();
  }

  // ---- sending and ending ----

  private void send(NodeFrame f) {
    offer(TextMessage.create(FrameCodec.encode(f)));
  }

  private void sendBinary(byte[] bytes) {
    offer(BinaryMessage.create(ByteString.fromArrayUnsafe(bytes)));
  }

  private void offer(Message m) {
    if (closed) {
      return;
    }
    QueueOfferResult r = out.offer(m);
    if (r != QueueOfferResult.enqueued()) {
      // Only a peer that stopped reading fills the queue: credit bounds everything else.
      getContext().getSelf().tell(new Close(1008, "outgoing queue full: the agent stopped reading"));
    }
  }

  private Behavior<Command> violation(String reason) {
    getContext().getLog().warn("Buildlet [{}] broke the protocol, closing: {}", who.agentId(), reason);
    return close(Limits.CLOSE_POLICY_VIOLATION, reason);
  }

  private Behavior<Command> close(int code, String reason) {
    if (!closed) {
      send(new NodeFrame.Closing(code, reason));
    }
    return end(reason, true);
  }

  /** Ends the session: every waiter hears a communication failure; the buildlet is detached. */
  private Behavior<Command> end(String cause, boolean closeSocket) {
    if (closed) {
      return this;
    }
    closed = true;
    getContext().getLog().info("Buildlet [{}] session ended: {}", who.agentId(), cause);
    timers.cancel(Tick.INSTANCE);
    timers.cancel(ReadyTimeout.INSTANCE);
    // The agent keeps the commands running for its grace period: their builds resume them.
    execs.suspendAll(cause);
    requests.loseAll(SESSION_ENDED + ": " + cause);
    sources.closeAll();
    if (info != null) {
      deps.buildlets().detach(who.agentId(), getContext().getSelf(), cause);
    }
    if (closeSocket) {
      // Completing the queue flushes what is in it, then closes the socket; the inbound side
      // ends after that (InClosed), which stops this actor, or LINGER does.
      out.complete();
      timers.startSingleTimer(LingerOver.INSTANCE, LINGER);
      return this;
    }
    return Behaviors.stopped();
  }

  static Throwable unwrap(Throwable t) {
    return t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
  }
}
