package dev.grange.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.grange.protocol.wire.AgentFrame;
import dev.grange.protocol.wire.ErrorCode;
import dev.grange.protocol.wire.NodeFrame;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Proves that an exit is kept until the node says {@code forget} (PROTOCOL.md sections 3 and 5):
 * a socket may die after the agent wrote the exit and before the node persisted it, so after a
 * reconnect {@code ready} still lists the execution with its whole output and a {@code resume}
 * sends the rest and the same exit again; {@code forget} then drops it and deletes its spool.
 * Bounds: a delivered exit that is never forgotten is dropped after {@code --keep-exit-ms} while
 * connected, and a drain or {@code status} does not count it.
 */
class ForgetTest {
  private static final String SCRIPT = "i=0; while [ $i -lt 20 ]; do echo \"line $i\"; i=$((i+1)); done";
  private static final String EXPECTED = expected();

  /** Exits are kept 3 s without a forget here (10 minutes by default), so the drop is seen. */
  @RegisterExtension final AgentFixture f = new AgentFixture("--keep-exit-ms", "3000");

  @Test
  void aDeliveredExitIsListedAfterAReconnectResentOnResumeAndDroppedOnForget() throws IOException {
    NodeSocket first = f.socket();
    NodeSocket.Output out = first.run("build", SCRIPT);
    assertEquals(EXPECTED, out.text());
    assertEquals("ok", out.exit().state());

    // The socket dies before the node persisted the exit it received.
    first.close();
    NodeSocket second = f.node().awaitSocket();
    f.use(second);
    assertEquals(List.of(new AgentFrame.RunningExec("build", EXPECTED.length())), second.greet().running(),
        "ready does not list the exit the node has not forgotten");
    assertEquals(0, second.reply(second.status(), AgentFrame.StatusReply.class).running(),
        "status counts an execution that only waits for its forget");

    int from = EXPECTED.indexOf("line 12");
    NodeSocket.Output rest = second.resume("build", from);
    assertEquals(EXPECTED.substring(from), rest.text());
    assertEquals(out.exit(), rest.exit(), "resume sent another exit than the one delivered");
    assertEquals(1, execSpools().size(), "the spool is gone before the forget");

    second.send(new NodeFrame.Forget("build"));
    // Frames are handled in order: a request sent after the forget sees it done.
    long id = second.nextId();
    second.send(new NodeFrame.Resume(id, "build", 0, second.nextStream()));
    assertEquals(ErrorCode.UNKNOWN_EXEC, second.error(id).code());
    assertEquals(List.of(), execSpools(), "forget left the spool on disk");

    second.close();
    NodeSocket third = f.node().awaitSocket();
    f.use(third);
    assertEquals(List.of(), third.greet().running(), "a forgotten execution is listed again");
  }

  @Test
  void forgetOfAnUnknownExecIsIgnored() {
    NodeSocket s = f.socket();
    s.send(new NodeFrame.Forget("never-ran"));
    assertEquals("still here\n", s.run("after", "echo still here").text());
    assertTrue(s.history().stream().noneMatch(o -> o instanceof AgentFrame.Error), "answered with an error: " + s.history());
  }

  @Test
  void forgetOfACommandStillRunningIsIgnored() throws IOException {
    NodeSocket s = f.socket();
    NodeSocket.ExecCall call = s.shell("build", "echo begin; while [ ! -e release ]; do sleep 0.02; done; echo end");
    s.reply(call.id(), AgentFrame.Started.class);
    assertEquals("begin\n", new String(s.awaitData(call.stream()).payload()));

    s.send(new NodeFrame.Forget("build"));
    Files.createFile(f.workdir().resolve("release"));
    NodeSocket.Output rest = s.output(call.stream(), "build", "begin\n".length());
    assertEquals("end\n", rest.text());
    assertEquals("ok", rest.exit().state());
  }

  @Test
  void aDeliveredExitNeverForgottenIsDroppedAfterKeepExitWhileConnected() throws IOException {
    // The node's grace (this socket's hello) is long: the agent's own keep-exit bound drops it.
    f.socket().close();
    NodeSocket s = f.node().awaitSocket();
    f.use(s);
    s.greet(600_000);
    NodeSocket.Output out = s.run("build", "echo one");
    // Kept at first: a resume sends it again (and the wait starts over at that delivery).
    assertEquals(out.exit(), s.resume("build", 0).exit());

    awaitNoExecSpools();
    long id = s.nextId();
    s.send(new NodeFrame.Resume(id, "build", 0, s.nextStream()));
    assertEquals(ErrorCode.UNKNOWN_EXEC, s.error(id).code());
    s.close();
    NodeSocket next = f.node().awaitSocket();
    f.use(next);
    assertEquals(List.of(), next.greet().running());
  }

  @Test
  void aDrainDoesNotWaitForExitsTheNodeHasNotForgotten() throws Exception {
    NodeSocket s = f.socket();
    NodeSocket.Output out = s.run("build", "echo done");
    assertEquals(out.exit(), s.resume("build", 0).exit(), "the exit was not kept for the node");

    // The drain's bound is far beyond the wait below: waiting for the forget would fail here.
    CompletableFuture.runAsync(() -> f.agent().agent.drain(10 * FakeNode.WAIT.toMillis()));
    s.await(AgentFrame.Draining.class, d -> true, "draining");
    assertEquals(0, f.agent().agent.stopped().get(FakeNode.WAIT.toMillis(), TimeUnit.MILLISECONDS));
    s.awaitClose();
  }

  /** The spool directories of the agent's executions. */
  private List<Path> execSpools() throws IOException {
    Path spool = f.workdir().resolveSibling(f.workdir().getFileName() + ".spool");
    try (Stream<Path> list = Files.list(spool)) {
      return list.filter(p -> p.getFileName().toString().startsWith("exec-")).toList();
    }
  }

  private void awaitNoExecSpools() throws IOException {
    long deadline = System.nanoTime() + FakeNode.WAIT.toNanos();
    while (!execSpools().isEmpty()) {
      if (System.nanoTime() > deadline) {
        fail("the execution was still kept " + FakeNode.WAIT + " after its exit: " + execSpools());
      }
      LockSupport.parkNanos(10_000_000);
    }
  }

  private static String expected() {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < 20; i++) {
      b.append("line ").append(i).append('\n');
    }
    return b.toString();
  }
}
