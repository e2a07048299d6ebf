package dev.grange.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grange.agent.files.ArchiveBuilder;
import dev.grange.protocol.wire.AgentFrame;
import dev.grange.protocol.wire.ErrorCode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Proves the path rule of PROTOCOL.md section 4 on every operation that takes a path: a
 * {@code ..} component, an absolute path, a drive letter, or a path through a symlink that
 * leads out of the workdir (absolute, relative or dangling) is refused with {@code
 * forbidden_path}, the message names the path, and neither the workdir nor a sentinel outside
 * it changes. Each test ends with the same operation on a good path, which works.
 */
class ForbiddenPathTest {
  /** Directories an operation works in. */
  private static final List<String> BAD_DIRS = List.of(
      "..", "../outside", "/", "$OUTSIDE", "escape", "rel-escape", "escape/inner", "dangling",
      "sub/../..", "C:/Windows");
  /** Files an operation creates, replaces or removes. */
  private static final List<String> BAD_FILES = List.of(
      "../f", "../outside/secret.txt", "/etc/passwd", "$OUTSIDE/secret.txt", "escape/secret.txt",
      "rel-escape/secret.txt", "escape/new.txt", "dangling/new.txt", "sub/../../f", "C:/f");

  @RegisterExtension final AgentFixture f = new AgentFixture();
  private Surroundings around;
  private NodeSocket s;

  @BeforeEach
  void setUp() throws Exception {
    around = f.surroundings();
    s = f.socket();
  }

  /** Sends the request for each bad path and checks its refusal and that nothing changed. */
  private void assertEachRefused(List<String> paths, String op, Function<String, Long> request) {
    for (String bad : paths) {
      String path = around.expand(bad);
      AgentFrame.Error e = s.error(request.apply(path));
      assertEquals(ErrorCode.FORBIDDEN_PATH, e.code(), op + " " + path + ": " + e.message());
      assertTrue(e.message().contains("\"" + path + "\""), op + " " + path + ": the message should name the path: " + e.message());
      around.assertUnchanged(op + " " + path);
    }
  }

  @Test
  void execInADirOutsideTheWorkdirIsForbidden() {
    assertEachRefused(BAD_DIRS, "exec in", dir -> s.exec("x", "pwd", List.of(), dir, true, 0).id());
    NodeSocket.ExecCall good = s.exec("y", "pwd", List.of(), "sub", true, 0);
    s.reply(good.id(), AgentFrame.Started.class);
    assertEquals(around.workdir + "/sub\n", s.output(good.stream(), "y", 0).text());
  }

  @Test
  void execOfAWorkdirCommandOutsideTheWorkdirIsForbidden() {
    assertEachRefused(BAD_FILES, "exec of", cmd -> s.exec("x", cmd, List.of(), ".", false, 0).id());
  }

  @Test
  void lsOutsideTheWorkdirIsForbidden() {
    assertEachRefused(BAD_DIRS, "ls", dir -> s.ls(dir, true, true, List.of()));
    assertEquals("old.txt", s.lsEntries(s.ls("sub", false, false, List.of())).get(0).name());
  }

  @Test
  void getTarOutsideTheWorkdirIsForbidden() {
    assertEachRefused(BAD_DIRS, "get_tar", dir -> s.getTar(dir).id());
    assertTrue(s.download(s.getTar("sub").stream()).length > 0);
  }

  @Test
  void putTarIntoADirOutsideTheWorkdirIsForbidden() {
    byte[] archive = new ArchiveBuilder().file("pwned.txt", "pwned").tarGz();
    assertEachRefused(BAD_DIRS, "put_tar into", dir -> s.putTar(dir, archive, true));
    s.reply(s.putTar("sub", archive, true), AgentFrame.Ok.class);
    assertTrue(around.workdir.resolve("sub/pwned.txt").toFile().isFile());
  }

  @Test
  void writeFileOutsideTheWorkdirIsForbidden() {
    byte[] data = "pwned".getBytes(StandardCharsets.UTF_8);
    assertEachRefused(BAD_FILES, "write_file", path -> s.writeFile(path, "644", data));
    s.reply(s.writeFile("sub/new.txt", "644", data), AgentFrame.Ok.class);
    assertTrue(around.workdir.resolve("sub/new.txt").toFile().isFile());
  }

  @Test
  void writeFileOntoASymlinkReplacesTheLinkNotWhatItPointsTo() throws Exception {
    byte[] data = "mine".getBytes(StandardCharsets.UTF_8);
    s.reply(s.writeFile("escape", "644", data), AgentFrame.Ok.class);
    assertTrue(Files.isRegularFile(around.workdir.resolve("escape"), LinkOption.NOFOLLOW_LINKS));
    assertEquals("mine", Files.readString(around.workdir.resolve("escape")));
    assertEquals("the sentinel outside the workdir", Files.readString(around.outside.resolve("secret.txt")));
  }

  @Test
  void removeAllOutsideTheWorkdirIsForbiddenAndRemovesNothingElseOfTheList() {
    assertEachRefused(BAD_FILES, "remove_all", path -> s.removeAll("keep.txt", path));
    // A link is removed as a link: what it points to stays.
    s.reply(s.removeAll("escape", "keep.txt"), AgentFrame.Ok.class);
    assertTrue(!around.workdir.resolve("escape").toFile().exists() && !around.workdir.resolve("keep.txt").toFile().exists());
    assertTrue(around.outside.resolve("secret.txt").toFile().isFile(), "removing the link removed its target");
  }
}
