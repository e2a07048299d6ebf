package dev.grange.node;

import static dev.grange.node.testing.TestRepos.git;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigUtil;
import dev.grange.node.testing.TestNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The newcomer's first look: a node with {@code bin/grange up}'s own farm (grange-up.conf: its
 * local pool, the demo repository {@link DemoRepo} makes, its builder) fills the dashboard with
 * real post-submit results within a minute of its start, and a commit made in the demo repository
 * with the git CLI shows up as a new build after the next poll. Only the embedded Cassandra is the
 * tests' shared one instead.
 */
class DemoUpIT {
  private static final Duration FIRST_LOOK = Duration.ofMinutes(1);

  private static String section(Config up, String path) {
    return path + " " + up.getConfig(path).root().render(ConfigRenderOptions.concise());
  }

  private static boolean allOk(JsonNode grid, int commits) {
    JsonNode cs = grid.get("commits");
    if (cs.size() != commits) {
      return false;
    }
    for (JsonNode c : cs) {
      if (!c.path("cells").path("local-sh-check").path("state").asText().equals("ok")) {
        return false;
      }
    }
    return true;
  }

  @Test
  void theDashboardFillsWithinAMinuteAndANewLocalCommitIsBuilt() throws Exception {
    Path demo = Path.of("target", "it-var", "demo-up-" + System.nanoTime(), "demo-repo").toAbsolutePath();
    DemoRepo.ensure(demo);
    Config up = ConfigFactory.parseResources("grange-up.conf");
    String farm = String.join("\n", section(up, "grange.hosts"), section(up, "grange.repos"), section(up, "grange.builders"),
        "grange.repos.demo.url = " + ConfigUtil.quoteString(demo.toString()));
    String grid = "/api/v1/dashboard?repo=" + URLEncoder.encode(demo.toString(), StandardCharsets.UTF_8) + "&branch=main";
    long started = System.nanoTime();
    try (TestNode node = new TestNode("demoup", farm).start()) {
      Duration left = FIRST_LOOK.minusNanos(System.nanoTime() - started);
      JsonNode first = node.await(grid, g -> allOk(g, 3), left);
      assertEquals("Say how to make a new build", first.get("commits").get(0).get("subject").asText(), "newest first: " + first);

      Files.writeString(demo.resolve("NEW"), "a commit of the newcomer's own\n");
      git(demo, "add", "NEW");
      git(demo, "-c", "user.name=Newcomer", "-c", "user.email=new@example.com", "commit", "-q", "-m", "My first commit");
      String sha = git(demo, "rev-parse", "HEAD");
      // grange-up.conf polls the demo every 10 s: a poll, then the build.
      JsonNode after = node.await(grid, g -> allOk(g, 4), Duration.ofSeconds(90));
      assertEquals(sha, after.get("commits").get(0).get("rev").asText(), after.toString());
      assertEquals("Newcomer", after.get("commits").get(0).get("author").asText());
    }
  }
}
