package dev.grange.agent.files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grange.agent.channel.OpException;
import dev.grange.protocol.wire.ErrorCode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkDirTest {
  @TempDir Path tmp;
  Path outside;
  WorkDir wd;

  @BeforeEach
  void setUp() throws IOException {
    outside = Files.createDirectories(tmp.resolve("outside"));
    wd = new WorkDir(tmp.resolve("work"), tmp.resolve("work.staging"));
  }

  private static void assertForbidden(org.junit.jupiter.api.function.Executable e) {
    OpException x = assertThrows(OpException.class, e);
    assertEquals(ErrorCode.FORBIDDEN_PATH, x.code(), x.getMessage());
  }

  @Test
  void dotIsTheWorkdirItself() throws Exception {
    assertEquals(wd.root(), wd.resolve("."));
    assertEquals(wd.root(), wd.resolve(""));
    assertEquals(wd.root(), wd.locate("."));
  }

  @Test
  void dotDotComponentIsRefused() {
    assertForbidden(() -> wd.resolve("a/../b"));
    assertForbidden(() -> wd.resolve(".."));
    assertForbidden(() -> wd.locate("x/../../etc"));
  }

  @Test
  void absolutePathAndDriveLetterAreRefused() {
    assertForbidden(() -> wd.resolve("/etc"));
    assertForbidden(() -> wd.locate("/etc/passwd"));
    assertForbidden(() -> wd.resolve("C:/Windows"));
    assertForbidden(() -> wd.resolve("a\\b"));
  }

  @Test
  void symlinkOutOfTheWorkdirIsRefusedButTheLinkItselfCanBeReplaced() throws Exception {
    Files.createSymbolicLink(wd.root().resolve("out"), outside);
    assertForbidden(() -> wd.resolve("out"));
    assertForbidden(() -> wd.resolve("out/x"));
    assertForbidden(() -> wd.locate("out/x"));
    // write_file and remove_all act on the link, never on what it points to.
    assertEquals(wd.root().resolve("out"), wd.locate("out"));
  }

  @Test
  void danglingSymlinkOutOfTheWorkdirIsRefusedAsAParent() throws Exception {
    Files.createSymbolicLink(wd.root().resolve("dangling"), outside.resolve("not/yet/there"));
    assertForbidden(() -> wd.locate("dangling/file"));
    assertForbidden(() -> wd.resolve("dangling"));
  }

  @Test
  void symlinkInsideTheWorkdirIsFollowed() throws Exception {
    Path sub = Files.createDirectories(wd.root().resolve("a/b"));
    Files.createSymbolicLink(wd.root().resolve("l"), Path.of("a/b"));
    assertEquals(sub, wd.resolve("l"));
    assertEquals(sub.resolve("f"), wd.locate("l/f"));
  }

  @Test
  void dotDotAfterASymlinkGoesUpFromWhereTheLinkLedLikeTheKernel() throws Exception {
    Files.createDirectories(wd.root().resolve("a/b"));
    Files.createSymbolicLink(wd.root().resolve("x"), Path.of("a/b"));
    // x/../.. is a/b/../.. = the workdir (a lexical reading would say "..").
    Files.createSymbolicLink(wd.root().resolve("y"), Path.of("x/../.."));
    assertEquals(wd.root(), wd.resolve("y"));
    // x/../../.. leaves it.
    Files.createSymbolicLink(wd.root().resolve("z"), Path.of("x/../../.."));
    assertForbidden(() -> wd.resolve("z"));
  }

  @Test
  void symlinkLoopIsRefused() throws Exception {
    Files.createSymbolicLink(wd.root().resolve("p"), Path.of("q"));
    Files.createSymbolicLink(wd.root().resolve("q"), Path.of("p"));
    assertForbidden(() -> wd.resolve("p/x"));
  }

  @Test
  void stagingAreaIsNextToTheWorkdirNeverInside() throws Exception {
    assertTrue(!wd.staging().startsWith(wd.root()));
    assertEquals(wd.root().getParent(), wd.staging().getParent());
    assertThrows(IllegalArgumentException.class, () -> new WorkDir(tmp.resolve("w2"), tmp.resolve("w2/staging")));
  }
}
