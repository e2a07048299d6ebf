package dev.grange.node.postsubmit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.grange.node.testing.TestNode;
import dev.grange.node.testing.TestRepos;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.revwalk.RevCommit;
import org.junit.jupiter.api.Test;

/**
 * A node mirroring a real repository on disk (polled every second) queues post-submit builds:
 * the branch's newest commits when it first sees it (backfill 2), then each new upstream commit
 * once, with ids derived from builder and commit; {@code /api/v1/mirrors} shows where the branch
 * is, and an upstream that cannot be reached is an error on its own mirror while the other goes on.
 */
class PostSubmitIT {
  private static final Duration DEADLINE = Duration.ofSeconds(60);

  @Test
  void newCommitsOnABuiltBranchBecomePostSubmitBuildsOnce() throws Exception {
    Path up = TestRepos.create("ps-upstream", Map.of("README", "one\n"));
    try (Git git = Git.open(up.toFile())) {
      commit(git, up, "two");
      String three = commit(git, up, "three");
      String url = up.toUri().toString();
      String farm = """
          grange.hosts { ps-rev { pool = reverse } }
          grange.repos {
            demo { url = "%s", branches = [main], poll = 1s, backfill = 2 }
            broken { url = "http://127.0.0.1:1/nothing.git", branches = [main], poll = 1s }
          }
          grange.builders {
            ps-build { host-type = ps-rev, repos = [ { repo = demo, branches = [main] } ], steps = [ { name = t, cmd = "true", sys = true } ] }
          }
          """.formatted(url);
      try (TestNode node = new TestNode("postsubmit", farm).start()) {
        String grid = "/api/v1/dashboard?repo=" + URLEncoder.encode(url, StandardCharsets.UTF_8) + "&branch=main";
        JsonNode g = node.await(grid, j -> j.get("commits").size() == 2, DEADLINE);
        assertEquals(three, g.get("commits").get(0).get("rev").asText(), "newest first");
        assertEquals("queued", g.get("commits").get(0).get("cells").get("ps-build").get("state").asText());

        String four = commit(git, up, "four");
        g = node.await(grid, j -> j.get("commits").size() == 3, DEADLINE);
        assertEquals(four, g.get("commits").get(0).get("rev").asText());
        String id = PostSubmitBuilds.buildId("ps-build", four);
        assertEquals(id, g.get("commits").get(0).get("cells").get("ps-build").get("buildId").asText(), "its id comes from builder and commit");
        JsonNode build = node.json("/api/v1/builds/" + id);
        assertEquals("post-submit", build.get("priority").asText());
        assertEquals("post-submit", build.get("user").asText());
        assertEquals("Test", build.get("author").asText().replaceAll(" <.*", ""));

        JsonNode mirrors = node.await("/api/v1/mirrors",
            j -> j.size() == 2 && j.get(1).get("branches").path("main").asText().equals(four) && j.get(0).get("failuresInARow").asInt() >= 1,
            DEADLINE);
        JsonNode broken = mirrors.get(0);
        JsonNode demo = mirrors.get(1);
        assertEquals("broken", broken.get("name").asText());
        assertTrue(!broken.get("lastError").isNull(), broken.toString());
        assertEquals("demo", demo.get("name").asText());
        assertTrue(demo.get("lastError").isNull(), demo.toString());
        assertEquals(3, demo.get("landedCommits").asInt(), "two backfilled, one new: " + demo);
        assertTrue(Files.isDirectory(node.varDir().resolve("mirrors/demo.git/objects")), "the bare mirror is under var/mirrors");
        // More polls land nothing new.
        node.await("/api/v1/mirrors", j -> j.get(1).get("lastFetchOkMs").asLong() > demo.get("lastFetchOkMs").asLong(), DEADLINE);
        assertEquals(3, node.json(grid).get("commits").size());
      }
    }
  }

  private static String commit(Git git, Path dir, String what) throws Exception {
    Files.writeString(dir.resolve("README"), what + "\n", StandardCharsets.UTF_8);
    git.add().addFilepattern("README").call();
    RevCommit c = git.commit().setMessage(what).setAuthor("Test", "t@example.com").setCommitter("Test", "t@example.com").call();
    return c.name();
  }
}
