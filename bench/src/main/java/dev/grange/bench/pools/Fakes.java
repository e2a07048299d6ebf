package dev.grange.bench.pools;

import dev.grange.bench.farm.ProcFs;
import dev.grange.node.pool.gce.FakeAgents;
import dev.grange.node.pool.gce.FakeCompute;
import dev.grange.node.pool.kube.FakeKubelet;
import dev.grange.node.pool.kube.KubeApiUse;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.HashMap;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The clouds of bench/pools, in the driver's JVM, as KubernetesPoolIT and GcePoolIT run them:
 * fabric8's mock API server in CRUD mode (plain http) with cluster-node's {@link FakeKubelet},
 * and {@link FakeCompute} with {@link FakeAgents}; both start a real agent process per instance
 * (the bench's agent classpath). Records when the mock server received each pod creation (its
 * dispatcher, this JVM's clock) and reads the agents' start and dial times. {@link #close} stops the watches, the agents and the
 * servers.
 */
final class Fakes implements AutoCloseable {
  static final String NAMESPACE = "grange-pool";
  static final String PROJECT = "grange-bench";

  /** When an agent's process started and, by its log, entered main and connected (epoch ms; -1: unknown). */
  record AgentTimes(long processStartMs, long mainMs, long connectedMs) {}

  private final KubernetesMockServer server;
  private final KubernetesClient client;
  private final FakeKubelet kubelet;
  private final FakeCompute gce;
  private final Path kubeletDir;
  private final Path gceDir;
  /** Kept: java.util.logging holds its loggers weakly, and the mock server logs every request at INFO. */
  private static final Logger MOCK_LOG = Logger.getLogger("io.fabric8.mockwebserver");
  private final Queue<Long> podPosts;

  private Fakes(KubernetesMockServer server, KubernetesClient client, FakeKubelet kubelet, FakeCompute gce, Path kubeletDir,
      Path gceDir, Queue<Long> podPosts) {
    this.podPosts = podPosts;
    this.server = server;
    this.client = client;
    this.kubelet = kubelet;
    this.gce = gce;
    this.kubeletDir = kubeletDir;
    this.gceDir = gceDir;
  }

  /** Starts both; the agents' files go under {@code dir}. Pods of {@code neverBootKube} stay Pending, no agent. */
  static Fakes start(Path dir, String java, String agentClasspath, String neverBootKube) throws IOException {
    MOCK_LOG.setLevel(Level.WARNING);
    Queue<Long> podPosts = new ConcurrentLinkedQueue<>();
    String pods = "/api/v1/namespaces/" + NAMESPACE + "/pods";
    KubernetesMockServer server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
        new KubernetesCrudDispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) {
            if (request.getMethod().equals("POST") && request.getPath().startsWith(pods)
                && (request.getPath().length() == pods.length() || request.getPath().charAt(pods.length()) == '?')) {
              podPosts.add(System.currentTimeMillis());
            }
            return super.dispatch(request);
          }
        }, false);
    server.init();
    KubernetesClient client = server.createClient();
    Path kubeletDir = Files.createDirectories(dir.resolve("kubelet"));
    Path gceDir = Files.createDirectories(dir.resolve("gce-agents"));
    FakeKubelet kubelet = new FakeKubelet(client, NAMESPACE, kubeletDir, java, agentClasspath, Duration.ofSeconds(5));
    kubelet.behave(neverBootKube, FakeKubelet.Behaviour.NEVER_BOOT);
    FakeCompute gce = FakeCompute.start(new FakeAgents(java, agentClasspath, gceDir, Duration.ofSeconds(10)));
    return new Fakes(server, client, kubelet, gce, kubeletDir, gceDir, podPosts);
  }

  /** {@code grange.pools.kubernetes.master-url}: http://127.0.0.1:PORT. */
  String kubeMasterUrl() {
    return server.url("/").replaceAll("/$", "");
  }

  /** {@code grange.pools.gce.endpoint}. */
  String gceEndpoint() {
    return gce.endpoint();
  }

  /** The fake Compute API (its requests, neverBoots). */
  FakeCompute gce() {
    return gce;
  }

  /** When the mock server received each pod creation from {@code sinceMs} on (epoch ms). */
  List<Long> podsCreated(long sinceMs) {
    return podPosts.stream().filter(t -> t >= sinceMs).toList();
  }

  /** When FakeCompute received each instance insert from {@code sinceMs} on (epoch ms). */
  List<Long> vmsInserted(long sinceMs) {
    return gce.requests(FakeCompute.Call.INSERT).stream().map(FakeCompute.Request::receivedAtMs).filter(t -> t >= sinceMs)
        .toList();
  }

  /** Pods left in the namespace. */
  int podsLeft() {
    return client.pods().inNamespace(NAMESPACE).list().getItems().size();
  }

  /** VMs left in the fake Compute (every name ever inserted, looked up). */
  int vmsLeft() {
    return (int) gce.requests(FakeCompute.Call.INSERT).stream().map(r -> r.body().path("name").asText()).distinct()
        .filter(n -> gce.instance(n).isPresent()).count();
  }

  /** The start of the agent process of pod or VM {@code instance} while it runs, epoch ms; -1 once it is gone. */
  long agentProcessStart(boolean kube, String instance) {
    if (kube) {
      return kubelet.agent(instance).map(a -> ProcFs.startedAtEpochMs(a.process().pid())).orElse(-1L);
    }
    return gce.agent(instance).map(h -> ProcFs.startedAtEpochMs(h.pid())).orElse(-1L);
  }

  /** The agent's "starting" and "Connected to" lines of its log (their timestamps), with {@code processStartMs}. */
  AgentTimes agentTimes(boolean kube, String instance, long processStartMs) {
    Path logFile = (kube ? kubeletDir : gceDir).resolve(instance).resolve("agent.log");
    long main = -1;
    long connected = -1;
    try {
      for (String line : Files.readAllLines(logFile)) {
        if (main < 0 && line.contains(" Agent [") && line.contains("] starting")) {
          main = stamp(line);
        } else if (connected < 0 && line.contains(" Connected to [")) {
          connected = stamp(line);
        }
      }
    } catch (IOException | RuntimeException e) {
      // Not there (yet): unknown.
    }
    return new AgentTimes(processStartMs, main, connected);
  }

  /** The agent log's timestamp, {@code 2026-12-03T13:20:01.123+00:00 INFO ...}. */
  static long stamp(String line) {
    return OffsetDateTime.parse(line.substring(0, line.indexOf(' '))).toInstant().toEpochMilli();
  }

  @Override
  public void close() {
    try {
      kubelet.close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    gce.close();
    client.close();
    server.destroy();
  }
}
