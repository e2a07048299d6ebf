package dev.grange.node.testing;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.eclipse.jgit.api.Git;

/** Real git repositories for the integration tests to build: one commit on {@code main}. */
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
}
