package dev.grange.bench.mirrors;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The webhook's signature is GitHub's. */
class NodeClientTest {
  @Test
  void theSignatureMatchesGitHubsDocumentedExample() {
    // docs.github.com, "Validating webhook deliveries": this secret and payload, this signature.
    assertEquals("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        NodeClient.signature("It's a Secret to Everybody", "Hello, World!".getBytes(StandardCharsets.UTF_8)));
  }
}
