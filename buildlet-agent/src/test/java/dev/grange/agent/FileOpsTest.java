package dev.grange.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grange.agent.files.TreeSnapshot;
import dev.grange.protocol.wire.AgentFrame;
import dev.grange.protocol.wire.ErrorCode;
import dev.grange.protocol.wire.Frame;
import dev.grange.protocol.wire.NodeFrame;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Proves the file operations and small requests of PROTOCOL.md section 3 as a node uses them:
 * {@code ls} with per-file SHA-1 that honours {@code skip}; {@code remove_all ["."]} empties the
 * workdir, read-only directories included; {@code write_file} writes the bytes with the mode,
 * within the agent's credit; {@code get_tar} returns a gzip'd tar of the directory, checked by
 * its {@code end}, that extracts back to the same tree; {@code status} and {@code ping} answer;
 * an unknown op is answered {@code unsupported} and the socket stays up.
 */
class FileOpsTest {
  @RegisterExtension final AgentFixture f = new AgentFixture();

  private Path write(String rel, String content, String mode) throws IOException {
    Path p = f.workdir().resolve(rel);
    Files.createDirectories(p.getParent());
    Files.writeString(p, content);
    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(mode));
    return p;
  }

  @Test
  void lsGivesSha1PerFileAndHonoursSkip() throws Exception {
    write("a.txt", "hello", "rw-r--r--");
    write("sub/b.sh", "world", "rwxr-x---");
    write("sub/skipped/deep.txt", "no", "rw-r--r--");
    write("skipme/c.txt", "no", "rw-r--r--");
    NodeSocket s = f.socket();
    Map<String, AgentFrame.LsEntry> byName = s.lsEntries(s.ls(".", true, true, List.of("skipme", "sub/skipped/")))
        .stream().collect(Collectors.toMap(AgentFrame.LsEntry::name, e -> e, (a, b) -> a, TreeMap::new));
    assertEquals(List.of("a.txt", "sub", "sub/b.sh"), List.copyOf(byName.keySet()));
    assertEquals(sha1("hello"), byName.get("a.txt").sha1());
    assertEquals(sha1("world"), byName.get("sub/b.sh").sha1());
    assertNull(byName.get("sub").sha1(), "a directory has no digest");
    assertEquals("-rw-r--r--", byName.get("a.txt").mode());
    assertEquals("-rwxr-x---", byName.get("sub/b.sh").mode());
    assertTrue(byName.get("sub").mode().startsWith("d"));
    assertEquals(5, byName.get("a.txt").size());

    List<AgentFrame.LsEntry> plain = s.lsEntries(s.ls(".", false, false, List.of()));
    assertEquals(List.of("a.txt", "skipme", "sub"), plain.stream().map(AgentFrame.LsEntry::name).toList());
    assertTrue(plain.stream().allMatch(e -> e.sha1() == null), "no digest unless asked");
  }

  @Test
  void lsOfAMissingDirectoryIsNotFound() {
    NodeSocket s = f.socket();
    assertEquals(ErrorCode.NOT_FOUND, s.error(s.ls("nope", false, false, List.of())).code());
  }

  @Test
  void removeAllDotEmptiesTheWorkdirReadOnlyDirectoriesIncluded() throws Exception {
    write("a.txt", "a", "rw-r--r--");
    write("go/pkg/mod/cache.txt", "module cache", "r--r--r--");
    Files.setPosixFilePermissions(f.workdir().resolve("go/pkg/mod"), PosixFilePermissions.fromString("r-xr-xr-x"));
    Files.createSymbolicLink(f.workdir().resolve("link"), f.base());
    NodeSocket s = f.socket();
    s.reply(s.removeAll("."), AgentFrame.Ok.class);
    assertTrue(Files.isDirectory(f.workdir()), "the workdir itself stays");
    try (Stream<Path> left = Files.list(f.workdir())) {
      assertEquals(List.of(), left.toList());
    }
    assertTrue(Files.exists(f.base().resolve("agent")), "removing a link removed its target");
  }

  @Test
  void removeAllRemovesEachPathGiven() throws Exception {
    write("a.txt", "a", "rw-r--r--");
    write("b/c.txt", "c", "rw-r--r--");
    write("d.txt", "d", "rw-r--r--");
    NodeSocket s = f.socket();
    s.reply(s.removeAll("a.txt", "b", "not-there"), AgentFrame.Ok.class);
    try (Stream<Path> left = Files.list(f.workdir())) {
      assertEquals(List.of("d.txt"), left.map(p -> p.getFileName().toString()).toList());
    }
  }

  @Test
  void writeFileWritesTheBytesWithTheMode() throws Exception {
    NodeSocket s = f.socket();
    byte[] script = "#!/bin/sh\necho tool\n".getBytes(StandardCharsets.UTF_8);
    s.reply(s.writeFile("bin/tool.sh", "750", script), AgentFrame.Ok.class);
    Path p = f.workdir().resolve("bin/tool.sh");
    assertArrayEquals(script, Files.readAllBytes(p));
    assertEquals("rwxr-x---", PosixFilePermissions.toString(Files.getPosixFilePermissions(p)));
    assertEquals("tool\n", s.run("t", "bin/tool.sh").text());
  }

  @Test
  void writeFileOfSeveralMegabytesStaysWithinTheAgentsCredit() throws Exception {
    byte[] data = new byte[3 << 20];
    new Random(5).nextBytes(data);
    NodeSocket s = f.socket();
    s.reply(s.writeFile("big.bin", "0644", data), AgentFrame.Ok.class);
    assertArrayEquals(data, Files.readAllBytes(f.workdir().resolve("big.bin")));
  }

  @Test
  void writeFileWithAWrongEndIsAnIoErrorAndLeavesTheOldFile() throws Exception {
    write("conf.txt", "old", "rw-r--r--");
    NodeSocket s = f.socket();
    long id = s.nextId();
    int stream = s.nextStream();
    s.send(new NodeFrame.WriteFile(id, "conf.txt", "644", stream));
    s.upload(stream, "new".getBytes(StandardCharsets.UTF_8), new Frame.End(stream, 4, NodeSocket.sha256(new byte[0])));
    assertEquals(ErrorCode.IO_ERROR, s.error(id).code());
    assertEquals("old", Files.readString(f.workdir().resolve("conf.txt")));
  }

  @Test
  void getTarReturnsAGzippedTarOfTheDirectoryThatRoundTrips() throws Exception {
    write("src/main.go", "package main\n", "rw-r--r--");
    write("src/make.bash", "#!/bin/sh\n", "rwxr-xr-x");
    byte[] big = new byte[2 << 20];
    new Random(3).nextBytes(big);
    Files.write(f.workdir().resolve("src/blob.bin"), big);
    Files.createSymbolicLink(f.workdir().resolve("src/link"), Path.of("main.go"));
    NodeSocket s = f.socket();

    // Over 1 MiB of compressed data: the agent waits for the credit the download grants.
    byte[] tgz = s.download(s.getTar("src").stream());
    Map<String, String> entries = new TreeMap<>();
    try (TarArchiveInputStream tar = new TarArchiveInputStream(new GZIPInputStream(new ByteArrayInputStream(tgz)))) {
      TarArchiveEntry e;
      while ((e = tar.getNextEntry()) != null) {
        String what = e.isSymbolicLink() ? "-> " + e.getLinkName()
            : Integer.toOctalString(e.getMode() & 0777) + " " + sha1(tar.readAllBytes());
        entries.put(e.getName(), what);
      }
    }
    assertEquals(Map.of(
        "blob.bin", "644 " + sha1(big),
        "link", "-> main.go",
        "main.go", "644 " + sha1("package main\n"),
        "make.bash", "755 " + sha1("#!/bin/sh\n")), entries);

    s.reply(s.putTar("copy", tgz, true), AgentFrame.Ok.class);
    assertEquals(contents(f.workdir().resolve("src")), contents(f.workdir().resolve("copy")));
  }

  @Test
  void statusAnswers() throws Exception {
    NodeSocket s = f.socket();
    AgentFrame.StatusReply idle = s.reply(s.status(), AgentFrame.StatusReply.class);
    assertEquals(1, idle.version());
    assertEquals(0, idle.running());
    assertTrue(idle.uptimeMs() >= 0 && idle.diskFreeBytes() > 0, idle.toString());
    NodeSocket.ExecCall call = s.shell("busy", "while [ ! -e stop ]; do sleep 0.02; done");
    s.reply(call.id(), AgentFrame.Started.class);
    assertEquals(1, s.reply(s.status(), AgentFrame.StatusReply.class).running());
    Files.createFile(f.workdir().resolve("stop"));
    assertEquals("ok", s.output(call.stream(), "busy", 0).exit().state());
  }

  @Test
  void pingGetsPongWithTheSameT() {
    NodeSocket s = f.socket();
    s.send(new Frame.Ping(987654321L));
    assertEquals(987654321L, s.await(Frame.Pong.class, p -> true, "pong").t());
  }

  @Test
  void anUnknownOpIsUnsupportedAndTheSocketStaysUp() {
    NodeSocket s = f.socket();
    s.sendText("{\"op\":\"frobnicate\",\"id\":77,\"what\":\"a newer node's op\"}");
    AgentFrame.Error e = s.error(77);
    assertEquals(ErrorCode.UNSUPPORTED, e.code());
    assertTrue(e.message().contains("frobnicate"), e.message());
    assertEquals("still here\n", s.run("after", "echo still here").text());
  }

  /** Names, types, permissions and contents of a tree (not mtimes: tar keeps whole seconds). */
  private static Map<String, String> contents(Path root) {
    Map<String, String> m = new TreeMap<>();
    TreeSnapshot.of(root).forEach((k, v) -> {
      String[] parts = v.split(" ", 3);
      m.put(k, parts[0] + (parts.length > 2 ? " " + parts[2] : ""));
    });
    return m;
  }

  static String sha1(String s) {
    return sha1(s.getBytes(StandardCharsets.UTF_8));
  }

  static String sha1(byte[] b) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(b));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
