package dev.grange.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grange.protocol.wire.AgentFrame;
import dev.grange.protocol.wire.ErrorCode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Proves what SIGTERM does to a real agent process with a command running (PROTOCOL.md section
 * 3, {@code draining}): the node is told at once, new execs are refused, the running command
 * finishes and reports its exit, then the process ends by itself; a command still running after
 * {@code --grace-ms} is killed with its whole tree, its exit reported, and the process ends.
 */
class DrainIT {
  @TempDir Path tmp;
  private FakeNode node;
  private ChildAgent child;
  private TreeWitness witness;

  @BeforeEach
  void startNode() {
    node = FakeNode.start(TestAgent.HOST_TYPE, TestAgent.KEY);
  }

  @AfterEach
  void tearDown() throws Exception {
    if (witness != null) {
      witness.close();
    }
    if (child != null) {
      child.close();
    }
    node.assertNoViolations();
    node.close();
  }

  private NodeSocket startAgent(String graceMs) {
    child = ChildAgent.start(tmp, TestAgent.args(tmp, List.of(node.url()), "--grace-ms", graceMs));
    NodeSocket s = node.awaitSocket();
    s.greet();
    return s;
  }

  @Test
  void sigtermDrainsRefusesNewExecsAndExitsOnceTheCommandFinished() throws Exception {
    NodeSocket s = startAgent("60000");
    NodeSocket.ExecCall call = s.shell("build", "echo begin; while [ ! -e release ]; do sleep 0.02; done; echo end");
    s.reply(call.id(), AgentFrame.Started.class);
    assertEquals("begin\n", new String(s.awaitData(call.stream()).payload()));

    child.terminate();
    AgentFrame.Draining draining = s.await(AgentFrame.Draining.class, d -> true, "draining");
    assertTrue(draining.reason().contains("SIGTERM"), draining.reason());
    NodeSocket.ExecCall refused = s.shell("another", "true");
    AgentFrame.Error e = s.error(refused.id());
    assertEquals(ErrorCode.BAD_REQUEST, e.code());
    assertTrue(e.message().contains("draining"), e.message());
    assertTrue(child.isAlive(), "the agent exited while its command still ran");

    Files.createFile(tmp.resolve("work/release"));
    NodeSocket.Output out = s.output(call.stream(), "build", "begin\n".length());
    assertEquals("end\n", out.text());
    assertEquals("ok", out.exit().state());
    int status = child.awaitExit();
    assertEquals(143, status, "exit status after SIGTERM (128 + 15); stderr:\n" + child.stderr());
    s.awaitClose();
  }

  @Test
  void sigtermKillsWhatStillRunsAfterGraceMsThenExits() {
    NodeSocket s = startAgent("1000");
    witness = TreeWitness.create(tmp);
    NodeSocket.ExecCall call = s.shell("stuck", witness.prefix() + "sleep 300 & echo $!; wait");
    long shell = s.reply(call.id(), AgentFrame.Started.class).pid();
    long sleep = Long.parseLong(new String(s.awaitData(call.stream()).payload()).trim());

    child.terminate();
    s.await(AgentFrame.Draining.class, d -> true, "draining");
    AgentFrame.Exit exit = s.await(AgentFrame.Exit.class, x -> x.execId().equals("stuck"), "exit");
    assertEquals("signal: killed", exit.state());
    witness.awaitAllExited(List.of(shell, sleep));
    child.awaitExit();
  }
}
