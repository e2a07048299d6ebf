package dev.grange.agent;

import dev.grange.agent.channel.CreditGate;
import dev.grange.agent.channel.FrameHandler;
import dev.grange.agent.channel.OpException;
import dev.grange.agent.channel.SessionLink;
import dev.grange.agent.exec.Execution;
import dev.grange.agent.exec.Executions;
import dev.grange.agent.files.FileOps;
import dev.grange.agent.files.WorkDir;
import dev.grange.protocol.wire.AgentFrame;
import dev.grange.protocol.wire.ErrorCode;
import dev.grange.protocol.wire.Limits;
import dev.grange.protocol.wire.NodeFrame;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers the node: {@code hello} with {@code ready}, and every operation of PROTOCOL.md
 * section 3, dispatched from the socket's listener thread. Exec, cancel, resume, ack and forget
 * are handled here, at once and in arrival order (so a cancel or resume always finds the exec
 * that came before it, and a status asked after a forget no longer counts it); the file
 * operations go to {@link FileOps}; status and halt to a worker.
 */
final class Operations implements FrameHandler {
  private static final Logger log = LoggerFactory.getLogger(Operations.class);

  private final Agent agent;
  private final WorkDir workDir;
  private final Executions executions;
  private final FileOps files;
  private final Executor workers;
  private final long startedAtNanos = System.nanoTime();

  Operations(Agent agent, WorkDir workDir, Executions executions, FileOps files, Executor workers) {
    this.agent = agent;
    this.workDir = workDir;
    this.executions = executions;
    this.files = files;
    this.workers = workers;
  }

  @Override
  public void onHello(SessionLink link, NodeFrame.Hello hello) {
    executions.onConnected(hello.graceMs());
    log.info("Session [{}] with [{}]: heartbeat {} ms, grace {} ms, {} executions to resume",
        hello.session(), link.node(), hello.heartbeatMs(), hello.graceMs(), executions.size());
    link.send(new AgentFrame.Ready(
        workDir.root().toString(),
        Platform.os(),
        Platform.arch(),
        Runtime.getRuntime().availableProcessors(),
        Limits.VERSION,
        executions.running()));
    if (agent.isDraining()) {
      link.send(new AgentFrame.Draining(agent.drainReason()));
    }
  }

  @Override
  public void onClosed(SessionLink link) {
    executions.onDisconnected();
  }

  @Override
  public void onRequest(SessionLink link, NodeFrame frame) {
    if (frame instanceof NodeFrame.Ack ack) {
      executions.ack(ack.execId(), ack.offset());
      return;
    }
    if (frame instanceof NodeFrame.Forget forget) {
      executions.forget(forget.execId());
      return;
    }
    if (!(frame instanceof NodeFrame.Request req)) {
      log.warn("Ignoring [{}] from [{}]: not a request", frame, link.node());
      return;
    }
    try {
      dispatch(link, frame);
    } catch (OpException e) {
      log.info("Request [{}] refused: {} {}", req.id(), e.code().wire(), e.getMessage());
      link.send(e.toFrame(req.id()));
    }
  }

  private void dispatch(SessionLink link, NodeFrame frame) throws OpException {
    if (frame instanceof NodeFrame.Exec r) {
      exec(link, r);
    } else if (frame instanceof NodeFrame.Cancel r) {
      Execution e = known(r.execId());
      // ok first: the exit that the kill causes must come after it.
      link.send(AgentFrame.Ok.of(r.id()));
      e.kill(Execution.KillReason.CANCEL);
    } else if (frame instanceof NodeFrame.Resume r) {
      Execution e = known(r.execId());
      CreditGate gate = link.openOutbound(r.stream());
      try {
        executions.attach(e, link, gate, r.fromOffset());
      } catch (OpException x) {
        link.closeOutbound(gate);
        throw x;
      }
      log.info("Exec [{}] resumed from offset {} on stream {}", r.execId(), r.fromOffset(), r.stream());
    } else if (frame instanceof NodeFrame.StatusRequest r) {
      workers.execute(() -> link.send(status(r.id())));
    } else if (frame instanceof NodeFrame.PutTar r) {
      files.putTar(link, r);
    } else if (frame instanceof NodeFrame.PutTarUrl r) {
      files.putTarUrl(link, r);
    } else if (frame instanceof NodeFrame.GetTar r) {
      files.getTar(link, r);
    } else if (frame instanceof NodeFrame.WriteFile r) {
      files.writeFile(link, r);
    } else if (frame instanceof NodeFrame.Ls r) {
      files.ls(link, r);
    } else if (frame instanceof NodeFrame.RemoveAll r) {
      files.removeAll(link, r);
    } else if (frame instanceof NodeFrame.Halt r) {
      log.info("Node [{}] asked this agent to halt", link.node());
      link.send(AgentFrame.Ok.of(r.id())).whenComplete((v, e) -> workers.execute(agent::halt));
    } else {
      throw new OpException(ErrorCode.UNSUPPORTED, "this agent does not handle " + frame.getClass().getSimpleName());
    }
  }

  private void exec(SessionLink link, NodeFrame.Exec r) throws OpException {
    if (agent.isDraining()) {
      throw OpException.badRequest("agent is draining");
    }
    // The stream first: if it is taken, nothing is started.
    CreditGate gate = link.openOutbound(r.stream());
    Execution e;
    try {
      e = executions.start(r);
    } catch (OpException x) {
      link.closeOutbound(gate);
      throw x;
    }
    // started is queued before the output pump exists, so it precedes every output frame.
    link.send(new AgentFrame.Started(r.id(), r.execId(), e.pid()));
    executions.attach(e, link, gate, 0);
  }

  private Execution known(String execId) throws OpException {
    Execution e = executions.get(execId);
    if (e == null) {
      throw new OpException(ErrorCode.UNKNOWN_EXEC, "this agent has no exec " + execId + " (unknown, forgotten, or dropped after its grace)");
    }
    return e;
  }

  private AgentFrame.StatusReply status(long id) {
    double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    long free;
    try {
      free = Files.getFileStore(workDir.root()).getUsableSpace();
    } catch (IOException e) {
      free = -1;
    }
    return new AgentFrame.StatusReply(
        id,
        Limits.VERSION,
        (System.nanoTime() - startedAtNanos) / 1_000_000,
        Math.max(0, load),
        free,
        executions.alive());
  }
}
