package dev.grange.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigUtil;
import dev.grange.protocol.model.FarmConfig;
import java.nio.file.Path;
import java.util.List;
import org.eclipse.jgit.api.Git;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bin/grange up's demo repository: made once beside the master key, mirrored and built by the demo builder. */
class DemoRepoTest {
  @TempDir Path var;

  private Config up(String extra) {
    return ConfigFactory.parseString(extra + "\ngrange.node.master-key-file = " + ConfigUtil.quoteString(var.resolve("master.key").toString()))
        .withFallback(ConfigFactory.parseResources("grange-up.conf")).withFallback(ConfigFactory.load()).resolve();
  }

  @Test
  void upMakesTheDemoRepositoryOnceAndItsBuilderBuildsIt() throws Exception {
    Config c = DemoRepo.withDemo(up(""));
    Path repo = var.resolve("demo-repo");
    assertEquals(repo.toString(), c.getString("grange.repos.demo.url"));
    FarmConfig farm = FarmConfig.fromConfig(c);
    assertEquals(List.of("local-sh-check"), farm.buildersOf("demo", "main").stream().map(b -> b.name()).toList());
    String head;
    try (Git git = Git.open(repo.toFile())) {
      head = git.getRepository().resolve("refs/heads/main").name();
      int n = 0;
      for (var ignored : git.log().call()) {
        n++;
      }
      assertEquals(3, n, "a few commits to build");
      long previous = Long.MAX_VALUE;
      for (var commit : git.log().call()) {
        assertTrue(commit.getCommitTime() < previous, "each commit later than the one before it: the grid shows them in order");
        previous = commit.getCommitTime();
      }
    }
    DemoRepo.withDemo(up("")); // a second start leaves it alone
    try (Git git = Git.open(repo.toFile())) {
      assertEquals(head, git.getRepository().resolve("refs/heads/main").name());
    }
  }

  @Test
  void anOperatorsOwnUrlWins() {
    Config c = DemoRepo.withDemo(up("grange.repos.demo.url = \"https://example.com/mine.git\""));
    assertEquals("https://example.com/mine.git", c.getString("grange.repos.demo.url"));
    assertTrue(!var.resolve("demo-repo").toFile().exists(), "nothing made");
  }
}
