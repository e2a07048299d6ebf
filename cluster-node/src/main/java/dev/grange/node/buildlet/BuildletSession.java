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
import dev.grange.protocol.wire.StreamKind;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
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
  public record PutSource(String dir, String repo, String sha, ActorRef<StatusReply<Done>> replyTo)
      implements Command {}

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

  private record Stored(int stream, long offset, int length, Throwable failure) implements Command {}

  private record AttachResult(StatusReply<Done> reply) implements Command {}

  private record ArchiveReady(PutSource request, Path archive, Throwable failure) implements Command {}

  private record ChunkRead(int stream, byte[] bytes, Throwable failure) implements Command {}

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
      String nodeAddress) {}

  /** The handshake facts the route checked. */
  public record Handshaken(String agentId, String hostType, String hostname, int version, String instance) {}

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
  private final ExecStreams streams = new ExecStreams();
  private final Map<Integer, OutgoingArchive> outStreams = new HashMap<>();
  private BuildletInfo info;
  private int nextStream = 1;
  private int pingsUnanswered;
  private boolean closed;
  /** The agent said it is stopping: it refuses new commands, which is no verdict on a build. */
  private boolean draining;

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
    send(new NodeFrame.Hello(sessionId, deps.heartbeat().toMillis(), deps.grace().toMillis()));
    timers.startSingleTimer(ReadyTimeout.INSTANCE, deps.requestTimeout());
    timers.startTimerWithFixedDelay(Tick.INSTANCE, deps.heartbeat());
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
        .onMessage(Stored.class, this::onStored)
        .onMessage(Exec.class, this::onExec)
        .onMessage(Resume.class, this::onResume)
        .onMessage(AckOutput.class, this::onAckOutput)
        .onMessage(Forget.class, this::onForget)
        .onMessageEquals(ClaimTimeout.INSTANCE, this::onClaimTimeout)
        .onMessage(CancelExec.class, this::onCancel)
        .onMessage(PutSource.class, this::onPutSource)
        .onMessage(ArchiveReady.class, this::onArchiveReady)
        .onMessage(ChunkRead.class, this::onChunkRead)
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
    try {
      Message msg = m.msg();
      if (msg.isText()) {
        onText(FrameCodec.decodeFromAgent(msg.asTextMessage().getStrictText()));
      } else {
        ByteString bytes = msg.asBinaryMessage().getStrictData();
        onData(DataFrame.decode(bytes.asByteBuffer()));
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
      pingsUnanswered = 0;
    } else if (f instanceof Frame.Credit c) {
      OutgoingArchive o = outStreams.get(c.stream());
      if (o == null) {
        throw new ProtocolException("credit for unknown stream " + c.stream());
      }
      o.credit(c.bytes());
      pump(o);
    } else if (f instanceof AgentFrame.Exit x) {
      onExit(x);
    } else if (f instanceof AgentFrame.Draining d) {
      getContext().getLog().info("Buildlet [{}] is draining: {}", who.agentId(), d.reason());
      draining = true;
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
    r.running().forEach(x -> streams.listedByAgent(x.execId(), x.outputBytes()));
    if (streams.anyUnclaimed()) {
      getContext().getLog().info("Buildlet [{}] reconnected with {} executions to resume", who.agentId(), r.running().size());
      timers.startSingleTimer(ClaimTimeout.INSTANCE, deps.resumeClaimTimeout());
    }
    getContext()
        .pipeToSelf(
            deps.buildlets().attach(info, getContext().getSelf()),
            (reply, err) -> new AttachResult(err != null ? StatusReply.error(err) : reply));
  }

  private Behavior<Command> onAttachResult(AttachResult m) {
    if (m.reply().isError()) {
      return close(1008, "not attached: " + m.reply().getError().getMessage());
    }
    getContext()
        .getLog()
        .info("Buildlet [{}] of [{}] ({}) attached", who.agentId(), who.hostType(), who.hostname());
    return this;
  }

  private Behavior<Command> onReadyTimeout() {
    return info == null ? close(1008, "no ready within " + deps.requestTimeout()) : this;
  }

  private Behavior<Command> onTick() {
    if (closed) {
      return this;
    }
    if (pingsUnanswered >= 3) {
      return end("missed 3 heartbeats", true);
    }
    if (requests.anyOverdue(System.nanoTime(), deps.requestTimeout())) {
      return end("a request went unanswered for " + deps.requestTimeout(), true);
    }
    pingsUnanswered++;
    send(new Frame.Ping(System.currentTimeMillis()));
    return this;
  }

  // ---- exec ----

  private Behavior<Command> onExec(Exec m) {
    ExecSpec s = m.spec();
    if (closed || info == null) {
      // Nothing was sent: the build waits for the next session and starts the step there.
      m.listener().tell(new ExecEvent.Suspended(s.execId(), SESSION_ENDED + ": the exec was not sent", 0));
      return this;
    }
    if (streams.attached(s.execId())) {
      m.listener().tell(new ExecEvent.Lost(s.execId(), "exec id " + s.execId() + " is in use on this buildlet", 0));
      return this;
    }
    ExecOutput o = new ExecOutput(m.buildId(), m.attempt(), m.step(), s.execId(), nextStream++, 0);
    streams.open(o, m.listener(), 0);
    long id =
        requests.add(
            System.nanoTime(),
            true,
            a -> {
              if (a instanceof AgentFrame.Started st) {
                m.listener().tell(new ExecEvent.Started(s.execId(), st.pid()));
              } else if (a instanceof AgentFrame.Error e) {
                forget(o);
                if (draining) {
                  // Not the build's fault: the machine is going away. Another buildlet runs it.
                  m.listener().tell(new ExecEvent.Lost(s.execId(), "buildlet is draining: " + e.message(), 0));
                } else {
                  m.listener().tell(new ExecEvent.Refused(s.execId(), e.code().wire(), e.message()));
                }
              }
            },
            cause -> {});
    send(
        new NodeFrame.Exec(
            id, s.execId(), s.cmd(), s.args(), s.env(), s.dir(), s.path(), s.sys(), s.timeoutMs(), o.stream));
    return this;
  }

  private Behavior<Command> onResume(Resume m) {
    if (closed || info == null) {
      m.listener().tell(new ExecEvent.Suspended(m.execId(), SESSION_ENDED + ": the resume was not sent", m.fromOffset()));
      return this;
    }
    ExecOutput o = new ExecOutput(m.buildId(), m.attempt(), m.step(), m.execId(), nextStream++, m.fromOffset());
    long id =
        requests.add(
            System.nanoTime(),
            false,
            a -> {
              ExecStreams.Live l = streams.byStream(o.stream);
              if (l != null) {
                streams.remove(l);
              }
              if (a instanceof AgentFrame.Error e) {
                if (e.code() == dev.grange.protocol.wire.ErrorCode.UNKNOWN_EXEC) {
                  m.listener().tell(new ExecEvent.Unknown(m.execId(), e.message()));
                } else {
                  m.listener().tell(new ExecEvent.Lost(m.execId(), "the agent refused to resume: " + describe(a), m.fromOffset()));
                }
              }
            },
            cause -> {});
    streams.open(o, m.listener(), id);
    getContext().getLog().info("Resuming exec [{}] on [{}] from offset {}", m.execId(), who.agentId(), m.fromOffset());
    send(new NodeFrame.Resume(id, m.execId(), m.fromOffset(), o.stream));
    return this;
  }

  private Behavior<Command> onAckOutput(AckOutput m) {
    if (!closed && info != null) {
      send(new NodeFrame.Ack(m.execId(), m.offset()));
    }
    return this;
  }

  private Behavior<Command> onForget(Forget m) {
    if (!closed && info != null && !streams.attached(m.execId())) {
      send(new NodeFrame.Forget(m.execId()));
    }
    return this;
  }

  /** No build resumed what the agent still runs from before: kill it and let it go. */
  private Behavior<Command> onClaimTimeout() {
    if (closed) {
      return this;
    }
    for (String execId : streams.takeUnclaimed().keySet()) {
      getContext().getLog().warn("Buildlet [{}]: no build resumed exec [{}] within {}; killing it", who.agentId(), execId, deps.resumeClaimTimeout());
      send(new NodeFrame.Cancel(requests.add(System.nanoTime(), false, a -> {}, c -> {}), execId));
      send(new NodeFrame.Forget(execId));
    }
    return this;
  }

  private void onData(DataFrame d) {
    ExecStreams.Live l = streams.byStream(d.stream());
    if (l == null) {
      if (streams.ignored(d.stream())) {
        return; // a stream let go of (replaced by a resume, or abandoned): late frames are dropped
      }
      throw new ProtocolException("binary frame on unknown stream " + d.stream());
    }
    ExecOutput o = l.out;
    if (d.kind() == StreamKind.DATA) {
      throw new ProtocolException("exec output of kind data on stream " + d.stream());
    }
    o.accept(d.offset(), d.payload().length);
    if (d.payload().length == 0) {
      return;
    }
    int stream = d.stream();
    long offset = d.offset();
    int len = d.payload().length;
    getContext()
        .pipeToSelf(
            deps.logs().append(o.buildId, o.attempt, o.step, offset, d.kind().code(), d.payload()),
            (done, err) -> new Stored(stream, offset, len, err));
  }

  private Behavior<Command> onStored(Stored m) {
    ExecStreams.Live l = streams.byStream(m.stream());
    if (l == null) {
      return this;
    }
    ExecOutput o = l.out;
    if (m.failure() != null) {
      getContext().getLog().warn("Log store write failed for [{}] step [{}]: {}", o.buildId, o.step, m.failure().toString());
      streams.abandon(l);
      send(new NodeFrame.Cancel(requests.nextId(), o.execId));
      l.listener.tell(new ExecEvent.Lost(o.execId, "log store unavailable: " + m.failure().getMessage(), o.storedEnd()));
      return this;
    }
    long credit = o.stored(m.offset(), m.length());
    if (credit > 0) {
      send(new Frame.Credit(o.stream, credit));
    }
    if (o.progressDue()) {
      // The build persists this checkpoint and then acks it (AckOutput), so the agent's spool
      // keeps everything a resume from the persisted checkpoint needs.
      l.listener.tell(new ExecEvent.Progress(o.execId, o.markReported()));
    }
    finishIfDone(l);
    return this;
  }

  private void onExit(AgentFrame.Exit x) {
    ExecStreams.Live l = streams.byExec(x.execId());
    if (l == null) {
      if (streams.abandoned(x.execId())) {
        streams.forgetAbandoned(x.execId());
        send(new NodeFrame.Forget(x.execId()));
        return;
      }
      throw new ProtocolException("exit for unknown exec " + x.execId());
    }
    streams.exitArrived(x);
    finishIfDone(l);
  }

  /** Reports the exit once every byte before it is stored; the agent keeps it until the build says forget. */
  private void finishIfDone(ExecStreams.Live l) {
    ExecOutput o = l.out;
    AgentFrame.Exit x = streams.exitOf(o.execId);
    if (x == null || !o.allStored()) {
      return;
    }
    if (x.outputBytes() != o.receivedEnd()) {
      getContext().getLog().warn("Exec [{}] reported {} output bytes, {} arrived", o.execId, x.outputBytes(), o.receivedEnd());
    }
    forget(o);
    if (l.resumeRequest != 0) {
      requests.drop(l.resumeRequest);
    }
    l.listener.tell(new ExecEvent.Exited(x.execId(), x.state(), x.exitCode(), x.durationMs(), o.storedEnd()));
  }

  private void forget(ExecOutput o) {
    ExecStreams.Live l = streams.byStream(o.stream);
    if (l != null) {
      streams.remove(l);
    }
  }

  private Behavior<Command> onCancel(CancelExec m) {
    if (streams.attached(m.execId())) {
      long id = requests.add(System.nanoTime(), true, a -> {}, c -> {});
      send(new NodeFrame.Cancel(id, m.execId()));
    }
    return this;
  }

  // ---- put source ----

  private Behavior<Command> onPutSource(PutSource m) {
    if (closed) {
      m.replyTo().tell(StatusReply.error(SESSION_ENDED + ": closed"));
      return this;
    }
    getContext()
        .pipeToSelf(
            CompletableFuture.supplyAsync(
                () -> {
                  try {
                    return deps.sources().archive(m.repo(), m.sha());
                  } catch (Exception e) {
                    throw new java.util.concurrent.CompletionException(e);
                  }
                },
                deps.blocking()),
            (path, err) -> new ArchiveReady(m, path, err == null ? null : unwrap(err)));
    return this;
  }

  private Behavior<Command> onArchiveReady(ArchiveReady m) {
    PutSource req = m.request();
    if (m.failure() != null) {
      req.replyTo().tell(StatusReply.error("cannot make the source archive: " + m.failure().getMessage()));
      return this;
    }
    if (closed) {
      req.replyTo().tell(StatusReply.error(SESSION_ENDED + ": closed"));
      return this;
    }
    OutgoingArchive o;
    try {
      o = new OutgoingArchive(nextStream++, m.archive());
    } catch (Exception e) {
      req.replyTo().tell(StatusReply.error("cannot open the source archive: " + e.getMessage()));
      return this;
    }
    outStreams.put(o.stream, o);
    long id =
        requests.add(
            System.nanoTime(),
            false,
            a -> {
              o.close();
              outStreams.remove(o.stream);
              if (a instanceof AgentFrame.Ok) {
                req.replyTo().tell(StatusReply.ack());
              } else if (a instanceof AgentFrame.Error e) {
                req.replyTo().tell(StatusReply.error("agent refused the source archive: " + e.code().wire() + ": " + e.message()));
              }
            },
            cause -> req.replyTo().tell(StatusReply.error(cause)));
    send(new NodeFrame.PutTar(id, req.dir(), o.stream, true));
    pump(o);
    return this;
  }

  private void pump(OutgoingArchive o) {
    int want = closed ? 0 : o.nextRead();
    if (want == 0) {
      return;
    }
    int stream = o.stream;
    getContext()
        .pipeToSelf(
            CompletableFuture.supplyAsync(
                () -> {
                  try {
                    return o.read(want);
                  } catch (java.io.IOException e) {
                    throw new java.util.concurrent.CompletionException(e);
                  }
                },
                deps.blocking()),
            (bytes, err) -> new ChunkRead(stream, bytes, err == null ? null : unwrap(err)));
  }

  private Behavior<Command> onChunkRead(ChunkRead m) {
    OutgoingArchive o = outStreams.get(m.stream());
    if (o == null || closed) {
      return this;
    }
    if (m.failure() != null) {
      o.failed();
      return end("reading the source archive failed: " + m.failure().getMessage(), true);
    }
    if (m.bytes().length == 0) {
      send(o.end());
      return this;
    }
    sendBinary(o.frame(m.bytes()));
    pump(o);
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
    for (ExecStreams.Live l : streams.drain()) {
      // The agent keeps the command running for its grace period: the build resumes it.
      l.listener.tell(new ExecEvent.Suspended(l.out.execId, cause, l.out.storedEnd()));
    }
    requests.loseAll(SESSION_ENDED + ": " + cause);
    outStreams.values().forEach(OutgoingArchive::close);
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

  private static Throwable unwrap(Throwable t) {
    return t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
  }
}
