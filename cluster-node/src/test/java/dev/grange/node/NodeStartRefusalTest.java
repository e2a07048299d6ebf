package dev.grange.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.grange.node.store.FreePorts;
import dev.grange.protocol.model.InvalidConfigException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A node with a bad builder or node setting refuses to start, with one line per problem naming
 * its key, before it binds its port or joins a cluster: an operator's typo never runs half a farm.
 */
class NodeStartRefusalTest {
  private static Config config(String farm) {
    return ConfigFactory.parseString(farm)
        .withFallback(ConfigFactory.parseString("grange.node.master-key = \"0123456789abcdef0123456789abcdef\""))
        .withFallback(ConfigFactory.load())
        .resolve();
  }

  @Test
  void aBuilderWithAMissingHostTypeAndABadTimeoutIsRefusedNamingBothKeys() throws IOException {
    int port = FreePorts.loopback(1)[0];
    Config c = config("""
        grange.node.http.port = %d
        grange.hosts { linux { pool = reverse } }
        grange.builders {
          a { host-type = linxu, steps = [ { name = make, cmd = make } ] }
          b { host-type = linux, steps = [ { name = test, cmd = go, timeout = "-1m" } ] }
        }
        """.formatted(port));
    InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> GrangeNode.start(c));
    assertTrue(e.getMessage().contains("grange.builders.a.host-type"), e.getMessage());
    assertTrue(e.getMessage().contains("grange.builders.b.steps[0].timeout"), e.getMessage());
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress("127.0.0.1", port)); // the node never bound it
    }
  }

  @Test
  void aBadCloudPoolSettingIsRefusedNamingItsKeyBeforeThePortIsBound() throws IOException {
    int port = FreePorts.loopback(1)[0];
    String hosts = """
        grange.node.http.port = %d
        grange.hosts { kube { pool = kubernetes, kubernetes { image = "agent:1" } } }
        """.formatted(port);
    IllegalArgumentException warm = assertThrows(IllegalArgumentException.class,
        () -> GrangeNode.start(config(hosts + "grange.pools.kubernetes.warm { kueb = 1 }")));
    assertTrue(warm.getMessage().startsWith("grange.pools.kubernetes.warm.kueb: no host type kueb"), warm.getMessage());
    IllegalArgumentException rate = assertThrows(IllegalArgumentException.class,
        () -> GrangeNode.start(config(hosts + "grange.pools.kubernetes.api-rate = 0")));
    assertTrue(rate.getMessage().contains("grange.pools.kubernetes.api-rate"), rate.getMessage());
    IllegalArgumentException ns = assertThrows(IllegalArgumentException.class,
        () -> GrangeNode.start(config(hosts + "grange.pools.kubernetes.namespace = \"Not_A_Label\"")));
    assertTrue(ns.getMessage().contains("grange.pools.kubernetes.namespace"), ns.getMessage());
    IllegalArgumentException backoff = assertThrows(IllegalArgumentException.class,
        () -> GrangeNode.start(config(hosts + "grange.pools.kubernetes.create-backoff.quota = 0s")));
    assertEquals("grange.pools.kubernetes.create-backoff.quota must be positive", backoff.getMessage());
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress("127.0.0.1", port)); // the node never bound it
    }
  }

  @Test
  void aRepoOverSshWithoutAReadableKeyIsRefusedNamingTheKeyBeforeThePortIsBound(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
      throws IOException {
    int port = FreePorts.loopback(1)[0];
    String farm = """
        grange.node.http.port = %d
        grange.repos { go { url = "https://go.googlesource.com/go", branches = [master], push = ["git@github.com:golang/go.git"] } }
        """.formatted(port);
    IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> GrangeNode.start(config(farm)));
    assertTrue(none.getMessage().startsWith("grange.git-ssh.identity-file: grange.repos.go uses ssh"), none.getMessage());

    java.nio.file.Path key = tmp.resolve("missing_id_ed25519");
    IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> GrangeNode.start(config(
        farm + "grange.git-ssh { identity-file = \"" + key + "\", known-hosts-file = \"" + key + "\" }")));
    assertEquals("grange.git-ssh.identity-file: the private key " + key + " does not exist", missing.getMessage());

    java.nio.file.Path present = java.nio.file.Files.writeString(tmp.resolve("id_ed25519"), "not shown");
    IllegalArgumentException hosts = assertThrows(IllegalArgumentException.class, () -> GrangeNode.start(config(
        farm + "grange.git-ssh.identity-file = \"" + present + "\"")));
    assertTrue(hosts.getMessage().startsWith("grange.git-ssh.known-hosts-file: with strict-host-key-checking on"), hosts.getMessage());
    assertTrue(!hosts.getMessage().contains("not shown"), "the key's bytes are never shown");
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress("127.0.0.1", port)); // the node never bound it
    }
  }

  @Test
  void aNonPositiveHeartbeatIsRefusedNamingTheKey() {
    Config c = config("grange.node.buildlet.heartbeat = 0s");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NodeSettings.fromConfig(c));
    assertTrue(e.getMessage().contains("grange.node.buildlet.heartbeat"), e.getMessage());
  }

  @Test
  void agentUrlsDefaultToTheNodesOwnAndMustBeWebSocketUrls() {
    assertEquals(List.of("ws://127.0.0.1:8080"), NodeSettings.fromConfig(config("")).agentUrls());
    assertEquals(List.of("ws://127.0.0.1:8081", "ws://127.0.0.1:8080"),
        NodeSettings.fromConfig(config("grange.node.agent-urls = [\"ws://127.0.0.1:8081\", \"ws://127.0.0.1:8080\"]")).agentUrls());
    for (String bad : List.of("[\"http://127.0.0.1:8080\"]", "[\"127.0.0.1:8080\"]", "[\"ws://a:1\", \"ws://a:1\"]")) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> NodeSettings.fromConfig(config("grange.node.agent-urls = " + bad)), bad);
      assertTrue(e.getMessage().contains("grange.node.agent-urls"), e.getMessage());
    }
  }

  @Test
  void aManagementPortInUseStopsTheNodeNamingTheKey() throws IOException {
    try (ServerSocket taken = new ServerSocket()) {
      taken.bind(new InetSocketAddress("127.0.0.1", 0));
      int[] ports = FreePorts.loopback(1);
      Config c = config("""
          grange.node.http.port = %d
          pekko.remote.artery.canonical.port = 0
          pekko.management.http.port = %d
          pekko.coordinated-shutdown.exit-jvm = off
          """.formatted(ports[0], taken.getLocalPort()));
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> GrangeNode.start(c));
      assertTrue(e.getMessage().contains("pekko.management.http.port " + taken.getLocalPort()), e.getMessage());
    }
  }
}
