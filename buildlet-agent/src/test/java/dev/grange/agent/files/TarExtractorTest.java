package dev.grange.agent.files;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grange.agent.channel.OpException;
import dev.grange.protocol.wire.ErrorCode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TarExtractorTest {
  @TempDir Path tmp;
  Path outside;
  WorkDir wd;
  Map<String, String> before;

  @BeforeEach
  void setUp() throws IOException {
    outside = Files.createDirectories(tmp.resolve("outside"));
    wd = new WorkDir(tmp.resolve("work"), tmp.resolve("work.staging"));
    // Something already there, which a refused archive must leave exactly as it is.
    Files.createDirectories(wd.root().resolve("keep/sub"));
    Files.writeString(wd.root().resolve("keep/sub/old.txt"), "old");
    Files.writeString(wd.root().resolve("x"), "x was here");
  }

  private TarExtractor.Staged extract(byte[] tarGz, String dir, long maxBytes, long maxEntries) throws OpException {
    TarExtractor ex = new TarExtractor(wd, maxBytes, maxEntries);
    TarExtractor.Staged s = ex.stage(wd.resolve(dir), new ByteArrayInputStream(tarGz), true);
    try (s) {
      s.place();
    }
    return s;
  }

  private TarExtractor.Staged extract(ArchiveBuilder a) throws OpException {
    return extract(a.tarGz(), ".", 1 << 20, 1000);
  }

  /** The archive is refused with this code, and neither the workdir nor the staging area keeps a trace. */
  private void assertRefused(ErrorCode code, byte[] tarGz, String dir, long maxBytes, long maxEntries) throws IOException {
    before = TreeSnapshot.of(wd.root());
    Map<String, String> outsideBefore = TreeSnapshot.of(outside);
    OpException e = assertThrows(OpException.class, () -> extract(tarGz, dir, maxBytes, maxEntries));
    assertEquals(code, e.code(), e.getMessage());
    System.out.println("refused: " + e.getMessage());
    assertEquals(before, TreeSnapshot.of(wd.root()), "workdir changed by a refused archive");
    assertEquals(outsideBefore, TreeSnapshot.of(outside), "outside changed by a refused archive");
    try (Stream<Path> s = Files.list(wd.staging())) {
      assertEquals(0, s.count(), "staging area not cleaned up");
    }
  }

  private void assertRefused(ErrorCode code, ArchiveBuilder a) throws IOException {
    assertRefused(code, a.tarGz(), ".", 1 << 20, 1000);
  }

  @Test
  void filesDirectoriesAndModesAreExtractedWithModesMaskedTo0777() throws Exception {
    TarExtractor.Staged s = extract(new ArchiveBuilder()
        .dir("src")
        .file("src/make.bash", "#!/bin/sh\necho hi\n".getBytes(StandardCharsets.UTF_8), 04755)
        .file("src/deep/a.txt", "a")
        .file("top.txt", "top"));
    assertEquals(3, s.files());
    assertEquals(18 + 1 + 3, s.bytes());
    assertEquals("#!/bin/sh\necho hi\n", Files.readString(wd.root().resolve("src/make.bash")));
    assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(wd.root().resolve("src/make.bash"))));
    assertEquals("a", Files.readString(wd.root().resolve("src/deep/a.txt")));
    assertEquals("old", Files.readString(wd.root().resolve("keep/sub/old.txt")), "existing files are merged with, not removed");
  }

  @Test
  void archiveIntoASubdirectoryCreatesIt() throws Exception {
    extract(new ArchiveBuilder().file("f", "content").tarGz(), "new/dir", 1 << 20, 10);
    assertEquals("content", Files.readString(wd.root().resolve("new/dir/f")));
  }

  @Test
  void archiveWithDotDotIsRefused() throws Exception {
    assertRefused(ErrorCode.FORBIDDEN_PATH, new ArchiveBuilder().file("ok.txt", "fine").file("../escape.txt", "evil"));
    assertFalse(Files.exists(tmp.resolve("escape.txt")));
  }

  @Test
  void archiveWithAbsoluteEntryIsRefused() throws Exception {
    assertRefused(ErrorCode.FORBIDDEN_PATH,
        new ArchiveBuilder().file("ok.txt", "fine").file(outside.resolve("abs.txt").toString(), "evil"));
  }

  @Test
  void symlinkOutOfTheWorkdirIsRefused() throws Exception {
    assertRefused(ErrorCode.FORBIDDEN_PATH, new ArchiveBuilder().file("ok.txt", "fine").symlink("link", "../outside"));
    assertRefused(ErrorCode.FORBIDDEN_PATH, new ArchiveBuilder().symlink("abs", outside.toString()));
    assertRefused(ErrorCode.FORBIDDEN_PATH, new ArchiveBuilder().symlink("keep/up", "../../.."));
  }

  @Test
  void symlinkInsideTheWorkdirIsExtracted() throws Exception {
    extract(new ArchiveBuilder().file("sub/real.txt", "real").symlink("link", "sub/real.txt").symlink("sub/up", "../keep"));
    Path link = wd.root().resolve("link");
    assertTrue(Files.isSymbolicLink(link));
    assertEquals(Path.of("sub/real.txt"), Files.readSymbolicLink(link));
    assertEquals("real", Files.readString(link));
    assertEquals("old", Files.readString(wd.root().resolve("sub/up/sub/old.txt")));
  }

  @Test
  void symlinkChainThatEscapesThroughTheArchivesOwnLinksIsRefused() throws Exception {
    // sub/l1 -> .. is the workdir, fine. sub/l2 -> l1/.. reads "sub" lexically, but the kernel
    // follows l1 first: the workdir's parent.
    assertRefused(ErrorCode.FORBIDDEN_PATH, new ArchiveBuilder().dir("sub").symlink("sub/l1", "..").symlink("sub/l2", "l1/.."));
    // Same with the second link placed before the first exists in the stream order.
    assertRefused(ErrorCode.FORBIDDEN_PATH, new ArchiveBuilder().dir("sub").symlink("sub/l2", "l1/..").symlink("sub/l1", ".."));
  }

  @Test
  void entryWrittenThroughTheArchivesOwnSymlinkIsRefused() throws Exception {
    assertRefused(ErrorCode.FORBIDDEN_PATH, new ArchiveBuilder().dir("sub").symlink("l", "sub").file("l/f", "through a link"));
  }

  @Test
  void deviceEntriesAreRefused() throws Exception {
    assertRefused(ErrorCode.BAD_REQUEST, new ArchiveBuilder().file("ok.txt", "fine").special("tty", TarConstants.LF_CHR));
    assertRefused(ErrorCode.BAD_REQUEST, new ArchiveBuilder().special("disk", TarConstants.LF_BLK));
  }

  @Test
  void fifoEntryIsRefused() throws Exception {
    assertRefused(ErrorCode.BAD_REQUEST, new ArchiveBuilder().file("ok.txt", "fine").special("pipe", TarConstants.LF_FIFO));
  }

  @Test
  void hardLinkIsRefused() throws Exception {
    assertRefused(ErrorCode.BAD_REQUEST, new ArchiveBuilder().file("ok.txt", "fine").hardLink("hard", "ok.txt"));
  }

  @Test
  void archiveOverTheByteCapIsRefused() throws Exception {
    byte[] big = new byte[101];
    Arrays.fill(big, (byte) 'b');
    assertRefused(ErrorCode.TOO_LARGE, new ArchiveBuilder().file("a", "0123456789").file("big", big, 0644).tarGz(), ".", 100, 1000);
  }

  @Test
  void archiveOverTheEntryCapIsRefused() throws Exception {
    assertRefused(ErrorCode.TOO_LARGE,
        new ArchiveBuilder().file("1", "1").file("2", "2").dir("d").file("d/3", "3").tarGz(), ".", 1 << 20, 3);
  }

  @Test
  void fileThatWouldReplaceADirectoryIsRefused() throws Exception {
    assertRefused(ErrorCode.BAD_REQUEST, new ArchiveBuilder().file("new.txt", "n").file("keep", "not a dir"));
  }

  @Test
  void truncatedArchiveIsRefused() throws Exception {
    byte[] tar = new ArchiveBuilder().file("a.txt", "aaaa").file("b.txt", "b".repeat(5000)).tar();
    byte[] cut = Arrays.copyOf(tar, 1024 + 512 + 100);
    assertRefused(ErrorCode.BAD_REQUEST, gzip(cut), ".", 1 << 20, 1000);
  }

  @Test
  void notAnArchiveIsRefused() throws Exception {
    assertRefused(ErrorCode.BAD_REQUEST, "this is not gzip".getBytes(StandardCharsets.UTF_8), ".", 1 << 20, 1000);
  }

  @Test
  void targetDirectoryBehindASymlinkOutOfTheWorkdirIsRefused() throws Exception {
    Files.createSymbolicLink(wd.root().resolve("out"), outside);
    OpException e = assertThrows(OpException.class, () -> extract(new ArchiveBuilder().file("f", "x").tarGz(), "out", 1 << 20, 10));
    assertEquals(ErrorCode.FORBIDDEN_PATH, e.code());
    assertFalse(Files.exists(outside.resolve("f")));
  }

  @Test
  void directoryEntryReplacesAnExistingSymlinkInsteadOfWritingThroughIt() throws Exception {
    Files.createSymbolicLink(wd.root().resolve("d"), outside);
    extract(new ArchiveBuilder().dir("d").file("d/f", "inside"));
    assertTrue(Files.isDirectory(wd.root().resolve("d"), LinkOption.NOFOLLOW_LINKS));
    assertEquals("inside", Files.readString(wd.root().resolve("d/f")));
    assertFalse(Files.exists(outside.resolve("f")));
  }

  @Test
  void laterEntryOfTheSameNameWins() throws Exception {
    extract(new ArchiveBuilder().file("f", "first").file("f", "second"));
    assertArrayEquals("second".getBytes(StandardCharsets.UTF_8), Files.readAllBytes(wd.root().resolve("f")));
  }

  private static byte[] gzip(byte[] b) throws IOException {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    try (java.util.zip.GZIPOutputStream gz = new java.util.zip.GZIPOutputStream(out)) {
      gz.write(b);
    }
    return out.toByteArray();
  }
}
