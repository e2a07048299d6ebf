package dev.grange.node.buildlet;

import dev.grange.protocol.wire.AgentFrame;
import dev.grange.protocol.wire.DataFrame;
import dev.grange.protocol.wire.ErrorCode;
import dev.grange.protocol.wire.Frame;
import dev.grange.protocol.wire.NodeFrame;
import dev.grange.protocol.wire.ProtocolException;
import dev.grange.protocol.wire.StreamKind;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.function.BiFunction;
import org.slf4j.Logger;

/**
 * The executions of one {@link BuildletSession}: {@code exec} and {@code resume} requests, their
 * output streams written to the log store as they arrive (credit granted back only for stored
 * bytes), exits reported once all output before them is stored, acks and forgets from the build,
 * and the executions the agent brought back from an earlier socket (PROTOCOL.md section 5).
 * Runs inside the session's actor, through {@link Io}.
 */
final class SessionExecs {
  /** What the session lends its executions. */
  interface Io {
    /** True while the session is open and the agent said ready. */
    boolean usable();

    /** True until the session ended. */
    boolean open();

    void send(NodeFrame f);

    void sendBinary(byte[] bytes);

    /** Ends the session with this cause (a communication failure). */
    void fail(String cause);

    int nextStream();

    Requests requests();

    <T> void pipe(CompletionStage<T> future, BiFunction<T, Throwable, BuildletSession.Command> adapt);

    Logger log();

    String agentId();
  }

  private final Io io;
  private final BuildletSession.Deps deps;
  private final ExecStreams streams = new ExecStreams();
  private boolean draining;

  SessionExecs(Io io, BuildletSession.Deps deps) {
    this.io = io;
    this.deps = deps;
  }

  /** The agent said it is stopping: an exec it refuses from now on is no verdict on the build. */
  void draining() {
    draining = true;
  }

  /** The agent's {@code ready} listed these from an earlier socket; true if there are any to wait for. */
  boolean listedByAgent(List<AgentFrame.RunningExec> running) {
    running.forEach(x -> streams.listedByAgent(x.execId(), x.outputBytes()));
    return streams.anyUnclaimed();
  }

  /** The session ended: every execution is suspended (the agent keeps it for its grace period). */
  void suspendAll(String cause) {
    for (ExecStreams.Live l : streams.drain()) {
      l.listener.tell(new ExecEvent.Suspended(l.out.execId, cause, l.out.storedEnd()));
    }
  }


  void onExec(BuildletSession.Exec m) {
    ExecSpec s = m.spec();
    if (!io.usable()) {
      // Nothing was sent: the build waits for the next session and starts the step there.
      m.listener().tell(new ExecEvent.Suspended(s.execId(), BuildletSession.SESSION_ENDED + ": the exec was not sent", 0));
      return;
    }
    if (streams.attached(s.execId())) {
      m.listener().tell(new ExecEvent.Lost(s.execId(), "exec id " + s.execId() + " is in use on this buildlet", 0));
      return;
    }
    ExecOutput o = new ExecOutput(m.buildId(), m.attempt(), m.step(), s.execId(), io.nextStream(), 0);
    streams.open(o, m.listener(), 0);
    long id =
        io.requests().add(
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
    io.send(
        new NodeFrame.Exec(
            id, s.execId(), s.cmd(), s.args(), s.env(), s.dir(), s.path(), s.sys(), s.timeoutMs(), o.stream));
    return;
  }

  void onResume(BuildletSession.Resume m) {
    if (!io.usable()) {
      m.listener().tell(new ExecEvent.Suspended(m.execId(), BuildletSession.SESSION_ENDED + ": the resume was not sent", m.fromOffset()));
      return;
    }
    ExecOutput o = new ExecOutput(m.buildId(), m.attempt(), m.step(), m.execId(), io.nextStream(), m.fromOffset());
    long id =
        io.requests().add(
            System.nanoTime(),
            false,
            a -> {
              ExecStreams.Live l = streams.byStream(o.stream);
              if (l != null) {
                streams.remove(l);
              }
              if (a instanceof AgentFrame.Error e) {
                if (e.code() == ErrorCode.UNKNOWN_EXEC) {
                  m.listener().tell(new ExecEvent.Unknown(m.execId(), e.message()));
                } else {
                  m.listener().tell(new ExecEvent.Lost(m.execId(), "the agent refused to resume: " + e.code().wire() + ": " + e.message(), m.fromOffset()));
                }
              }
            },
            cause -> {});
    streams.open(o, m.listener(), id);
    io.log().info("Resuming exec [{}] on [{}] from offset {}", m.execId(), io.agentId(), m.fromOffset());
    io.send(new NodeFrame.Resume(id, m.execId(), m.fromOffset(), o.stream));
    return;
  }

  void onAckOutput(BuildletSession.AckOutput m) {
    if (io.usable()) {
      io.send(new NodeFrame.Ack(m.execId(), m.offset()));
    }
    return;
  }

  void onForget(BuildletSession.Forget m) {
    if (io.usable() && !streams.attached(m.execId())) {
      io.send(new NodeFrame.Forget(m.execId()));
    }
    return;
  }

  /** No build resumed what the agent still runs from before: kill it and let it go. */
  /**
   * No build resumed what the agent brought back: attach each to a stream whose output is dropped,
   * kill it, and forget it once its exit comes (the agent keeps a command's exit until forget,
   * and ignores a forget while the command runs).
   */
  void onClaimTimeout() {
    if (!io.usable()) {
      return;
    }
    for (java.util.Map.Entry<String, Long> e : streams.takeUnclaimed().entrySet()) {
      String execId = e.getKey();
      io.log().warn("Buildlet [{}]: no build resumed exec [{}] within {}; killing it", io.agentId(), execId, deps.resumeClaimTimeout());
      int stream = io.nextStream();
      streams.abandonUnattached(execId, stream);
      io.send(new NodeFrame.Resume(io.requests().add(System.nanoTime(), false, a -> {}, c -> {}), execId, e.getValue(), stream));
      io.send(new NodeFrame.Cancel(io.requests().add(System.nanoTime(), false, a -> {}, c -> {}), execId));
    }
  }

  void onData(DataFrame d) {
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
    io.pipe(
            deps.logs().append(o.buildId, o.attempt, o.step, offset, d.kind().code(), d.payload()),
            (done, err) -> new BuildletSession.Stored(stream, offset, len, err));
  }

  void onStored(BuildletSession.Stored m) {
    ExecStreams.Live l = streams.byStream(m.stream());
    if (l == null) {
      return;
    }
    ExecOutput o = l.out;
    if (m.failure() != null) {
      io.log().warn("Log store write failed for [{}] step [{}]: {}", o.buildId, o.step, m.failure().toString());
      streams.abandon(l);
      io.send(new NodeFrame.Cancel(io.requests().nextId(), o.execId));
      l.listener.tell(new ExecEvent.Lost(o.execId, "log store unavailable: " + m.failure().getMessage(), o.storedEnd()));
      return;
    }
    long credit = o.stored(m.offset(), m.length());
    if (credit > 0) {
      io.send(new Frame.Credit(o.stream, credit));
    }
    if (o.progressDue()) {
      // The build persists this checkpoint and then acks it (AckOutput), so the agent's spool
      // keeps everything a resume from the persisted checkpoint needs.
      l.listener.tell(new ExecEvent.Progress(o.execId, o.markReported()));
    }
    finishIfDone(l);
    return;
  }

  void onExit(AgentFrame.Exit x) {
    ExecStreams.Live l = streams.byExec(x.execId());
    if (l == null) {
      if (streams.abandoned(x.execId())) {
        streams.forgetAbandoned(x.execId());
        io.send(new NodeFrame.Forget(x.execId()));
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
      io.log().warn("Exec [{}] reported {} output bytes, {} arrived", o.execId, x.outputBytes(), o.receivedEnd());
    }
    forget(o);
    if (l.resumeRequest != 0) {
      io.requests().drop(l.resumeRequest);
    }
    l.listener.tell(new ExecEvent.Exited(x.execId(), x.state(), x.exitCode(), x.durationMs(), o.storedEnd()));
  }

  private void forget(ExecOutput o) {
    ExecStreams.Live l = streams.byStream(o.stream);
    if (l != null) {
      streams.remove(l);
    }
  }

  void onCancel(BuildletSession.CancelExec m) {
    if (streams.attached(m.execId())) {
      long id = io.requests().add(System.nanoTime(), true, a -> {}, c -> {});
      io.send(new NodeFrame.Cancel(id, m.execId()));
    }
    return;
  }
}
