package dev.grange.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grange.protocol.wire.AgentFrame;
import dev.grange.protocol.wire.ErrorCode;
import dev.grange.protocol.wire.NodeFrame;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Proves that stopping a command stops everything it started (PROTOCOL.md section 3): a
 * {@code cancel} is answered {@code ok}, then the exit says {@code signal: killed}, and the
 * command's children and grandchildren are gone too; a timeout kills the whole tree the same
 * way; {@code halt} kills every tree, reports each exit, then stops the agent with status 0.
 * Each command holds a {@link TreeWitness}, so "gone" is observed, not guessed.
 */
class ProcessTreeKillTest {
  /** Starts two background sleeps, prints their pids, and waits for them. */
  private static final String TREE = "sleep 300 & echo $!; sleep 300 & echo $!; wait";

  @RegisterExtension final AgentFixture f = new AgentFixture();
  private TreeWitness witness;

  @Test
  void cancelKillsTheWholeProcessTree() {
    NodeSocket s = f.socket();
    List<Long> pids = startTree(s, "tree", 0);
    assertTrue(pids.stream().allMatch(TreeWitness::running), "the tree should run before the cancel");

    long cancel = s.nextId();
    s.send(new NodeFrame.Cancel(cancel, "tree"));
    AgentFrame.Ok ok = s.reply(cancel, AgentFrame.Ok.class);
    AgentFrame.Exit exit = s.await(AgentFrame.Exit.class, x -> x.execId().equals("tree"), "exit");
    assertEquals("signal: killed", exit.state());
    List<Object> h = s.history();
    assertTrue(h.indexOf(ok) < h.indexOf(exit), "ok must come before the exit: " + h);
    witness.awaitAllExited(pids);
  }

  @Test
  void aTimeoutKillsTheWholeProcessTree() {
    NodeSocket s = f.socket();
    List<Long> pids = startTree(s, "slow-tree", 3_000);
    AgentFrame.Exit exit = s.await(AgentFrame.Exit.class, x -> x.execId().equals("slow-tree"), "exit");
    assertEquals("timeout", exit.state());
    witness.awaitAllExited(pids);
  }

  @Test
  void haltStopsEveryCommandWithItsTreeReportsItAndStopsTheAgent() throws Exception {
    NodeSocket s = f.socket();
    List<Long> pids = startTree(s, "build", 0);
    long halt = s.nextId();
    s.send(new NodeFrame.Halt(halt));
    s.reply(halt, AgentFrame.Ok.class);
    AgentFrame.Exit exit = s.await(AgentFrame.Exit.class, x -> x.execId().equals("build"), "exit");
    assertEquals("signal: killed", exit.state());
    witness.awaitAllExited(pids);
    assertEquals(0, f.agent().exitStatus.get(FakeNode.WAIT.toMillis(), TimeUnit.MILLISECONDS), "exit status after halt");
    s.awaitClose();
  }

  @Test
  void cancellingAnUnknownExecIsUnknownExec() {
    NodeSocket s = f.socket();
    long id = s.nextId();
    s.send(new NodeFrame.Cancel(id, "never-started"));
    assertEquals(ErrorCode.UNKNOWN_EXEC, s.error(id).code());
  }

  /**
   * Starts {@link #TREE} under a fresh witness; returns the pids of the shell and of the two
   * sleeps, read from its output as it arrives.
   */
  private List<Long> startTree(NodeSocket s, String execId, long timeoutMs) {
    witness = f.witness();
    NodeSocket.ExecCall call = s.shell(execId, witness.prefix() + TREE, timeoutMs);
    List<Long> pids = new ArrayList<>();
    pids.add(s.reply(call.id(), AgentFrame.Started.class).pid());
    StringBuilder text = new StringBuilder();
    while (text.chars().filter(c -> c == '\n').count() < 2) {
      text.append(new String(s.awaitData(call.stream()).payload()));
    }
    for (String line : text.toString().split("\n")) {
      pids.add(Long.parseLong(line.trim()));
    }
    return pids;
  }
}
