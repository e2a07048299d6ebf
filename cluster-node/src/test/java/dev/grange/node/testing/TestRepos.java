package dev.grange.node.testing;

import java.io.ByteArrayInputStream;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.lib.PersonIdent;

/**
 * Real git repositories for the integration tests to build (one commit on {@code main}), and what
 * the tests do to them and with what is served of them: commits a minute apart, the git CLI, a
 * file of a gzip'd tar.
 */
public final class TestRepos {
  private TestRepos() {}

  /** A new repository under {@code target/} holding {@code files} (name to text; names ending in .sh are executable). */
  public static Path create(String prefix, Map<String, String> files) throws Exception {
    Path repo = Files.createTempDirectory(Path.of("target").toAbsolutePath(), prefix);
    for (Map.Entry<String, String> f : files.entrySet()) {
      Path p = repo.resolve(f.getKey());
      Files.createDirectories(p.getParent());
      Files.writeString(p, f.getValue(), StandardCharsets.UTF_8);
      if (f.getKey().endsWith(".sh")) {
        p.toFile().setExecutable(true);
      }
    }
    try (Git git = Git.init().setDirectory(repo.toFile()).setInitialBranch("main").call()) {
      git.add().addFilepattern(".").call();
      git.commit().setMessage("first").setAuthor("Test", "t@example.com").setCommitter("Test", "t@example.com").call();
    }
    return repo;
  }

  /** Each commit a minute after the one before (in seconds, as git keeps them): "newest first" is well defined. */
  private static long clock = System.currentTimeMillis() - 3_600_000;

  /** Commits {@code README} = {@code what} (and a newline) as "Test", a minute after the last; its sha. */
  public static synchronized String commit(Git git, Path dir, String what) throws Exception {
    Files.writeString(dir.resolve("README"), what + "\n", StandardCharsets.UTF_8);
    git.add().addFilepattern("README").call();
    clock += 60_000;
    PersonIdent who = new PersonIdent("Test", "t@example.com", Instant.ofEpochMilli(clock), ZoneOffset.UTC);
    return git.commit().setMessage(what).setAuthor(who).setCommitter(who).call().name();
  }

  /** Runs the git CLI in {@code dir}; its output, trimmed. Fails the test on a non-zero exit. */
  public static String git(Path dir, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("git"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("git " + String.join(" ", args) + " did not end");
    }
    if (p.exitValue() != 0) {
      throw new AssertionError("git " + String.join(" ", args) + " exited " + p.exitValue() + ": " + out);
    }
    return out.strip();
  }

  /** The text of file {@code name} in a gzip'd tar. */
  public static String fileInTgz(byte[] tgz, String name) throws Exception {
    try (TarArchiveInputStream tar = new TarArchiveInputStream(new GZIPInputStream(new ByteArrayInputStream(tgz)))) {
      for (var e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
        if (e.getName().equals(name)) {
          return new String(tar.readAllBytes(), StandardCharsets.UTF_8);
        }
      }
    }
    throw new AssertionError("no " + name + " in the archive");
  }
}
