package dev.grange.node.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.grange.node.postsubmit.PostSubmitIT;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/**
 * A GitHub payload names a mirrored repository by any of its URLs, whatever form the config wrote
 * it in; a Gerrit event by its project, the path of the upstream URL.
 */
class WebhookUrlTest {
  @Test
  void everyFormOfARepositoryUrlIsTheSameRepository() {
    for (String u : new String[] {"https://github.com/Codertocat/Hello-World.git", "git@github.com:Codertocat/Hello-World.git",
        "git://github.com/Codertocat/Hello-World.git", "ssh://git@GitHub.com/Codertocat/Hello-World", "https://github.com/Codertocat/Hello-World/"}) {
      assertEquals("github.com/Codertocat/Hello-World", WebhookRoutes.normal(u), u);
    }
    assertEquals("host:2222/o/r", WebhookRoutes.normal("ssh://git@host:2222/o/r.git"));
  }

  @Test
  void theRealPushPayloadNamesItsRepository() throws Exception {
    JsonNode push = ApiErrors.JSON.readTree(Files.readAllBytes(PostSubmitIT.webhooks().resolve("push.json")));
    assertTrue(WebhookRoutes.payloadNames(push, "git@github.com:Codertocat/Hello-World.git"));
    assertFalse(WebhookRoutes.payloadNames(push, "https://github.com/Codertocat/Other.git"));
  }

  @Test
  void aGerritProjectIsThePathOfTheUpstreamUrl() {
    assertTrue(WebhookRoutes.gerritProjectIs("https://go.googlesource.com/go", "go"));
    assertTrue(WebhookRoutes.gerritProjectIs("https://review.example.org/a/tools/x.git", "tools/x"), "authenticated prefix and .git dropped");
    assertTrue(WebhookRoutes.gerritProjectIs("ssh://bot@review.example.org:29418/tools/x", "tools/x"));
    assertFalse(WebhookRoutes.gerritProjectIs("https://go.googlesource.com/go", "tools/go"));
    assertFalse(WebhookRoutes.gerritProjectIs("https://go.googlesource.com/tools/go", "go"), "the whole path, not its end");
    assertFalse(WebhookRoutes.gerritProjectIs("https://go.googlesource.com/go", ""));
  }

  @Test
  void onlyBranchesAndTagsAreMirroredRefs() {
    assertTrue(WebhookRoutes.mirroredRef("refs/heads/master"));
    assertTrue(WebhookRoutes.mirroredRef("refs/tags/v1.2.3"));
    assertTrue(WebhookRoutes.mirroredRef("master"), "old Gerrit wrote a branch's bare name");
    assertFalse(WebhookRoutes.mirroredRef("refs/changes/34/1234/2"));
    assertFalse(WebhookRoutes.mirroredRef("refs/meta/config"));
    assertFalse(WebhookRoutes.mirroredRef(""));
  }
}
