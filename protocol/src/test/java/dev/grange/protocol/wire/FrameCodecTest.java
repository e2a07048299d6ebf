package dev.grange.protocol.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class FrameCodecTest {
  static final String SHA = "a".repeat(64);

  static Stream<NodeFrame> nodeFrames() {
    return Stream.of(
        new NodeFrame.Hello("s-1", 10_000, 120_000),
        new NodeFrame.StatusRequest(1),
        new NodeFrame.Exec(2, "e1", "go", List.of("test", "./..."), List.of("GOOS=linux"), "src", List.of("$WORKDIR/bin", "$PATH"), false, 60_000, 3),
        new NodeFrame.Cancel(3, "e1"),
        new NodeFrame.Resume(4, "e1", 1234, 5),
        new NodeFrame.Ack("e1", 4096),
        new NodeFrame.Forget("e1"),
        new NodeFrame.PutTar(5, "go", 7, true),
        new NodeFrame.PutTarUrl(6, ".", "http://127.0.0.1:8080/src/go.tar.gz?rev=abc"),
        new NodeFrame.GetTar(7, "out", 9),
        new NodeFrame.WriteFile(8, "bin/x.sh", "755", 11),
        new NodeFrame.Ls(9, ".", true, true, List.of(".git")),
        new NodeFrame.RemoveAll(10, List.of(".")),
        new NodeFrame.Halt(11),
        new NodeFrame.Closing(1008, "malformed JSON"),
        new Frame.Ping(42),
        new Frame.Pong(42),
        new Frame.Credit(3, 1 << 20),
        new Frame.End(7, 99, SHA));
  }

  static Stream<AgentFrame> agentFrames() {
    return Stream.of(
        new AgentFrame.Ready("/w", "linux", "amd64", 8, 1, List.of(new AgentFrame.RunningExec("e1", 123456))),
        new AgentFrame.StatusReply(1, 1, 5000, 0.5, 1L << 30, 2),
        new AgentFrame.Started(2, "e1", 4242),
        new AgentFrame.Exit("e1", "exit status 3", 3, 120, 77),
        new AgentFrame.Ok(5, 12L, 4096L),
        AgentFrame.Ok.of(6),
        new AgentFrame.LsPage(9, List.of(new AgentFrame.LsEntry("a.txt", "-rw-r--r--", 3, 1700000000000L, "b".repeat(40)))),
        new AgentFrame.Error(7, ErrorCode.FORBIDDEN_PATH, "path \"..\" has a .. component"),
        new AgentFrame.Draining("SIGTERM"),
        new Frame.Ping(1),
        new Frame.Pong(1),
        new Frame.Credit(9, 262144),
        new Frame.End(9, 10, SHA));
  }

  @ParameterizedTest
  @MethodSource("nodeFrames")
  void everyNodeFrameRoundTrips(NodeFrame f) {
    String json = FrameCodec.encode(f);
    assertTrue(json.contains("\"op\":\""), json);
    assertEquals(f, FrameCodec.decodeFromNode(json));
  }

  @ParameterizedTest
  @MethodSource("agentFrames")
  void everyAgentFrameRoundTrips(AgentFrame f) {
    assertEquals(f, FrameCodec.decodeFromAgent(FrameCodec.encode(f)));
  }

  @Test
  void statusMeansARequestToTheAgentAndAnAnswerToTheNode() {
    assertInstanceOf(NodeFrame.StatusRequest.class, FrameCodec.decodeFromNode("{\"op\":\"status\",\"id\":1}"));
    assertInstanceOf(AgentFrame.StatusReply.class, FrameCodec.decodeFromAgent(
        "{\"op\":\"status\",\"id\":1,\"version\":1,\"uptimeMs\":5,\"load\":0.1,\"diskFreeBytes\":9,\"running\":0}"));
  }

  @Test
  void wireNamesMatchTheSpec() {
    assertEquals("{\"op\":\"remove_all\",\"id\":10,\"paths\":[\".\"]}", FrameCodec.encode(new NodeFrame.RemoveAll(10, List.of("."))));
    assertEquals("{\"op\":\"error\",\"id\":7,\"code\":\"unknown_exec\",\"message\":\"m\"}",
        FrameCodec.encode(new AgentFrame.Error(7, ErrorCode.UNKNOWN_EXEC, "m")));
    assertFalse(FrameCodec.encode(AgentFrame.Ok.of(3)).contains("files"), "absent fields are left out");
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "{not json", "[]", "{}", "{\"op\":5}", "{\"op\":\"exec\",\"id\":1}", "{\"op\":\"exec\",\"id\":0,\"execId\":\"e\",\"cmd\":\"x\",\"stream\":1}",
      "{\"op\":\"exec\",\"id\":1,\"execId\":\"e\",\"cmd\":\"x\",\"stream\":1,\"env\":[\"NOEQUALS\"]}",
      "{\"op\":\"credit\",\"stream\":1,\"bytes\":-5}", "{\"op\":\"end\",\"stream\":1,\"bytes\":1,\"sha256\":\"xyz\"}",
      "{\"op\":\"write_file\",\"id\":1,\"path\":\"a\",\"mode\":\"999\",\"stream\":2}",
      "{\"op\":\"remove_all\",\"id\":1,\"paths\":[]}"})
  void malformedFramesAreRefusedWithAReason(String json) {
    ProtocolException e = assertThrows(ProtocolException.class, () -> FrameCodec.decodeFromNode(json));
    assertFalse(e.getMessage().isBlank());
  }

  @Test
  void unknownOpIsUnsupportedAndCarriesItsId() {
    FrameCodec.UnsupportedOpException e = assertThrows(FrameCodec.UnsupportedOpException.class,
        () -> FrameCodec.decodeFromNode("{\"op\":\"teleport\",\"id\":17}"));
    assertEquals("teleport", e.op());
    assertEquals(17, e.id());
  }

  @Test
  void unknownFieldsAreIgnoredForNewerPeers() {
    assertEquals(new NodeFrame.Halt(3), FrameCodec.decodeFromNode("{\"op\":\"halt\",\"id\":3,\"future\":true}"));
  }

  @Test
  void aTextFrameOverOneMebibyteIsRefused() {
    String big = "{\"op\":\"draining\",\"reason\":\"" + "é".repeat(600_000) + "\"}";
    assertTrue(big.getBytes(StandardCharsets.UTF_8).length > Limits.MAX_TEXT_FRAME_BYTES);
    ProtocolException e = assertThrows(ProtocolException.class, () -> FrameCodec.decodeFromAgent(big));
    assertTrue(e.getMessage().contains("over"), e.getMessage());
  }
}
