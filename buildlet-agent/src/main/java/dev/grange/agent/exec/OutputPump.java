package dev.grange.agent.exec;

import dev.grange.agent.channel.CreditGate;
import dev.grange.agent.channel.SessionLink;
import dev.grange.protocol.wire.AgentFrame;
import dev.grange.protocol.wire.DataFrame;
import dev.grange.protocol.wire.Limits;
import java.io.IOException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends one execution's spooled output on one stream of one socket, from an offset, within the
 * node's credit, then its {@code exit} once everything before it was sent. One thread per
 * attachment; it ends after the exit, when detached (socket gone, a newer resume) or when its
 * stream's credit gate closes.
 *
 * <p>Each binary frame carries at most 256 KiB of one kind (stdout or stderr) at its offset in
 * the shared sequence, so the node can rebuild the interleaving exactly.
 */
final class OutputPump {
  private static final Logger log = LoggerFactory.getLogger(OutputPump.class);

  private final Execution exec;
  private final SessionLink link;
  private final CreditGate gate;
  private final Consumer<Execution> onDelivered;
  private final Thread thread;
  private volatile boolean stopped;
  private long offset;

  OutputPump(Execution exec, SessionLink link, CreditGate gate, long from, Consumer<Execution> onDelivered) {
    this.exec = exec;
    this.link = link;
    this.gate = gate;
    this.offset = from;
    this.onDelivered = onDelivered;
    this.thread = new Thread(this::run, "exec-output-" + exec.execId());
    this.thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  void stop() {
    stopped = true;
    link.closeOutbound(gate);
    exec.signal();
  }

  private void run() {
    try {
      while (true) {
        long credit;
        synchronized (exec.lock) {
          while (true) {
            if (stopped || gate.isClosed()) {
              return;
            }
            credit = gate.available();
            long size = exec.spool().size();
            if (offset < size && credit > 0) {
              break;
            }
            if (offset >= size && exec.exit() != null) {
              break;
            }
            exec.lock.wait();
          }
        }
        if (offset < exec.spool().size()) {
          sendSome(credit);
        } else {
          sendExit();
          return;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      log.warn("Output of exec [{}] stopped at offset {}: {}", exec.execId(), offset, e.getMessage());
    }
  }

  private void sendSome(long credit) throws IOException {
    int max = (int) Math.min(Limits.MAX_PAYLOAD_BYTES, credit);
    OutputSpool.Chunk chunk = exec.spool().read(offset, max);
    if (chunk == null) {
      return;
    }
    // Only this thread takes from this gate, so the credit seen above is still there.
    gate.tryTake(chunk.bytes().length);
    link.send(new DataFrame(gate.stream(), chunk.kind(), chunk.offset(), chunk.bytes()));
    offset += chunk.bytes().length;
  }

  private void sendExit() {
    AgentFrame.Exit exit = exec.exit();
    link.closeOutbound(gate);
    link.send(exit).whenComplete((v, e) -> {
      if (e == null) {
        onDelivered.accept(exec);
      }
    });
  }
}
