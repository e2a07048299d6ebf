package dev.grange.node.postsubmit;

import static dev.grange.node.testing.TestRepos.commit;
import static dev.grange.node.testing.TestRepos.fileInTgz;
import static dev.grange.node.testing.TestRepos.git;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.grange.node.testing.TestNode;
import dev.grange.node.testing.TestRepos;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.eclipse.jgit.api.Git;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A repository mirrored by a cluster of three nodes (upstream a {@code file://} URL, polled every
 * 2 s): its post-submit builds fetch their source from a node's {@code /src} themselves ({@code
 * put_tar_url}) and see the tree of their commit; every node serves {@code /src} and {@code /git}
 * (the one running the mirror from its bare mirror, the others from their own cache). Then the
 * node running the mirror stops: the mirror starts on another node by itself (remembered), builds
 * its bare mirror there from upstream, lands the commit made meanwhile once (and nothing it had
 * landed before), and serving goes on.
 */
class MirrorsClusterIT {
  private static final Duration DEADLINE = Duration.ofSeconds(90);
  private static final List<TestNode> nodes = new ArrayList<>();
  private static Path up;

  @BeforeAll
  static void start() throws Exception {
    up = TestRepos.create("mirror-cluster-up", Map.of("README", "one\n"));
    nodes.addAll(TestNode.threeNodeCluster("mirrors", """
        grange.hosts { mc-local { pool = local, local { min = 1, max = 1 }, expected = 1 } }
        grange.repos { demo { url = "%s", branches = [main], poll = 2s, backfill = 2 } }
        grange.builders {
          mc-build {
            host-type = mc-local
            repos = [ { repo = demo, branches = [main] } ]
            steps = [ { name = cat, cmd = "/bin/sh", args = ["-c", "cat README"], sys = true, timeout = 1m } ]
          }
        }
        """.formatted(up.toUri())));
    for (TestNode n : nodes) {
      n.start();
    }
  }

  @AfterAll
  static void stop() throws Exception {
    for (TestNode n : nodes) {
      n.close();
    }
  }

  @Test
  void everyNodeServesTheMirrorAndItMovesWhenItsNodeStops() throws Exception {
    String two;
    try (Git git = Git.open(up.toFile())) {
      two = commit(git, up, "two");
    }
    // Backfill 2: "one" and "two" are built, each fetching its tree from a node's /src.
    List<String> firstBuilds = new ArrayList<>();
    for (String rev : List.of(git(up, "rev-parse", "HEAD~1"), two)) {
      String id = PostSubmitBuilds.buildId("mc-build", rev);
      JsonNode b = nodes.get(0).await("/api/v1/builds/" + id, MirrorsClusterIT::isOver, DEADLINE);
      assertEquals("ok", b.get("state").asText(), b.toString());
      assertEquals(rev.equals(two) ? "two\n" : "one\n", log(nodes.get(0), id), "the build saw the tree of its commit");
      JsonNode source = b.get("attempts").get(0).get("source");
      assertTrue(source.get("from").asText().matches("http://127\\.0\\.0\\.1:\\d+/src/demo\\.tar\\.gz\\?rev=" + rev), b.toString());
      assertTrue(nodes.stream().anyMatch(n -> source.get("from").asText().startsWith(n.base() + "/")), "from one of the nodes: " + source);
      assertEquals(1, source.get("files").asLong(), source.toString());
      firstBuilds.add(id);
    }

    JsonNode mirror = nodes.get(1).await("/api/v1/mirrors", j -> j.get(0).get("branches").path("main").asText().equals(two), DEADLINE).get(0);
    TestNode host = nodes.stream().filter(n -> n.base().equals(mirror.get("node").asText())).findFirst()
        .orElseThrow(() -> new AssertionError("the mirror runs on no node here: " + mirror));
    assertTrue(Files.isDirectory(host.varDir().resolve("mirrors/demo.git/objects")), "the bare mirror is on the node it runs on");
    Path work = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "mirror-cluster-clones");
    for (int i = 0; i < 3; i++) {
      assertServes(nodes.get(i), work.resolve("before-" + i), two, "two\n");
    }

    host.stop();
    List<TestNode> rest = nodes.stream().filter(n -> n != host).toList();
    String three;
    try (Git git = Git.open(up.toFile())) {
      three = commit(git, up, "three");
    }
    // Nothing here asks the mirror anything: it is started again on another node by sharding
    // itself, polls, and lands the new commit.
    String id = PostSubmitBuilds.buildId("mc-build", three);
    JsonNode b = rest.get(0).await("/api/v1/builds/" + id, MirrorsClusterIT::isOver, Duration.ofSeconds(180));
    assertEquals("ok", b.get("state").asText(), b.toString());
    assertEquals("three\n", log(rest.get(1), id));

    JsonNode moved = rest.get(1).await("/api/v1/mirrors", j -> j.get(0).get("branches").path("main").asText().equals(three), DEADLINE).get(0);
    assertNotEquals(host.base(), moved.get("node").asText(), "the mirror runs on another node now");
    assertEquals(3, moved.get("landedCommits").asInt(), "one, two, then three alone: nothing landed twice " + moved);
    TestNode newHost = rest.stream().filter(n -> n.base().equals(moved.get("node").asText())).findFirst().orElseThrow();
    assertTrue(Files.isDirectory(newHost.varDir().resolve("mirrors/demo.git/objects")), "rebuilt there from upstream");
    for (TestNode n : rest) {
      assertServes(n, work.resolve("after-" + n.port()), three, "three\n");
    }
    JsonNode grid = rest.get(0).json("/api/v1/dashboard?repo=" + java.net.URLEncoder.encode(up.toUri().toString(), StandardCharsets.UTF_8)
        + "&branch=main");
    assertEquals(3, grid.get("commits").size(), "one build per commit, never a second: " + grid);
    for (String old : firstBuilds) {
      assertEquals("ok", rest.get(0).json("/api/v1/builds/" + old).get("state").asText());
    }
  }

  /** {@code n} serves the tree at {@code sha} as a tarball and git over HTTP with {@code sha} at main's head. */
  private static void assertServes(TestNode n, Path clone, String sha, String readme) throws Exception {
    var tgz = n.getBytes("/src/demo.tar.gz?rev=" + sha);
    assertEquals(200, tgz.statusCode(), "GET /src from " + n.base());
    assertEquals(readme, fileInTgz(tgz.body(), "README"));
    git(clone.getParent(), "clone", "-q", n.base() + "/git/demo", clone.getFileName().toString());
    assertEquals(sha, git(clone, "rev-parse", "HEAD"), "cloned from " + n.base());
  }

  private static String log(TestNode n, String id) throws Exception {
    return new String(n.getBytes("/api/v1/builds/" + id + "/log").body(), StandardCharsets.UTF_8);
  }

  private static boolean isOver(JsonNode build) {
    return !List.of("queued", "running").contains(build.get("state").asText());
  }
}
