package dev.grange.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grange.protocol.wire.AgentFrame;
import dev.grange.protocol.wire.DataFrame;
import dev.grange.protocol.wire.ErrorCode;
import dev.grange.protocol.wire.Frame;
import dev.grange.protocol.wire.Limits;
import dev.grange.protocol.wire.NodeFrame;
import dev.grange.protocol.wire.StreamKind;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Proves what the node sees of an {@code exec} (PROTOCOL.md sections 2 and 3), with real
 * processes: {@code started} with the pid before any output; stdout and stderr on one stream in
 * the order they were written, numbered by one offset sequence, byte for byte; the exit states
 * a build reports; the environment and PATH rules of the Go buildlet; a missing command, a
 * missing dir or an exec id in use refused before anything runs; and output that never
 * outruns the node's credit, pausing at the limit and resuming on each grant.
 */
class ExecTest {
  @RegisterExtension final AgentFixture f = new AgentFixture();

  @Test
  void startedWithThePidComesBeforeAnyOutput() {
    NodeSocket s = f.socket();
    NodeSocket.ExecCall call = s.shell("e1", "echo hello");
    AgentFrame.Started started = s.reply(call.id(), AgentFrame.Started.class);
    assertEquals("e1", started.execId());
    assertTrue(started.pid() > 0, "pid " + started.pid());
    NodeSocket.Output out = s.output(call.stream(), "e1", 0);
    assertEquals("hello\n", out.text());
    List<Object> h = s.history();
    int startedAt = h.indexOf(started);
    int firstData = indexOfFirst(h, DataFrame.class);
    assertTrue(startedAt >= 0 && startedAt < firstData, "started must precede the output: " + h);
  }

  @Test
  void stdoutAndStderrShareOneStreamInWrittenOrderWithOneOffsetSequence() throws Exception {
    NodeSocket s = f.socket();
    // The command writes its next part only once the test has seen the previous one, so the
    // order it wrote in is known even though stdout and stderr are separate pipes.
    String script = "printf 'out one\\n'; while [ ! -e go1 ]; do sleep 0.02; done; "
        + "printf 'err \\000\\377 two\\n' >&2; while [ ! -e go2 ]; do sleep 0.02; done; "
        + "printf 'out three'";
    NodeSocket.ExecCall call = s.shell("e2", script);
    s.reply(call.id(), AgentFrame.Started.class);
    DataFrame first = s.awaitData(call.stream());
    Files.createFile(f.workdir().resolve("go1"));
    DataFrame second = s.awaitData(call.stream());
    Files.createFile(f.workdir().resolve("go2"));
    NodeSocket.Output rest = s.output(call.stream(), "e2", first.payload().length + second.payload().length);

    assertEquals(StreamKind.STDOUT, first.kind());
    assertEquals(0, first.offset());
    assertArrayEquals("out one\n".getBytes(), first.payload());
    assertEquals(StreamKind.STDERR, second.kind());
    assertEquals(first.payload().length, second.offset(), "stderr continues stdout's offsets");
    assertArrayEquals(new byte[] {'e', 'r', 'r', ' ', 0, (byte) 0xff, ' ', 't', 'w', 'o', '\n'}, second.payload());
    assertEquals("out three", rest.text(StreamKind.STDOUT));
    assertEquals("", rest.text(StreamKind.STDERR));
    assertEquals(19 + 9, rest.exit().outputBytes());
    assertEquals("ok", rest.exit().state());
  }

  @Test
  void outputIsDeliveredByteForByte() throws Exception {
    byte[] data = new byte[600_000];
    new Random(7).nextBytes(data);
    Files.write(f.workdir().resolve("blob.bin"), data);
    NodeSocket.Output out = f.socket().run("e3", "cat blob.bin");
    assertArrayEquals(data, out.bytes());
    assertEquals(data.length, out.exit().outputBytes());
    assertTrue(out.frames().stream().allMatch(d -> d.payload().length <= Limits.MAX_PAYLOAD_BYTES));
    assertTrue(out.frames().stream().allMatch(d -> d.kind() == StreamKind.STDOUT));
  }

  @Test
  void aCommandThatSucceedsExitsOk() {
    AgentFrame.Exit exit = f.socket().run("ok", "true").exit();
    assertEquals("ok", exit.state());
    assertEquals(0, exit.exitCode());
    assertTrue(exit.succeeded());
  }

  @Test
  void aCommandThatFailsReportsItsExitStatus() {
    NodeSocket.Output out = f.socket().run("fails", "echo failing >&2; exit 3");
    assertEquals("exit status 3", out.exit().state());
    assertEquals(3, out.exit().exitCode());
    assertEquals("failing\n", out.text(StreamKind.STDERR));
  }

  @Test
  void aCommandOverItsTimeoutIsStoppedAndReportedAsTimeout() {
    NodeSocket s = f.socket();
    NodeSocket.ExecCall call = s.shell("slow", "sleep 300", 500);
    s.reply(call.id(), AgentFrame.Started.class);
    AgentFrame.Exit exit = s.output(call.stream(), "slow", 0).exit();
    assertEquals("timeout", exit.state());
    assertTrue(exit.durationMs() >= 500, "stopped after " + exit.durationMs() + " ms, before its timeout");
  }

  @Test
  void aMissingCommandIsRefusedAsNotFoundAndNothingRuns() {
    NodeSocket s = f.socket();
    NodeSocket.ExecCall sys = s.exec("m1", "no-such-command-grange", List.of(), ".", true, 0);
    AgentFrame.Error e1 = s.error(sys.id());
    assertEquals(ErrorCode.NOT_FOUND, e1.code());
    assertTrue(e1.message().contains("no-such-command-grange"), e1.message());
    NodeSocket.ExecCall inWorkdir = s.exec("m2", "bin/make.bash", List.of(), ".", false, 0);
    AgentFrame.Error e2 = s.error(inWorkdir.id());
    assertEquals(ErrorCode.NOT_FOUND, e2.code());
    assertTrue(e2.message().contains("bin/make.bash"), e2.message());
    // Nothing was started: the ids are free, and the agent reports no running command.
    assertEquals(0, s.reply(s.status(), AgentFrame.StatusReply.class).running());
    assertEquals("ok", s.run("m1", "true").exit().state());
  }

  @Test
  void outputNeverOutrunsTheCreditPausesAtTheLimitAndResumesOnEachGrant() throws Exception {
    int total = 5 << 20;
    byte[] data = new byte[total];
    new Random(11).nextBytes(data);
    Files.write(f.workdir().resolve("big.bin"), data);
    NodeSocket s = f.socket();
    NodeSocket.ExecCall call = s.shell("credit", "cat big.bin");
    long pid = s.reply(call.id(), AgentFrame.Started.class).pid();
    ByteArrayOutputStream got = new ByteArrayOutputStream();

    // No grant yet: the agent sends its initial credit and no more, although all 5 MiB wait.
    receiveUpTo(s, call.stream(), got, Limits.INITIAL_CREDIT);
    Optional<ProcessHandle> proc = ProcessHandle.of(pid);
    if (proc.isPresent()) {
      proc.get().onExit().get(FakeNode.WAIT.toMillis(), TimeUnit.MILLISECONDS);
    }
    s.send(new Frame.Ping(4242));
    s.await(Frame.Pong.class, p -> p.t() == 4242, "pong");
    assertEquals(Limits.INITIAL_CREDIT, dataBytes(s.history(), call.stream()), "sent beyond the initial credit");

    // Grants of 300 KiB, which do not match the 256 KiB frames: each is used up exactly.
    long granted = Limits.INITIAL_CREDIT;
    while (granted < total) {
      s.send(new Frame.Credit(call.stream(), 300 << 10));
      granted += 300 << 10;
      receiveUpTo(s, call.stream(), got, Math.min(granted, total));
    }
    AgentFrame.Exit exit = s.await(AgentFrame.Exit.class, x -> x.execId().equals("credit"), "exit");
    assertEquals("ok", exit.state());
    assertEquals(total, exit.outputBytes());
    assertArrayEquals(data, got.toByteArray());
    // The node side counted every byte against its grants; see AgentFixture.
    f.node().assertNoViolations();
  }

  @Test
  void envIsAddedToTheAgentsAndPathCanPutWorkdirToolsFirst() throws Exception {
    Path tool = Files.createDirectories(f.workdir().resolve("bin")).resolve("hello");
    Files.writeString(tool, "#!/bin/sh\necho hello from the workdir\n");
    Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwxr-xr-x"));
    NodeSocket s = f.socket();
    NodeSocket.ExecCall call = s.exec(new NodeFrame.Exec(s.nextId(), "env", "sh",
        List.of("-c", "echo \"$GREETING $WORKDIR\"; hello"), List.of("GREETING=hi"), ".",
        List.of("$WORKDIR/bin", "$PATH"), true, 0, s.nextStream()));
    s.reply(call.id(), AgentFrame.Started.class);
    assertEquals("hi " + f.workdir() + "\nhello from the workdir\n", s.output(call.stream(), "env", 0).text());

    NodeSocket.ExecCall empty = s.exec(new NodeFrame.Exec(s.nextId(), "no-path", "sh", List.of(), List.of(), ".",
        List.of("$EMPTY"), true, 0, s.nextStream()));
    assertEquals(ErrorCode.NOT_FOUND, s.error(empty.id()).code(), "with PATH removed, sh cannot be found");
  }

  @Test
  void anExecIdInUseIsRefusedAndTheRunningCommandIsUntouched() throws Exception {
    NodeSocket s = f.socket();
    NodeSocket.ExecCall first = s.shell("dup", "while [ ! -e stop ]; do sleep 0.02; done; echo first");
    s.reply(first.id(), AgentFrame.Started.class);
    NodeSocket.ExecCall second = s.shell("dup", "echo second");
    assertEquals(ErrorCode.BAD_REQUEST, s.error(second.id()).code());
    Files.createFile(f.workdir().resolve("stop"));
    NodeSocket.Output out = s.output(first.stream(), "dup", 0);
    assertEquals("first\n", out.text());
    assertEquals("ok", out.exit().state());
  }

  @Test
  void anExecInADirThatDoesNotExistIsNotFound() {
    NodeSocket s = f.socket();
    assertEquals(ErrorCode.NOT_FOUND, s.error(s.exec("nodir", "true", List.of(), "no/such/dir", true, 0).id()).code());
  }

  /** Takes data frames on {@code stream} until {@code got} holds {@code upTo} bytes. */
  private static void receiveUpTo(NodeSocket s, int stream, ByteArrayOutputStream got, long upTo) {
    while (got.size() < upTo) {
      DataFrame d = s.awaitData(stream);
      assertEquals(got.size(), d.offset());
      got.writeBytes(d.payload());
    }
    assertEquals(upTo, got.size(), "a frame went beyond the credit");
  }

  private static long dataBytes(List<Object> history, int stream) {
    return history.stream()
        .filter(o -> o instanceof DataFrame d && d.stream() == stream)
        .mapToLong(o -> ((DataFrame) o).payload().length)
        .sum();
  }

  static int indexOfFirst(List<Object> h, Class<?> type) {
    for (int i = 0; i < h.size(); i++) {
      if (type.isInstance(h.get(i))) {
        return i;
      }
    }
    return Integer.MAX_VALUE;
  }
}
