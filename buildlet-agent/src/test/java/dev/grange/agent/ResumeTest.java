package dev.grange.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grange.protocol.wire.AgentFrame;
import dev.grange.protocol.wire.DataFrame;
import dev.grange.protocol.wire.ErrorCode;
import dev.grange.protocol.wire.NodeFrame;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Proves that output survives a lost socket (PROTOCOL.md section 5): the command keeps running,
 * the agent reconnects, {@code ready.running} lists the execution with its output so far, and a
 * {@code resume} from the offset the node had received continues the output with no gap and no
 * duplicate, up to the exit; an exit decided while no node was there is kept for the next one.
 * After {@code graceMs} without a node the agent kills the execution's whole tree.
 */
class ResumeTest {
  private static final int LINES = 40;
  /** One line every ~50 ms for about two seconds, paced by the command itself. */
  private static final String TICKER =
      "i=0; while [ $i -lt " + LINES + " ]; do echo \"line $i\"; i=$((i+1)); sleep 0.05; done";
  private static final String EXPECTED =
      IntStream.range(0, LINES).mapToObj(i -> "line " + i + "\n").collect(Collectors.joining());

  @RegisterExtension final AgentFixture f = new AgentFixture();
  @Test
  void resumeAfterAReconnectContinuesTheOutputWithoutGapOrDuplicate() {
    NodeSocket first = f.socket();
    NodeSocket.ExecCall call = first.shell("ticker", TICKER);
    first.reply(call.id(), AgentFrame.Started.class);
    ByteArrayOutputStream received = receiveLines(first, call.stream(), 5);

    // The node drops the socket mid-output; whatever the agent sent after this is lost to it.
    first.close();
    NodeSocket second = f.node().awaitSocket();
    f.use(second);
    AgentFrame.Ready ready = second.greet();
    AgentFrame.RunningExec listed = single(ready.running());
    assertEquals("ticker", listed.execId());
    assertTrue(listed.outputBytes() >= received.size(), "ready lists less output than the node already had: " + listed);

    NodeSocket.Output rest = second.resume("ticker", received.size());
    assertFalse(rest.frames().isEmpty(), "nothing was resumed");
    received.writeBytes(rest.bytes());
    assertEquals(EXPECTED, received.toString(StandardCharsets.UTF_8));
    assertEquals("ok", rest.exit().state());
    assertEquals(EXPECTED.length(), rest.exit().outputBytes());
  }

  @Test
  void anExitDecidedWhileDisconnectedIsDeliveredOnResume() throws Exception {
    NodeSocket first = f.socket();
    NodeSocket.ExecCall call = first.shell("ticker", TICKER);
    long pid = first.reply(call.id(), AgentFrame.Started.class).pid();
    ByteArrayOutputStream received = receiveLines(first, call.stream(), 3);

    f.node().refuseNext(Integer.MAX_VALUE, 503);
    first.close();
    // The command ends while no node is connected.
    ProcessHandle p = ProcessHandle.of(pid).orElse(null);
    if (p != null) {
      p.onExit().get(FakeNode.WAIT.toMillis(), TimeUnit.MILLISECONDS);
    }
    f.node().refuseNext(0, 503);
    NodeSocket second = f.node().awaitSocket();
    f.use(second);
    AgentFrame.RunningExec listed = single(second.greet().running());
    assertEquals(EXPECTED.length(), listed.outputBytes(), "the whole output waits in the spool");

    NodeSocket.Output rest = second.resume("ticker", received.size());
    received.writeBytes(rest.bytes());
    assertEquals(EXPECTED, received.toString(StandardCharsets.UTF_8));
    assertEquals("ok", rest.exit().state());
  }

  @Test
  void resumeOfAnUnknownExecIsUnknownExec() {
    NodeSocket s = f.socket();
    long id = s.nextId();
    s.send(new NodeFrame.Resume(id, "never-ran", 0, s.nextStream()));
    assertEquals(ErrorCode.UNKNOWN_EXEC, s.error(id).code());
  }

  @Test
  void afterGraceWithoutANodeTheExecutionIsKilled() throws Exception {
    // A node with a short grace: this socket's hello is the one that counts.
    f.socket().close();
    NodeSocket first = f.node().awaitSocket();
    first.greet(1_000);
    TreeWitness witness = f.witness();
    NodeSocket.ExecCall call = first.shell("orphan", witness.prefix() + "sleep 300 & echo $!; wait");
    long shell = first.reply(call.id(), AgentFrame.Started.class).pid();
    long child = Long.parseLong(new String(first.awaitData(call.stream()).payload()).trim());

    f.node().refuseNext(Integer.MAX_VALUE, 503);
    first.close();
    assertFalse(witness.allExited(), "killed at once, without waiting for the grace");
    witness.awaitAllExited(List.of(shell, child));

    // A node that comes later finds nothing left running: either the agent has already dropped
    // the execution, or it still holds the exit that says it was killed.
    f.node().refuseNext(0, 503);
    NodeSocket later = f.node().awaitSocket();
    f.use(later);
    List<AgentFrame.RunningExec> running = later.greet().running();
    if (running.isEmpty()) {
      long id = later.nextId();
      later.send(new NodeFrame.Resume(id, "orphan", 0, later.nextStream()));
      assertEquals(ErrorCode.UNKNOWN_EXEC, later.error(id).code());
    } else {
      assertEquals("orphan", single(running).execId());
      assertEquals("signal: killed", later.resume("orphan", 0).exit().state());
    }
  }

  /** Takes output frames until {@code lines} whole lines have arrived; returns them. */
  private static ByteArrayOutputStream receiveLines(NodeSocket s, int stream, int lines) {
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    while (got.toString(StandardCharsets.UTF_8).chars().filter(c -> c == '\n').count() < lines) {
      DataFrame d = s.awaitData(stream);
      assertEquals(got.size(), d.offset());
      got.writeBytes(d.payload());
    }
    return got;
  }

  private static AgentFrame.RunningExec single(List<AgentFrame.RunningExec> running) {
    assertEquals(1, running.size(), "ready.running: " + running);
    return running.get(0);
  }
}
