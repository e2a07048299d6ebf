package dev.grange.node;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.grange.node.store.FreePorts;
import dev.grange.node.testing.SharedCassandra;
import dev.grange.node.testing.TestNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two nodes with {@code grange.node.cluster-bootstrap = on} and no seed nodes form one cluster
 * through Pekko Cluster Bootstrap, as the Helm chart's pods do; here the contact points come from
 * config discovery (the chart uses Kubernetes API discovery, which needs a Kubernetes API).
 * Neither joins itself: with required-contact-point-nr = 2 they wait for each other.
 */
class ClusterBootstrapIT {
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private final List<TestNode> nodes = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (TestNode n : nodes) {
      n.close();
    }
  }

  private static JsonNode members(int managementPort) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort + "/cluster/members"))
        .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
    return r.statusCode() == 200 ? TestNode.JSON.readTree(r.body()).get("members") : null;
  }

  private static int ready(int managementPort) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort + "/ready"))
        .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  @Test
  void twoBootstrappingNodesFormOneClusterOfTwo() throws Exception {
    String keyspace = SharedCassandra.uniqueKeyspace("bootstrap");
    int[] ports = FreePorts.loopback(6); // http, artery, management for each
    String endpoints = "{ host = \"127.0.0.1\", port = " + ports[4] + " }, { host = \"127.0.0.1\", port = " + ports[5] + " }";
    for (int i = 0; i < 2; i++) {
      nodes.add(new TestNode(keyspace, ports[i], ports[2 + i], """
          grange.node.cluster-bootstrap = on
          pekko.management.http.port = %d
          pekko.management.cluster.bootstrap.contact-point-discovery {
            discovery-method = config
            service-name = grange-bootstrap-it
            required-contact-point-nr = 2
            stable-margin = 1s
            interval = 500ms
          }
          # One machine, so each node's management port differs: keep the endpoints whose port is not this node's own.
          pekko.management.cluster.bootstrap.contact-point.filter-on-fallback-port = false
          pekko.discovery.config.services.grange-bootstrap-it.endpoints = [ %s ]
          """.formatted(ports[4 + i], endpoints)));
    }
    for (TestNode n : nodes) {
      n.start();
    }
    for (int i = 0; i < 2; i++) {
      int management = ports[4 + i];
      long end = System.nanoTime() + Duration.ofSeconds(90).toNanos();
      JsonNode members = null;
      boolean formed = false;
      while (!formed && System.nanoTime() < end) {
        members = members(management);
        formed = members != null && members.size() == 2;
        for (JsonNode m : formed ? members : TestNode.JSON.createArrayNode()) {
          formed &= m.get("status").asText().equals("Up");
        }
        if (!formed) {
          LockSupport.parkNanos(100_000_000L);
        }
      }
      assertEquals(true, formed, "node " + (i + 1) + " sees both nodes Up within 90 s: " + members);
      assertEquals(200, ready(management), "node " + (i + 1) + " is ready");
    }
  }
}
