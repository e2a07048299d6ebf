package dev.grange.node.postsubmit;

import static dev.grange.node.testing.TestRepos.commit;
import static dev.grange.node.testing.TestRepos.fileInTgz;
import static dev.grange.node.testing.TestRepos.git;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.grange.node.testing.TestNode;
import dev.grange.node.testing.TestRepos;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.eclipse.jgit.api.Git;
import org.junit.jupiter.api.Test;

/**
 * A node mirroring a real repository on disk (polled once an hour) queues post-submit builds:
 * the branch's newest commits when it first sees it (backfill 2), then each new upstream commit
 * once (brought by a signed GitHub push webhook, the real payload, and at last by a Gerrit
 * ref-updated event with a bearer token), with ids derived from builder and commit; bad or missing
 * signatures and tokens, oversized bodies and unknown repositories are refused, events and refs
 * that are not mirrored are ignored; the tree is served as a tarball and over git's smart HTTP
 * (clone, shallow clone, fetch, by the real git CLI); {@code /api/v1/mirrors} shows where the
 * branch is, and an upstream that cannot be reached (polled every second) is an error on its own
 * mirror while the other goes on.
 */
public class PostSubmitIT {
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
            demo { url = "%s", branches = [main], poll = 1h, backfill = 2, webhook-secret = "s3cret" }
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

        // Polled once an hour: the new commit comes by webhook (the real GitHub push payload, signed).
        String four = commit(git, up, "four");
        byte[] push = Files.readAllBytes(webhooks().resolve("push.json"));
        assertEquals(401, webhook(node, "/webhooks/github/demo", push, "sha256=" + "00".repeat(32)).statusCode(), "a bad signature");
        assertEquals(401, webhook(node, "/webhooks/github/demo", push, null).statusCode(), "no signature");
        assertEquals(413, webhook(node, "/webhooks/github/demo", new byte[1024 * 1024 + 1], sign("s3cret", new byte[1024 * 1024 + 1])).statusCode());
        assertEquals(404, webhook(node, "/webhooks/github", push, sign("s3cret", push)).statusCode(),
            "signed, but the payload's repository (Codertocat/Hello-World) is not mirrored here");
        HttpResponse<String> r = webhook(node, "/webhooks/github/demo", push, sign("s3cret", push));
        assertEquals(202, r.statusCode(), r.body());
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
        // The tree at a commit, as agents will fetch it.
        HttpResponse<byte[]> tgz = node.getBytes("/src/demo.tar.gz?rev=" + four);
        assertEquals(200, tgz.statusCode());
        assertEquals("four\n", fileInTgz(tgz.body(), "README"), "the tree at that commit");
        assertEquals(200, node.getBytes("/src/demo.tar.gz?rev=" + three).statusCode());
        assertEquals("three\n", fileInTgz(node.getBytes("/src/demo.tar.gz?rev=" + three).body(), "README"));
        assertEquals(404, node.get("/src/nope.tar.gz?rev=" + four).statusCode(), "unknown repository");
        assertEquals(400, node.get("/src/demo.tar.gz?rev=" + four.substring(0, 12)).statusCode(), "not a full sha");
        assertEquals(400, node.get("/src/demo.tar.gz").statusCode(), "no rev");
        assertEquals(404, node.get("/src/demo.tar.gz?rev=" + "0".repeat(40)).statusCode(), "a commit it does not have");

        // Another delivery of the same push lands nothing new.
        assertEquals(202, webhook(node, "/webhooks/github/demo", push, sign("s3cret", push)).statusCode());
        node.await("/api/v1/mirrors", j -> j.get(1).get("lastFetchOkMs").asLong() > demo.get("lastFetchOkMs").asLong(), DEADLINE);
        assertEquals(3, node.json(grid).get("commits").size());

        // git over HTTP, with the real git CLI: clone, shallow clone, fetch after a new commit; read-only.
        String gitUrl = node.base() + "/git/demo";
        Path work = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "ps-clones");
        git(work, "clone", "-q", gitUrl, "full");
        assertEquals(four, git(work.resolve("full"), "rev-parse", "HEAD"));
        assertEquals("four", Files.readString(work.resolve("full/README")).strip(), "main checked out");
        git(work, "clone", "-q", "--depth", "1", gitUrl, "shallow");
        assertEquals("1", git(work.resolve("shallow"), "rev-list", "--count", "HEAD"));
        String five = commit(git, up, "five");
        assertEquals(202, webhook(node, "/webhooks/github/demo", push, sign("s3cret", push)).statusCode());
        node.await("/api/v1/mirrors", j -> j.get(1).get("branches").path("main").asText().equals(five), DEADLINE);
        git(work.resolve("full"), "fetch", "-q");
        assertEquals(five, git(work.resolve("full"), "rev-parse", "origin/main"));
        assertEquals(403, node.get("/git/demo/info/refs?service=git-receive-pack").statusCode(), "read-only");

        // Gerrit's ref-updated event (the webhooks plugin's JSON), with the secret as a bearer token.
        String six = commit(git, up, "six");
        String refUpdated = """
            {"submitter":{"name":"Test","email":"test@example.com"},"refUpdate":{"oldRev":"%s","newRev":"%s",\
            "refName":"refs/heads/main","project":"demo"},"type":"ref-updated","eventCreatedOn":1733220000}""".formatted(five, six);
        assertEquals(401, gerrit(node, "/webhooks/gerrit/demo", refUpdated, "Bearer wrong").statusCode(), "a wrong token");
        assertEquals(401, gerrit(node, "/webhooks/gerrit/demo", refUpdated, null).statusCode(), "no token");
        HttpResponse<String> ignored = gerrit(node, "/webhooks/gerrit/demo", refUpdated.replace("refs/heads/main", "refs/changes/01/1/1"), "Bearer s3cret");
        assertEquals(200, ignored.statusCode(), ignored.body());
        assertTrue(ignored.body().contains("only branches and tags"), ignored.body());
        assertEquals(200, gerrit(node, "/webhooks/gerrit/demo", "{\"type\":\"patchset-created\"}", "Bearer s3cret").statusCode());
        assertEquals(400, gerrit(node, "/webhooks/gerrit/demo", "not json", "Bearer s3cret").statusCode());
        assertEquals(404, gerrit(node, "/webhooks/gerrit", refUpdated, "Bearer s3cret").statusCode(),
            "no repository's upstream is the Gerrit project demo (its upstream is a file:// path)");
        HttpResponse<String> accepted = gerrit(node, "/webhooks/gerrit/demo", refUpdated, "Bearer s3cret");
        assertEquals(202, accepted.statusCode(), accepted.body());
        node.await(grid, j -> j.get("commits").get(0).get("rev").asText().equals(six), DEADLINE);

        // A build of the builder asked for by hand at a commit stands for it: when the commit lands, no
        // post-submit build is added. Landings are queued in order, so once eight's build is queued,
        // seven's was settled.
        String seven = commit(git, up, "seven");
        HttpResponse<String> manual = node.post("/api/v1/builds", "{\"builder\":\"ps-build\",\"repo\":\"" + url + "\",\"rev\":\"" + seven + "\"}");
        assertEquals(202, manual.statusCode(), manual.body());
        String manualId = TestNode.JSON.readTree(manual.body()).get("id").asText();
        String byCommit = "/api/v1/dashboard?repo=" + URLEncoder.encode(url, StandardCharsets.UTF_8) + "&branch=";
        node.await(byCommit, j -> j.get("commits").get(0).path("cells").path("ps-build").path("buildId").asText().equals(manualId), DEADLINE);
        assertEquals(202, gerrit(node, "/webhooks/gerrit/demo", refUpdated.replace(six, seven), "Bearer s3cret").statusCode());
        node.await("/api/v1/mirrors", j -> j.get(1).get("branches").path("main").asText().equals(seven), DEADLINE);
        String eight = commit(git, up, "eight");
        assertEquals(202, gerrit(node, "/webhooks/gerrit/demo", refUpdated.replace(six, eight), "Bearer s3cret").statusCode());
        String eightId = PostSubmitBuilds.buildId("ps-build", eight);
        g = node.await(grid, j -> j.get("commits").get(0).path("cells").path("ps-build").path("buildId").asText().equals(eightId), DEADLINE);
        assertEquals(404, node.get("/api/v1/builds/" + PostSubmitBuilds.buildId("ps-build", seven)).statusCode(),
            "no post-submit build beside the one asked for by hand");
        assertEquals(six, g.get("commits").get(1).get("rev").asText(), "seven has no build on the branch's grid: " + g);
        assertEquals(404, node.get("/git/nope/info/refs?service=git-upload-pack").statusCode());
      }
    }
  }

  private static HttpResponse<String> webhook(TestNode node, String path, byte[] body, String signature) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(node.base() + path))
        .header("Content-Type", "application/json").header("X-GitHub-Event", "push")
        .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (signature != null) {
      b.header("X-Hub-Signature-256", signature);
    }
    return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> gerrit(TestNode node, String path, String event, String authorization) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(node.base() + path))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(event));
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String sign(String secret, byte[] body) throws Exception {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
  }

  /** ../shared/data/github-webhooks, found from the module's directory upwards. */
  public static Path webhooks() {
    for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
      Path p = d.resolveSibling("shared").resolve("data").resolve("github-webhooks");
      if (Files.isDirectory(p)) {
        return p;
      }
    }
    throw new AssertionError("test data ../shared/data/github-webhooks not found above " + Path.of("").toAbsolutePath());
  }
}
