package dev.grange.node.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.grange.node.GrangeNode;
import dev.grange.node.store.FreePorts;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * A real node for integration tests: the shared Cassandra (or a test's own), a unique keyspace, a free HTTP port,
 * a var dir under target/, and the farm config the test gives. Restartable on the same keyspace,
 * port and var dir, to prove that what was persisted survives.
 */
public final class TestNode implements AutoCloseable {
  public static final ObjectMapper JSON = new ObjectMapper();
  /** The master key of every test node: tests derive host keys from it. */
  public static final String MASTER_KEY = "test-master-key-0123456789abcdef0123456789";
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private final String keyspace;
  private final int port;
  private final int managementPort;
  private final int arteryPort;
  private final Path varDir;
  private final String farm;
  private final String contactPoint;
  private GrangeNode node;

  /** A node of its own: its own keyspace, a cluster of one. */
  public TestNode(String name, String farmConfig) throws IOException {
    this(SharedCassandra.uniqueKeyspace(name), FreePorts.loopback(1)[0], 0, farmConfig, null);
  }

  /** A node on the Cassandra at {@code contactPoint} (a test's own server); null: the shared one. */
  public TestNode(String name, String farmConfig, String contactPoint) throws IOException {
    this(SharedCassandra.uniqueKeyspace(name), FreePorts.loopback(1)[0], 0, farmConfig, contactPoint);
  }

  /**
   * A member of a cluster of test nodes: the members share {@code keyspace}, each has its own
   * {@code httpPort} and {@code arteryPort} (which the members' {@code pekko.cluster.seed-nodes}
   * in {@code farmConfig} name), var dir and a free management port.
   */
  public TestNode(String keyspace, int httpPort, int arteryPort, String farmConfig) throws IOException {
    this(keyspace, httpPort, arteryPort, farmConfig, null);
  }

  /**
   * Three members of one cluster on a fresh keyspace named after {@code name}, not started: each
   * gets {@code farm} after its own {@code pekko.cluster.seed-nodes} (all three) and {@code
   * grange.node.agent-urls} (its own node first, then the others, so its agents dial it first).
   */
  public static List<TestNode> threeNodeCluster(String name, String farm) throws IOException {
    String keyspace = SharedCassandra.uniqueKeyspace(name);
    int[] ports = FreePorts.loopback(6);
    List<String> seeds = new ArrayList<>();
    List<String> urls = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      seeds.add("\"pekko://grange@127.0.0.1:" + ports[3 + i] + "\"");
      urls.add("\"ws://127.0.0.1:" + ports[i] + "\"");
    }
    List<TestNode> nodes = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      List<String> own = new ArrayList<>(urls.subList(i, 3));
      own.addAll(urls.subList(0, i));
      String config = "pekko.cluster.seed-nodes = [" + String.join(", ", seeds) + "]\n"
          + "grange.node.agent-urls = [" + String.join(", ", own) + "]\n" + farm;
      nodes.add(new TestNode(keyspace, ports[i], ports[3 + i], config));
    }
    return nodes;
  }

  private TestNode(String keyspace, int httpPort, int arteryPort, String farmConfig, String contactPoint) throws IOException {
    this.keyspace = keyspace;
    this.port = httpPort;
    this.arteryPort = arteryPort;
    this.managementPort = FreePorts.loopback(1)[0];
    this.varDir = Path.of("target", "it-var", keyspace + (arteryPort == 0 ? "" : "-" + httpPort)).toAbsolutePath();
    this.farm = farmConfig;
    this.contactPoint = contactPoint;
  }

  public TestNode start() {
    Config c = ConfigFactory.parseString(farm)
        .withFallback(ConfigFactory.parseString(
            "grange.node.http.port = " + port + "\n"
                + "grange.node.var-dir = \"" + varDir + "\"\n"
                + "grange.node.master-key = \"" + MASTER_KEY + "\"\n"
                + "grange.store.keyspace = " + keyspace + "\n"
                + "grange.store.autocreate = on\n"
                + "pekko.remote.artery.canonical.port = " + arteryPort + "\n"
                + "pekko.management.http.port = " + managementPort + "\n"
                + "pekko.cluster.jmx.multi-mbeans-in-same-jvm = on\n"
                + "pekko.coordinated-shutdown.exit-jvm = off\n"))
        .withFallback(SharedCassandra.pekkoConfig(keyspace, contactPoint))
        .withFallback(ConfigFactory.load());
    node = GrangeNode.start(c.resolve());
    return this;
  }

  public void stop() throws Exception {
    if (node != null) {
      node.stop().toCompletableFuture().get(60, java.util.concurrent.TimeUnit.SECONDS);
      node = null;
    }
  }

  @Override
  public void close() throws Exception {
    stop();
  }

  public GrangeNode node() {
    return node;
  }

  public String base() {
    return "http://127.0.0.1:" + port;
  }

  public String wsUrl() {
    return "ws://127.0.0.1:" + port;
  }

  public int port() {
    return port;
  }

  public Path varDir() {
    return varDir;
  }

  /** GET on the node's Pekko Management port ({@code /alive}, {@code /ready}, {@code /cluster/members}). */
  public HttpResponse<String> management(String path) throws IOException, InterruptedException {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort + path))
            .timeout(Duration.ofSeconds(10)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  public HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return HTTP.send(HttpRequest.newBuilder(URI.create(base() + path)).timeout(Duration.ofSeconds(60)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  public HttpResponse<byte[]> getBytes(String path) throws IOException, InterruptedException {
    return HTTP.send(HttpRequest.newBuilder(URI.create(base() + path)).timeout(Duration.ofSeconds(120)).GET().build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  public HttpResponse<String> post(String path, String body) throws IOException, InterruptedException {
    return HTTP.send(HttpRequest.newBuilder(URI.create(base() + path)).timeout(Duration.ofSeconds(60))
            .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  public HttpResponse<String> delete(String path) throws IOException, InterruptedException {
    return HTTP.send(HttpRequest.newBuilder(URI.create(base() + path)).timeout(Duration.ofSeconds(60)).DELETE().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  public JsonNode json(String path) throws IOException, InterruptedException {
    HttpResponse<String> r = get(path);
    if (r.statusCode() != 200) {
      throw new AssertionError("GET " + path + " answered " + r.statusCode() + ": " + r.body());
    }
    return JSON.readTree(r.body());
  }

  /** Polls GET path until the JSON satisfies the condition or the deadline passes. */
  public JsonNode await(String path, Predicate<JsonNode> until, Duration deadline) throws Exception {
    long end = System.nanoTime() + deadline.toNanos();
    JsonNode last = null;
    while (System.nanoTime() < end) {
      HttpResponse<String> r = get(path);
      if (r.statusCode() == 200) {
        last = JSON.readTree(r.body());
        if (until.test(last)) {
          return last;
        }
      }
      Thread.onSpinWait();
      java.util.concurrent.locks.LockSupport.parkNanos(50_000_000L);
    }
    throw new AssertionError("GET " + path + " did not reach the expected state within " + deadline + "; last: " + last);
  }

  /** Submits a build of {@code builder} at {@code rev} of {@code repo}, which must be accepted (202); its id. */
  public String submit(String builder, Object repo, String rev) throws Exception {
    HttpResponse<String> r = post("/api/v1/builds", "{\"builder\":\"" + builder + "\",\"repo\":\"" + repo + "\",\"rev\":\"" + rev + "\"}");
    if (r.statusCode() != 202) {
      throw new AssertionError("submitting " + builder + ": " + r.statusCode() + " " + r.body());
    }
    return JSON.readTree(r.body()).get("id").asText();
  }

  /** Whether a build's JSON says it is over (neither queued nor running). */
  public static boolean isOver(JsonNode build) {
    String state = build.get("state").asText();
    return !state.equals("queued") && !state.equals("running");
  }
}
