package dev.grange.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import dev.grange.protocol.model.FarmConfig;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;

/**
 * Everything a node reads from config, read once at start ({@link #fromConfig}) and passed down.
 * A missing or wrong key stops start-up with a message that names it.
 */
public record NodeSettings(
    String httpInterface,
    int httpPort,
    Path varDir,
    byte[] masterKey,
    String publicWsUrl,
    int minAgentVersion,
    Duration heartbeat,
    Duration grace,
    Duration resumeClaimTimeout,
    Duration resumeMargin,
    Duration requestTimeout,
    long maxArchiveBytes,
    int maxInfraRetries,
    long maxApiBody,
    Duration logPollInterval,
    String agentClasspath,
    String agentJava,
    Duration localIdleTimeout,
    List<String> agentUrls,
    Duration localSettle,
    String keyspace,
    FarmConfig farm) {

  /** Reads {@code grange.node}, {@code grange.store}, {@code grange.hosts}, {@code grange.builders}. */
  public static NodeSettings fromConfig(Config root) {
    Config n = root.getConfig("grange.node");
    try {
      String iface = n.getString("http.interface");
      int port = n.getInt("http.port");
      String ws = n.getString("public-ws-url");
      if (ws.isEmpty()) {
        ws = "ws://" + (iface.equals("0.0.0.0") ? "127.0.0.1" : iface) + ":" + port;
      }
      String cp = n.getString("local-pool.agent-classpath");
      if (cp.isEmpty()) {
        cp = System.getProperty("java.class.path");
      }
      String java = n.getString("local-pool.agent-java");
      if (java.isEmpty()) {
        java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      }
      return new NodeSettings(
          iface,
          port,
          Path.of(n.getString("var-dir")),
          masterKey(n),
          ws,
          n.getInt("buildlet.min-agent-version"),
          positive(n, "buildlet.heartbeat"),
          n.getDuration("buildlet.grace"),
          positive(n, "buildlet.resume-claim-timeout"),
          n.getDuration("buildlet.resume-margin"),
          positive(n, "buildlet.request-timeout"),
          n.getBytes("builds.max-archive-bytes"),
          n.getInt("builds.max-infra-retries"),
          n.getBytes("api.max-body"),
          positive(n, "api.log-poll-interval"),
          cp,
          java,
          positive(n, "local-pool.idle-timeout"),
          agentUrls(n, ws),
          positive(n, "local-pool.settle"),
          root.getString("grange.store.keyspace"),
          FarmConfig.fromConfig(root));
    } catch (ConfigException e) {
      throw new IllegalArgumentException("bad node config: " + e.getMessage(), e);
    }
  }

  /** {@code agent-urls}, or only {@code ws} when empty; each a ws:// or wss:// URL, no duplicates. */
  private static List<String> agentUrls(Config n, String ws) {
    List<String> urls = n.getStringList("agent-urls");
    if (urls.isEmpty()) {
      return List.of(ws);
    }
    for (String u : urls) {
      URI uri;
      try {
        uri = new URI(u);
      } catch (URISyntaxException e) {
        throw new IllegalArgumentException("grange.node.agent-urls: \"" + u + "\" is not a URL: " + e.getMessage(), e);
      }
      if (!("ws".equals(uri.getScheme()) || "wss".equals(uri.getScheme())) || uri.getHost() == null) {
        throw new IllegalArgumentException("grange.node.agent-urls: \"" + u + "\" must be ws://HOST:PORT or wss://HOST:PORT");
      }
    }
    if (new java.util.HashSet<>(urls).size() != urls.size()) {
      throw new IllegalArgumentException("grange.node.agent-urls: names a URL twice: " + urls);
    }
    return List.copyOf(urls);
  }

  private static Duration positive(Config c, String key) {
    Duration d = c.getDuration(key);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException("grange.node." + key + ": must be a positive duration, got " + d);
    }
    return d;
  }

  private static byte[] masterKey(Config n) {
    String inline = n.getString("master-key");
    if (!inline.isEmpty()) {
      return inline.getBytes(StandardCharsets.UTF_8);
    }
    Path file = Path.of(n.getString("master-key-file"));
    try {
      String s = Files.readString(file, StandardCharsets.UTF_8).trim();
      if (s.length() < 32) {
        throw new IllegalArgumentException(
            "grange.node.master-key-file: " + file + " holds fewer than 32 characters; use a long random key");
      }
      return s.getBytes(StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "grange.node.master-key-file: cannot read " + file + " (" + e.getMessage()
              + "); set grange.node.master-key or create the file with a long random key", e);
    }
  }

  /** Creates a random master key file if there is none (the embedded default's first start). */
  public static void ensureMasterKeyFile(Path file) throws IOException {
    if (Files.exists(file)) {
      return;
    }
    Files.createDirectories(file.toAbsolutePath().getParent());
    byte[] key = new byte[32];
    new java.security.SecureRandom().nextBytes(key);
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, HexFormat.of().formatHex(key) + "\n", StandardCharsets.UTF_8);
    try {
      Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    } catch (UnsupportedOperationException ignored) {
      // Not a POSIX file system: the file's ACLs are the operator's to set.
    }
    Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  /** The URL agents started by this node dial. */
  public String agentConnectUrl() {
    return publicWsUrl;
  }
}
