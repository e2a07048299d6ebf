package dev.grange.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grange.agent.files.ArchiveBuilder;
import dev.grange.protocol.wire.AgentFrame;
import dev.grange.protocol.wire.DataFrame;
import dev.grange.protocol.wire.ErrorCode;
import dev.grange.protocol.wire.Frame;
import dev.grange.protocol.wire.FrameCodec;
import dev.grange.protocol.wire.Limits;
import dev.grange.protocol.wire.NodeFrame;
import dev.grange.protocol.wire.StreamKind;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Proves what the agent does when the node breaks the channel's rules (PROTOCOL.md sections 2
 * and 4): malformed JSON, a frame with a bad field or over its size limit, a binary frame for
 * a stream nobody opened, an {@code end} for an unknown stream, and a {@code put_tar} data frame
 * beyond the 1 MiB initial credit each make the agent close the socket with code 1008. It then
 * dials again, with the same id, and a fresh socket works. A stream id that is already open is
 * only a refused request ({@code bad_request}), not a violation.
 */
class ProtocolViolationTest {
  @RegisterExtension final AgentFixture f = new AgentFixture();

  /** {@code violate} breaks the rules on the current socket; the agent must close with 1008 and come back. */
  private void assertClosedWith1008ThenReconnects(String what, Consumer<NodeSocket> violate) {
    NodeSocket s = f.socket();
    violate.accept(s);
    NodeSocket.Closed closed = s.awaitClose();
    assertEquals(Limits.CLOSE_POLICY_VIOLATION, closed.code(), what + ": closed with " + closed);
    NodeSocket next = f.node().awaitSocket();
    assertEquals(s.agentId(), next.agentId(), what + ": the agent id changed");
    assertEquals(List.of(), next.greet().running());
    f.use(next);
  }

  @Test
  void malformedOrInvalidTextFramesCloseTheSocketWith1008() {
    assertClosedWith1008ThenReconnects("malformed JSON", s -> s.sendText("{\"op\":\"exec\",\"id\":"));
    assertClosedWith1008ThenReconnects("no op", s -> s.sendText("{\"id\":3}"));
    assertClosedWith1008ThenReconnects("an id of 0", s -> s.sendText("{\"op\":\"status\",\"id\":0}"));
    assertClosedWith1008ThenReconnects("a text frame over 1 MiB",
        s -> s.sendText("{\"op\":\"ping\",\"t\":1,\"pad\":\"" + "x".repeat(Limits.MAX_TEXT_FRAME_BYTES) + "\"}"));
    assertClosedWith1008ThenReconnects("end for an unknown stream",
        s -> s.send(new Frame.End(42, 0, NodeSocket.sha256(new byte[0]))));
  }

  @Test
  void badBinaryFramesCloseTheSocketWith1008() {
    assertClosedWith1008ThenReconnects("a binary frame for an unknown stream",
        s -> s.sendBinary(new DataFrame(99, StreamKind.DATA, 0, "stray".getBytes()).encode()));
    assertClosedWith1008ThenReconnects("a binary frame shorter than its header", s -> s.sendBinary(new byte[5]));
    assertClosedWith1008ThenReconnects("a binary frame over 256 KiB of payload",
        s -> s.sendBinary(ByteBuffer.allocate(Limits.BINARY_HEADER_BYTES + Limits.MAX_PAYLOAD_BYTES + 1)
            .putInt(1).put((byte) 3).array()));
    assertClosedWith1008ThenReconnects("a binary frame of an unknown kind",
        s -> s.sendBinary(ByteBuffer.allocate(Limits.BINARY_HEADER_BYTES + 1).putInt(1).put((byte) 9).array()));
  }

  @Test
  void aPutTarDataFrameBeyondTheCreditClosesTheSocketWith1008() {
    byte[] archive = slowArchive();
    assertClosedWith1008ThenReconnects("put_tar data beyond the credit", s -> {
      int stream = s.nextStream();
      s.send(new NodeFrame.PutTar(s.nextId(), "landing", stream, true));
      // Four full frames are the whole initial credit; one byte more, sent without waiting for
      // a grant, is beyond it. The agent grants nothing back before it has read a whole frame,
      // and it is still extracting the first 64 KiB it read (see slowArchive).
      int frame = Limits.MAX_PAYLOAD_BYTES;
      for (int off = 0; off < Limits.INITIAL_CREDIT; off += frame) {
        s.sendBinary(DataFrame.encode(stream, StreamKind.DATA, off, archive, off, frame));
      }
      s.sendBinary(DataFrame.encode(stream, StreamKind.DATA, Limits.INITIAL_CREDIT, archive, (int) Limits.INITIAL_CREDIT, 1));
    });
    assertTrue(Files.notExists(f.workdir().resolve("landing")), "the refused archive left files behind");
  }

  @Test
  void aStreamThatIsAlreadyOpenIsRefusedNotAViolation() {
    NodeSocket s = f.socket();
    NodeSocket.ExecCall running = s.shell("a", "while [ ! -e stop ]; do sleep 0.02; done");
    s.reply(running.id(), AgentFrame.Started.class);
    long id = s.nextId();
    s.sendText(FrameCodec.encode(new NodeFrame.GetTar(id, ".", running.stream())));
    assertEquals(ErrorCode.BAD_REQUEST, s.error(id).code());
    assertEquals("still up\n", s.run("b", "echo still up").text());
  }

  /**
   * 1 MiB and one byte: a gzip'd tar of 2,000 one-byte files, cut before its end, then zeros.
   * The agent's gzip reader takes the first 64 KiB of the first frame in one read, and turning
   * those few kilobytes into files takes about a second here (a few system calls each), against
   * milliseconds for the rest of the megabyte to arrive. Then the zeros fail the archive.
   */
  private static byte[] slowArchive() {
    ArchiveBuilder a = new ArchiveBuilder();
    for (int i = 0; i < 2_000; i++) {
      a.file(String.format("t/f%06d", i), "x");
    }
    byte[] tiny = a.tarGz();
    byte[] out = new byte[(int) Limits.INITIAL_CREDIT + 1];
    System.arraycopy(tiny, 0, out, 0, tiny.length - 64);
    return out;
  }
}
