package dev.grange.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.grange.agent.files.TreeSnapshot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A workdir with ways out of it, and the proof that a refused operation used none: a directory
 * outside the workdir holding a sentinel file, symlinks from the workdir to it (absolute,
 * relative, dangling), and snapshots of both trees that {@link #assertUnchanged} compares byte
 * for byte.
 */
final class Surroundings {
  final Path workdir;
  final Path outside;
  private Map<String, String> workBefore;
  private Map<String, String> outsideBefore;

  private Surroundings(Path workdir, Path outside) {
    this.workdir = workdir;
    this.outside = outside;
  }

  /**
   * Lays out {@code keep.txt}, {@code sub/old.txt}, and the links {@code escape} (absolute, to
   * the outside dir), {@code rel-escape} (relative, to it) and {@code dangling} (to a missing
   * path outside), then takes the snapshots.
   */
  static Surroundings of(AgentFixture f) throws IOException {
    Path outside = Files.createDirectories(f.base().resolve("outside"));
    Files.writeString(outside.resolve("secret.txt"), "the sentinel outside the workdir");
    Path w = f.workdir();
    Files.writeString(w.resolve("keep.txt"), "keep me");
    Files.createDirectories(w.resolve("sub"));
    Files.writeString(w.resolve("sub/old.txt"), "old");
    Files.createSymbolicLink(w.resolve("escape"), outside);
    Files.createSymbolicLink(w.resolve("rel-escape"), w.relativize(outside));
    Files.createSymbolicLink(w.resolve("dangling"), outside.resolve("missing/dir"));
    Surroundings s = new Surroundings(w, outside);
    s.snapshot();
    return s;
  }

  /** {@code "$OUTSIDE"} in a path stands for the outside dir's absolute path. */
  String expand(String path) {
    return path.replace("$OUTSIDE", outside.toString());
  }

  void snapshot() {
    workBefore = TreeSnapshot.of(workdir);
    outsideBefore = TreeSnapshot.of(outside);
  }

  void assertUnchanged(String after) {
    assertEquals(workBefore, TreeSnapshot.of(workdir), "the workdir changed after " + after);
    assertEquals(outsideBefore, TreeSnapshot.of(outside), "the outside dir changed after " + after);
  }
}
