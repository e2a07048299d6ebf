package dev.grange.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grange.agent.files.ArchiveBuilder;
import dev.grange.protocol.wire.AgentFrame;
import dev.grange.protocol.wire.ErrorCode;
import dev.grange.protocol.wire.Frame;
import dev.grange.protocol.wire.Handshake;
import dev.grange.protocol.wire.NodeFrame;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Proves the archive rules of PROTOCOL.md section 4 on archives sent over {@code put_tar}: an
 * entry named with {@code ..} or an absolute name, or a symlink out of the workdir, is {@code
 * forbidden_path}; a device, fifo or hard link is {@code bad_request}; an archive over the
 * agent's byte or entry cap is {@code too_large}; one whose end does not match what arrived is
 * {@code io_error}. Every refusal leaves the workdir and the world outside it exactly as they
 * were, with no partial file under its final name. A good archive is extracted with its modes
 * masked to 0777. {@code put_tar_url} fetches from the node with the agent's key (and never
 * sends the key to another server) under the same rules.
 */
class PutTarTest {
  static final int MAX_BYTES = 64 << 10;
  static final int MAX_ENTRIES = 20;

  @RegisterExtension
  final AgentFixture f = new AgentFixture(
      "--max-archive-bytes", Integer.toString(MAX_BYTES), "--max-archive-entries", Integer.toString(MAX_ENTRIES));
  private Surroundings around;
  private NodeSocket s;

  @BeforeEach
  void setUp() throws Exception {
    around = f.surroundings();
    s = f.socket();
  }

  /** The archive is refused with {@code code}, the message names {@code shown}, and nothing changed. */
  private void assertRefused(ErrorCode code, String shown, ArchiveBuilder archive) {
    AgentFrame.Error e = s.error(s.putTar(".", archive.tarGz(), true));
    assertEquals(code, e.code(), e.message());
    assertTrue(e.message().contains(shown), "the message should name " + shown + ": " + e.message());
    around.assertUnchanged("a refused archive (" + e.message() + ")");
  }

  @Test
  void anEntryWithDotDotIsForbidden() {
    assertRefused(ErrorCode.FORBIDDEN_PATH, "../evil.txt", new ArchiveBuilder().file("ok.txt", "ok").file("../evil.txt", "evil"));
    assertRefused(ErrorCode.FORBIDDEN_PATH, "sub/../../evil.txt", new ArchiveBuilder().file("sub/../../evil.txt", "evil"));
  }

  @Test
  void anEntryWithAnAbsoluteNameIsForbidden() {
    String abs = around.outside.resolve("evil.txt").toString();
    assertRefused(ErrorCode.FORBIDDEN_PATH, abs, new ArchiveBuilder().file("ok.txt", "ok").file(abs, "evil"));
  }

  @Test
  void aSymlinkOutOfTheWorkdirIsForbidden() {
    assertRefused(ErrorCode.FORBIDDEN_PATH, "out", new ArchiveBuilder().symlink("out", around.outside.toString()));
    assertRefused(ErrorCode.FORBIDDEN_PATH, "up", new ArchiveBuilder().symlink("up", "../../outside"));
    assertRefused(ErrorCode.FORBIDDEN_PATH, "out",
        new ArchiveBuilder().symlink("out", around.outside.toString()).file("out/pwned.txt", "pwned"));
    // A link inside the archive to a link of the workdir that leads out.
    assertRefused(ErrorCode.FORBIDDEN_PATH, "hop", new ArchiveBuilder().symlink("hop", "escape/secret.txt"));
  }

  @Test
  void anArchiveCannotWriteThroughASymlinkTheWorkdirAlreadyHas() throws Exception {
    s.reply(s.putTar(".", new ArchiveBuilder().file("escape/pwned.txt", "pwned").tarGz(), true), AgentFrame.Ok.class);
    assertTrue(Files.isDirectory(around.workdir.resolve("escape"), LinkOption.NOFOLLOW_LINKS),
        "the directory entry replaces the link, as GNU tar does");
    assertEquals("pwned", Files.readString(around.workdir.resolve("escape/pwned.txt")));
    assertTrue(!Files.exists(around.outside.resolve("pwned.txt")), "the archive wrote through the link");
  }

  @Test
  void devicesFifosAndHardLinksAreBadRequests() {
    assertRefused(ErrorCode.BAD_REQUEST, "tty", new ArchiveBuilder().file("ok.txt", "ok").special("tty", TarConstants.LF_CHR));
    assertRefused(ErrorCode.BAD_REQUEST, "disk", new ArchiveBuilder().special("disk", TarConstants.LF_BLK));
    assertRefused(ErrorCode.BAD_REQUEST, "pipe", new ArchiveBuilder().special("pipe", TarConstants.LF_FIFO));
    assertRefused(ErrorCode.BAD_REQUEST, "hard", new ArchiveBuilder().file("ok.txt", "ok").hardLink("hard", "ok.txt"));
  }

  @Test
  void anArchiveOverTheByteCapIsTooLargeAndLeavesNoPartialFile() {
    assertRefused(ErrorCode.TOO_LARGE, "--max-archive-bytes", new ArchiveBuilder()
        .file("first.txt", "fits")
        .file("big.bin", new byte[MAX_BYTES], 0644));
  }

  @Test
  void anArchiveOverTheEntryCapIsTooLarge() {
    ArchiveBuilder a = new ArchiveBuilder();
    for (int i = 0; i <= MAX_ENTRIES; i++) {
      a.file("f" + i + ".txt", "entry " + i);
    }
    assertRefused(ErrorCode.TOO_LARGE, "--max-archive-entries", a);
  }

  @Test
  void anArchiveWhoseEndDoesNotMatchIsAnIoErrorAndChangesNothing() {
    byte[] archive = new ArchiveBuilder().file("new.txt", "new").tarGz();
    long id = s.nextId();
    int stream = s.nextStream();
    s.send(new NodeFrame.PutTar(id, ".", stream, true));
    s.upload(stream, archive, new Frame.End(stream, archive.length, NodeSocket.sha256(new byte[0])));
    assertEquals(ErrorCode.IO_ERROR, s.error(id).code());
    around.assertUnchanged("an archive with a wrong end");
  }

  @Test
  void somethingThatIsNotAnArchiveIsABadRequest() {
    AgentFrame.Error e = s.error(s.putTar(".", "not a tar at all".getBytes(StandardCharsets.UTF_8), true));
    assertEquals(ErrorCode.BAD_REQUEST, e.code(), e.message());
    around.assertUnchanged("a non-archive");
  }

  @Test
  void aGoodArchiveIsExtractedWithModesMaskedTo0777() throws Exception {
    byte[] data = "data\n".getBytes(StandardCharsets.UTF_8);
    ArchiveBuilder a = new ArchiveBuilder()
        .dir("src")
        .file("src/run.sh", "#!/bin/sh\necho run\n".getBytes(StandardCharsets.UTF_8), 06755)
        .file("src/data.txt", data, 01640)
        .symlink("src/link", "data.txt");
    AgentFrame.Ok ok = s.reply(s.putTar("build", a.tarGz(), true), AgentFrame.Ok.class);
    assertEquals(2, ok.files());
    assertEquals(19 + data.length, ok.bytes());
    Path src = around.workdir.resolve("build/src");
    assertEquals("rwxr-xr-x", mode(src.resolve("run.sh")), "setuid and setgid bits must be dropped");
    assertEquals("rw-r-----", mode(src.resolve("data.txt")), "the sticky bit must be dropped");
    assertEquals(Path.of("data.txt"), Files.readSymbolicLink(src.resolve("link")));
    assertArrayEquals(data, Files.readAllBytes(src.resolve("link")));
    assertEquals("run\n", s.run("r", "build/src/run.sh").text());
  }

  @Test
  void aPlainTarIsExtractedToo() throws Exception {
    s.reply(s.putTar(".", new ArchiveBuilder().file("plain.txt", "plain").tar(), false), AgentFrame.Ok.class);
    assertEquals("plain", Files.readString(around.workdir.resolve("plain.txt")));
  }

  @Test
  void putTarUrlFetchesTheArchiveFromTheNodeWithTheAgentsKey() throws Exception {
    f.node().serve("/src/go.tar.gz", new ArchiveBuilder().file("src/x.go", "package x\n").tarGz());
    long id = s.nextId();
    s.send(new NodeFrame.PutTarUrl(id, "go", f.node().httpUrl("/src/go.tar.gz")));
    assertEquals(1, s.reply(id, AgentFrame.Ok.class).files());
    assertEquals("Bearer " + TestAgent.KEY, f.node().awaitFetch().header(Handshake.AUTHORIZATION));
    assertEquals("package x\n", Files.readString(around.workdir.resolve("go/src/x.go")));
  }

  @Test
  void putTarUrlAnsweredBusyIsFetchedAgainAfterTheRetryAfter() throws Exception {
    f.node().serve("/src/busy.tar.gz", new ArchiveBuilder().file("b.txt", "b\n").tarGz());
    f.node().busyNext(2);
    long id = s.nextId();
    s.send(new NodeFrame.PutTarUrl(id, ".", f.node().httpUrl("/src/busy.tar.gz")));
    assertEquals(1, s.reply(id, AgentFrame.Ok.class).files());
    assertEquals(503, f.node().awaitFetch().status());
    assertEquals(503, f.node().awaitFetch().status());
    assertEquals(200, f.node().awaitFetch().status(), "the third try was served");
    assertEquals("b\n", Files.readString(around.workdir.resolve("b.txt")));
  }

  @Test
  void putTarUrlOfAnotherServerIsFetchedWithoutTheKey() throws Exception {
    try (FakeNode elsewhere = FakeNode.start("other", "other")) {
      elsewhere.serve("/a.tar.gz", new ArchiveBuilder().file("a.txt", "a").tarGz());
      long id = s.nextId();
      s.send(new NodeFrame.PutTarUrl(id, ".", elsewhere.httpUrl("/a.tar.gz")));
      s.reply(id, AgentFrame.Ok.class);
      assertNull(elsewhere.awaitFetch().header(Handshake.AUTHORIZATION), "the agent's key went to a third party");
    }
  }

  @Test
  void putTarUrlIsRefusedLikePutTarAndAMissingArchiveIsNotFound() {
    f.node().serve("/evil.tar.gz", new ArchiveBuilder().file("../evil.txt", "evil").tarGz());
    long evil = s.nextId();
    s.send(new NodeFrame.PutTarUrl(evil, ".", f.node().httpUrl("/evil.tar.gz")));
    assertEquals(ErrorCode.FORBIDDEN_PATH, s.error(evil).code());
    long missing = s.nextId();
    s.send(new NodeFrame.PutTarUrl(missing, ".", f.node().httpUrl("/no-such.tar.gz")));
    assertEquals(ErrorCode.NOT_FOUND, s.error(missing).code());
    around.assertUnchanged("refused put_tar_url requests");
  }

  private static String mode(Path p) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
  }
}
