package dev.grange.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import dev.grange.protocol.wire.AgentFrame;
import dev.grange.protocol.wire.Frame;
import dev.grange.protocol.wire.Handshake;
import dev.grange.protocol.wire.NodeFrame;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Proves how an agent reaches a node (PROTOCOL.md section 1): the handshake headers it sends, its
 * {@code ready} answer to {@code hello}, failing over to the next {@code --node} when one is down,
 * refuses or goes silent (its executions kept running for the next node to resume), and
 * dialling again, with the same agent id, after the node drops or refuses the socket or stops
 * answering the heartbeat (three pings, PROTOCOL.md section 6). Closes
 * are handshakes both ways: a stopping agent closes with 1001 and waits for the node's answer; a
 * node's {@code closing} notice names the code and reason of the close that follows.
 */
class ConnectTest {
  @TempDir Path tmp;
  private FakeNode node;
  private TestAgent agent;

  @AfterEach
  void tearDown() throws Exception {
    if (agent != null) {
      agent.close();
    }
    if (node != null) {
      node.assertNoViolations();
      node.close();
    }
  }

  private NodeSocket connect(String... extra) {
    node = FakeNode.start(TestAgent.HOST_TYPE, TestAgent.KEY);
    agent = TestAgent.start(tmp, List.of(node.url()), extra);
    return node.awaitSocket();
  }

  @Test
  void handshakeCarriesHostTypeHostnameAgentIdVersionAndTheKeyFromTheKeyFile() {
    connect();
    FakeNode.Upgrade up = node.awaitUpgrade();
    assertEquals(101, up.status(), "the node refused the handshake");
    assertEquals(TestAgent.HOST_TYPE, up.header(Handshake.HOST_TYPE));
    assertEquals(TestAgent.HOSTNAME, up.header(Handshake.HOSTNAME));
    assertTrue(up.header(Handshake.AGENT_ID).matches("[0-9a-f]{32}"), up.header(Handshake.AGENT_ID));
    assertEquals(agent.agent.agentId(), up.header(Handshake.AGENT_ID));
    assertEquals("1", up.header(Handshake.AGENT_VERSION));
    // The key file holds the key with surrounding whitespace; the header has the key alone.
    assertEquals("Bearer " + TestAgent.KEY, up.header(Handshake.AUTHORIZATION));
    assertNull(up.header(Handshake.INSTANCE), "no --instance, so no instance header");
  }

  @Test
  void instanceNameIsSentWhenThePoolGaveOne() {
    connect("--instance", "local-17");
    assertEquals("local-17", node.awaitUpgrade().header(Handshake.INSTANCE));
  }

  @Test
  void helloIsAnsweredWithReadyDescribingTheMachine() throws Exception {
    AgentFrame.Ready ready = connect().greet();
    assertEquals(agent.workdir().toString(), ready.workdir());
    assertEquals(tmp.resolve("work").toRealPath().toString(), ready.workdir());
    assertEquals("linux", ready.os());
    assertEquals(Platform.goarch(System.getProperty("os.arch")), ready.arch());
    assertTrue(List.of("amd64", "arm64", "386", "arm", "ppc64le", "s390x", "riscv64").contains(ready.arch()), ready.arch());
    assertEquals(Runtime.getRuntime().availableProcessors(), ready.cpus());
    assertEquals(1, ready.version());
    assertEquals(List.of(), ready.running());
  }

  @Test
  void aNodeThatIsDownIsSkippedForTheNextOne() {
    node = FakeNode.start(TestAgent.HOST_TYPE, TestAgent.KEY);
    String down = "ws://127.0.0.1:" + FakeNode.closedPort();
    agent = TestAgent.start(tmp, List.of(down, node.url()));
    NodeSocket s = node.awaitSocket();
    assertEquals(agent.agent.agentId(), s.agentId());
    s.greet();
  }

  @Test
  void afterTheNodeDropsTheSocketTheAgentReconnectsWithTheSameId() {
    NodeSocket first = connect();
    first.greet();
    String id = first.agentId();
    NodeSocket s = first;
    for (int i = 0; i < 3; i++) {
      s.close();
      s = node.awaitSocket();
      assertEquals(id, s.agentId(), "reconnect " + (i + 1) + " changed the agent id");
      s.greet();
    }
  }

  @Test
  void refusedUpgradesAreRetriedWithTheSameIdUntilTheNodeAccepts() {
    node = FakeNode.start(TestAgent.HOST_TYPE, TestAgent.KEY);
    node.refuseNext(3, 503);
    agent = TestAgent.start(tmp, List.of(node.url()));
    String id = agent.agent.agentId();
    for (int i = 0; i < 3; i++) {
      FakeNode.Upgrade up = node.awaitUpgrade();
      assertEquals(503, up.status());
      assertEquals(id, up.header(Handshake.AGENT_ID));
    }
    FakeNode.Upgrade accepted = node.awaitUpgrade();
    assertEquals(101, accepted.status());
    assertEquals(id, accepted.header(Handshake.AGENT_ID));
    node.awaitSocket().greet();
  }

  @Test
  void aKeyTheNodeRejectsIsRetriedNotFatal() {
    node = FakeNode.start(TestAgent.HOST_TYPE, "not the agent's key");
    agent = TestAgent.start(tmp, List.of(node.url()));
    assertEquals(401, node.awaitUpgrade().status());
    assertEquals(401, node.awaitUpgrade().status(), "the agent gave up after one refusal");
    assertTrue(!agent.agent.stopped().isDone(), "the agent stopped on a refused key");
  }

  @Test
  void aStoppedAgentClosesItsSocketWith1001AndWaitsForTheNodesAnswer() throws Exception {
    try (LogCapture logs = LogCapture.start()) {
      NodeSocket s = connect();
      s.greet();
      agent.close();
      s.awaitClose();
      // The node's own close came back before the agent stopped: a handshake, not a drop.
      assertTrue(logsAbout(logs).stream().anyMatch(m -> m.contains("closed by the node: 1001 agent stopping")),
          logsAbout(logs).toString());
    }
  }

  @Test
  void aClosingNoticeGivesTheCodeAndReasonOfTheCloseThatFollows() {
    try (LogCapture logs = LogCapture.start()) {
      NodeSocket s = connect();
      s.greet();
      s.send(new NodeFrame.Closing(4000, "replaced by a newer socket"));
      s.close();
      node.awaitSocket().greet();
      List<String> lines = logsAbout(logs);
      assertTrue(lines.stream().anyMatch(m -> m.contains("closed by the node: 4000 replaced by a newer socket")), lines.toString());
      assertEquals(List.of(), logs.messages(Level.ERROR).stream().filter(m -> m.contains("Closing")).toList());
    }
  }

  @Test
  void aNodeThatStopsAnsweringPingsIsLeftAfterThreeAndDialledAgain() {
    NodeSocket s = connect();
    s.greet(120_000, 200);
    for (int i = 0; i < 5; i++) {
      s.await(Frame.Ping.class, p -> true, "the agent's heartbeat");
    }
    s.stopAnsweringPings();
    int before = pings(s.history());
    s.awaitClose();
    assertTrue(pings(s.history()) - before >= 3, "left after fewer than three unanswered pings: " + s.history());
    NodeSocket next = node.awaitSocket();
    assertEquals(s.agentId(), next.agentId());
    next.greet();
  }

  @Test
  void aSilentNodeIsLeftForTheNextNodeWhileTheBuildKeepsRunning() throws Exception {
    try (FakeNode silent = FakeNode.start(TestAgent.HOST_TYPE, TestAgent.KEY)) {
      node = FakeNode.start(TestAgent.HOST_TYPE, TestAgent.KEY);
      agent = TestAgent.start(tmp, List.of(silent.url(), node.url()));
      NodeSocket s = silent.awaitSocket();
      s.greet(120_000, 200);
      NodeSocket.ExecCall call = s.shell("build", "echo begin; while [ ! -e release ]; do sleep 0.02; done; echo end");
      s.reply(call.id(), AgentFrame.Started.class);
      assertEquals("begin\n", new String(s.awaitData(call.stream()).payload()));

      // The node hangs: no pong, no frame of any kind, but its socket stays open.
      s.stopAnsweringPings();
      s.awaitClose();
      NodeSocket next = node.awaitSocket();
      assertEquals(s.agentId(), next.agentId());
      assertEquals(List.of(new AgentFrame.RunningExec("build", "begin\n".length())), next.greet().running());
      Files.createFile(agent.workdir().resolve("release"));
      NodeSocket.Output rest = next.resume("build", "begin\n".length());
      assertEquals("end\n", rest.text(), "the command did not run on through the switch");
      assertEquals("ok", rest.exit().state());
    }
  }

  @Test
  void whenTheCurrentNodeRefusesTheAgentGoesToTheNextOne() {
    try (FakeNode first = FakeNode.start(TestAgent.HOST_TYPE, TestAgent.KEY)) {
      node = FakeNode.start(TestAgent.HOST_TYPE, TestAgent.KEY);
      agent = TestAgent.start(tmp, List.of(first.url(), node.url()));
      NodeSocket onFirst = first.awaitSocket();
      onFirst.greet();
      assertEquals(101, first.awaitUpgrade().status());

      // The first node drops the socket and refuses from now on; the second one takes the agent.
      first.refuseNext(Integer.MAX_VALUE, 503);
      onFirst.close();
      NodeSocket onSecond = node.awaitSocket();
      onSecond.greet();
      // The second drops too: the first refuses, and the agent comes back to the second.
      onSecond.close();
      assertEquals(503, first.awaitUpgrade().status());
      NodeSocket again = node.awaitSocket();
      assertEquals(agent.agent.agentId(), again.agentId());
      again.greet();
    }
  }

  private static int pings(List<Object> history) {
    return (int) history.stream().filter(o -> o instanceof Frame.Ping).count();
  }

  /** What the agent logged about this test's node. */
  private List<String> logsAbout(LogCapture logs) {
    return logs.messages(Level.INFO).stream().filter(m -> m.contains(node.url())).toList();
  }
}
