package dev.grange.node.pool.kube;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.grange.node.pool.cloud.Instance;
import dev.grange.node.pool.cloud.InstanceNames;
import dev.grange.node.pool.cloud.InstanceRequest;
import dev.grange.node.pool.cloud.InstanceState;
import dev.grange.node.pool.cloud.ProviderException;
import dev.grange.protocol.model.HostTypeSpec;
import dev.grange.protocol.model.KubernetesPoolSpec;
import dev.grange.protocol.model.PoolKind;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodListBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.WatchEvent;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The provider against fabric8's mock API server: in CRUD mode (it stores what it is sent and
 * serves watches; the tests play the kubelet by writing pod statuses) and, for the failures, in
 * expectations mode (it answers what each test tells it to). The client does not retry, as the
 * provider's own does not.
 */
@EnableKubernetesMockClient(crud = true, kubernetesClientBuilderCustomizer = KubernetesProviderTest.NoRetries.class)
class KubernetesProviderTest {
  static final String NS = "grange-pool";
  private static final Duration WAIT = Duration.ofSeconds(10);

  /** The mock client as the provider makes its own: no retries inside the client. */
  public static final class NoRetries implements Consumer<KubernetesClientBuilder> {
    @Override
    public void accept(KubernetesClientBuilder b) {
      b.editOrNewConfig().withRequestRetryBackoffLimit(0).endConfig();
    }
  }

  KubernetesMockServer server;
  KubernetesClient client;
  private ExecutorService blocking;
  private KubernetesProvider provider;
  private final List<AutoCloseable> closeLater = new ArrayList<>();

  @BeforeEach
  void start() {
    blocking = Executors.newFixedThreadPool(2);
    provider = new KubernetesProvider(new KubernetesProvider.Settings(NS, ""), client, blocking);
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : closeLater) {
      c.close();
    }
    provider.close();
    blocking.shutdownNow();
  }

  static HostTypeSpec hostType(String name) {
    return new HostTypeSpec(name, PoolKind.KUBERNETES, 0, 1, "", null,
        new KubernetesPoolSpec("registry.example/grange/linux-amd64:7", "2", "4Gi",
            Map.of("cloud.google.com/gke-nodepool", "builders"), List.of("GOFLAGS=-mod=mod", "EXTRA=a=b")),
        null, HostTypeSpec.DEFAULT_BOOT_TIMEOUT_MS, true);
  }

  static String freshKey() {
    byte[] b = new byte[32];
    new SecureRandom().nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  static InstanceRequest request(String hostType) {
    return request(hostType, List.of("ws://node-1:8080", "ws://node-2:8080"));
  }

  static InstanceRequest request(String hostType, List<String> nodeUrls) {
    return new InstanceRequest(InstanceNames.fresh(hostType), hostType(hostType), nodeUrls, freshKey(), 1_900_000_000L);
  }

  /** A request of host type linux-amd64 with this pod recipe. */
  static InstanceRequest request(KubernetesPoolSpec k) {
    HostTypeSpec spec = new HostTypeSpec("linux-amd64", PoolKind.KUBERNETES, 0, 1, "", null, k, null, 1000, false);
    return new InstanceRequest(InstanceNames.fresh("linux-amd64"), spec, List.of("ws://n:1"), freshKey(), 0);
  }

  static <T> T await(java.util.concurrent.CompletionStage<T> f) throws Exception {
    return f.toCompletableFuture().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The failure of {@code f}, which must fail. */
  static ProviderException failure(java.util.concurrent.CompletionStage<?> f) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> f.toCompletableFuture().get(WAIT.toMillis(), TimeUnit.MILLISECONDS));
    return assertInstanceOf(ProviderException.class, e.getCause());
  }

  /** {@code e} is of {@code kind} and its message says each of {@code phrases}. */
  static void assertSays(ProviderException e, ProviderException.Kind kind, String... phrases) {
    assertEquals(kind, e.kind(), e.getMessage());
    for (String p : phrases) {
      assertTrue(e.getMessage().contains(p), "[" + p + "] not in: " + e.getMessage());
    }
  }

  private static String decode(String base64) {
    return new String(Base64.getDecoder().decode(base64), StandardCharsets.UTF_8);
  }

  @Test
  void createMakesExactlyAPodAndItsOwnedSecretAndTheKeyOnlyInTheSecret() throws Exception {
    InstanceRequest r = request("linux-amd64");
    Instance made = await(provider.create(r));

    assertEquals(r.name(), made.name());
    assertEquals("linux-amd64", made.hostType());
    assertEquals(NS, made.location());
    assertEquals(InstanceState.PENDING, made.state());
    assertEquals(1_900_000_000L, made.deleteAtEpochSecond());

    List<Pod> pods = client.pods().inAnyNamespace().list().getItems();
    List<Secret> secrets = client.secrets().inAnyNamespace().list().getItems();
    assertEquals(1, pods.size(), "pods: " + pods);
    assertEquals(1, secrets.size(), "secrets: " + secrets);
    Pod pod = pods.get(0);
    Secret secret = secrets.get(0);
    Map<String, String> labels = Map.of(KubeApiUse.LABEL_HOST_TYPE, "linux-amd64", KubeApiUse.LABEL_INSTANCE, r.name(),
        KubeApiUse.LABEL_DELETE_AT, "1900000000");
    assertEquals(NS, pod.getMetadata().getNamespace());
    assertEquals(r.name(), pod.getMetadata().getName());
    assertEquals(labels, pod.getMetadata().getLabels());
    assertEquals("Never", pod.getSpec().getRestartPolicy());
    assertEquals(70L, pod.getSpec().getTerminationGracePeriodSeconds());
    assertEquals(Boolean.FALSE, pod.getSpec().getAutomountServiceAccountToken());
    assertEquals(Map.of("cloud.google.com/gke-nodepool", "builders"), pod.getSpec().getNodeSelector());

    assertEquals(1, pod.getSpec().getContainers().size());
    Container agent = pod.getSpec().getContainers().get(0);
    assertEquals("agent", agent.getName());
    assertEquals("registry.example/grange/linux-amd64:7", agent.getImage());
    Map<String, Quantity> resources = Map.of("cpu", new Quantity("2"), "memory", new Quantity("4Gi"));
    assertEquals(resources, agent.getResources().getRequests());
    assertEquals(resources, agent.getResources().getLimits());
    assertEquals(List.of(new EnvVar("GRANGE_HOST_TYPE", "linux-amd64", null), new EnvVar("GRANGE_INSTANCE", r.name(), null),
        new EnvVar("GOFLAGS", "-mod=mod", null), new EnvVar("EXTRA", "a=b", null)), agent.getEnv());
    assertEquals(1, agent.getVolumeMounts().size());
    assertEquals("/etc/grange", agent.getVolumeMounts().get(0).getMountPath());
    assertEquals(Boolean.TRUE, agent.getVolumeMounts().get(0).getReadOnly());
    Volume v = pod.getSpec().getVolumes().stream().filter(x -> x.getName().equals(agent.getVolumeMounts().get(0).getName()))
        .findFirst().orElseThrow();
    assertEquals(r.name(), v.getSecret().getSecretName());
    assertEquals(0440, v.getSecret().getDefaultMode(), "read by the agent's group only");
    assertEquals(KubeApiUse.AGENT_GID, pod.getSpec().getSecurityContext().getFsGroup(), "the agent's group owns the Secret's files");
    assertEquals(Boolean.TRUE, pod.getSpec().getSecurityContext().getRunAsNonRoot());

    String podJson = Serialization.asJson(pod);
    String keyBase64 = Base64.getEncoder().encodeToString(r.key().getBytes(StandardCharsets.US_ASCII));
    assertFalse(podJson.contains(r.key()), "the key is in the pod: " + podJson);
    assertFalse(podJson.contains(keyBase64), "the key is in the pod: " + podJson);

    assertEquals(r.name(), secret.getMetadata().getName());
    assertEquals(NS, secret.getMetadata().getNamespace());
    assertEquals(labels, secret.getMetadata().getLabels());
    assertEquals("Opaque", secret.getType());
    assertEquals(r.key(), decode(secret.getData().get("key")));
    assertEquals("ws://node-1:8080\nws://node-2:8080\n", decode(secret.getData().get("node-urls")));
    assertEquals(2, secret.getData().size());
    assertEquals(1, secret.getMetadata().getOwnerReferences().size());
    OwnerReference owner = secret.getMetadata().getOwnerReferences().get(0);
    assertNotNull(pod.getMetadata().getUid());
    assertEquals(pod.getMetadata().getUid(), owner.getUid());
    assertEquals("Pod", owner.getKind());
    assertEquals("v1", owner.getApiVersion());
    assertEquals(r.name(), owner.getName());
  }

  @Test
  void listMapsPhasesToStatesWithKubernetesOwnWords() throws Exception {
    Map<String, InstanceRequest> made = new java.util.LinkedHashMap<>();
    for (String k : List.of("new", "pulling", "backoff", "running", "succeeded", "evicted", "crashed", "deleting")) {
      InstanceRequest r = request("linux-amd64");
      await(provider.create(r));
      made.put(k, r);
    }
    // The test plays the kubelet.
    PodStatuses.put(client, NS, made.get("pulling").name(), PodStatuses.waiting("ErrImagePull", "rpc error: not found"));
    PodStatuses.put(client, NS, made.get("backoff").name(),
        PodStatuses.waiting("ImagePullBackOff", "Back-off pulling image \"registry.example/grange/linux-amd64:7\""));
    PodStatuses.put(client, NS, made.get("running").name(), PodStatuses.running());
    PodStatuses.put(client, NS, made.get("succeeded").name(), PodStatuses.exited(0, "Completed"));
    PodStatuses.put(client, NS, made.get("evicted").name(), PodStatuses.failed("Evicted", "The node was low on resource: memory."));
    PodStatuses.put(client, NS, made.get("crashed").name(), PodStatuses.exited(1, "Error"));
    // A finalizer keeps a deleted pod visible, with its deletion timestamp, as a draining pod is.
    String deleting = made.get("deleting").name();
    client.pods().inNamespace(NS).withName(deleting).edit(p -> new PodBuilder(p).editMetadata().addToFinalizers("test/hold").endMetadata().build());
    client.pods().inNamespace(NS).withName(deleting).delete();

    Map<String, Instance> byName = new java.util.HashMap<>();
    for (Instance i : await(provider.list())) {
      byName.put(i.name(), i);
    }
    assertEquals(made.size(), byName.size(), byName.toString());
    Map<String, InstanceState> want = Map.of("new", InstanceState.PENDING, "pulling", InstanceState.PENDING,
        "backoff", InstanceState.FAILED, "running", InstanceState.RUNNING, "succeeded", InstanceState.FAILED,
        "evicted", InstanceState.FAILED, "crashed", InstanceState.FAILED, "deleting", InstanceState.GONE);
    for (var e : want.entrySet()) {
      Instance i = byName.get(made.get(e.getKey()).name());
      assertEquals(e.getValue(), i.state(), e.getKey() + ": " + i);
      assertEquals("linux-amd64", i.hostType());
      assertEquals(NS, i.location());
      assertEquals(1_900_000_000L, i.deleteAtEpochSecond());
      assertTrue(i.createdAtMs() > 0, i.toString());
    }
    assertEquals("Pending", byName.get(made.get("new").name()).detail());
    assertEquals("Pending; agent waiting: ErrImagePull: rpc error: not found", byName.get(made.get("pulling").name()).detail());
    assertEquals("Pending; agent waiting: ImagePullBackOff: Back-off pulling image \"registry.example/grange/linux-amd64:7\"",
        byName.get(made.get("backoff").name()).detail());
    assertEquals("Running", byName.get(made.get("running").name()).detail());
    assertEquals("Succeeded; agent terminated: Completed, exit code 0", byName.get(made.get("succeeded").name()).detail());
    assertEquals("Failed: Evicted: The node was low on resource: memory.", byName.get(made.get("evicted").name()).detail());
    assertEquals("Failed; agent terminated: Error, exit code 1", byName.get(made.get("crashed").name()).detail());
    assertEquals("Pending (being deleted)", byName.get(deleting).detail());
  }

  @Test
  void listDeletesSecretsWhosePodIsGoneAndReportsOnlyPods() throws Exception {
    InstanceRequest kept = request("linux-amd64");
    await(provider.create(kept));
    // Where no garbage collector runs (this mock, a crash between the two deletes), a Secret outlives its pod.
    InstanceRequest lost = request("linux-amd64");
    await(provider.create(lost));
    client.pods().inNamespace(NS).withName(lost.name()).delete();
    Secret notOurs = new SecretBuilder().withNewMetadata().withName("unrelated").endMetadata().addToData("x", "eA==").build();
    client.secrets().inNamespace(NS).resource(notOurs).create();

    List<Instance> listed = await(provider.list());

    assertEquals(List.of(kept.name()), listed.stream().map(Instance::name).toList());
    assertNull(client.secrets().inNamespace(NS).withName(lost.name()).get(), "the orphan Secret is deleted");
    assertNotNull(client.secrets().inNamespace(NS).withName(kept.name()).get());
    assertNotNull(client.secrets().inNamespace(NS).withName("unrelated").get(), "a Secret without the pool's label is not touched");
  }

  @Test
  void watchReportsEachChangeOfAPodOnceThenGone() throws Exception {
    BlockingQueue<Instance> events = new LinkedBlockingQueue<>();
    closeLater.add(provider.watch(events::add));
    InstanceRequest r = request("linux-amd64");
    await(provider.create(r));
    assertEquals(InstanceState.PENDING, next(events, r.name()).state());

    PodStatuses.put(client, NS, r.name(), PodStatuses.running());
    assertEquals(InstanceState.RUNNING, next(events, r.name()).state());
    PodStatuses.put(client, NS, r.name(), PodStatuses.exited(3, "Error"));
    Instance failed = next(events, r.name());
    assertEquals(InstanceState.FAILED, failed.state());
    assertEquals("Failed; agent terminated: Error, exit code 3", failed.detail());
    await(provider.delete(failed));
    Instance gone = next(events, r.name());
    assertEquals(InstanceState.GONE, gone.state());
    assertEquals("linux-amd64", gone.hostType());
  }

  @Test
  void aClosedWatchTellsNothingMore() throws Exception {
    BlockingQueue<Instance> first = new LinkedBlockingQueue<>();
    AutoCloseable handle = provider.watch(first::add);
    InstanceRequest r = request("linux-amd64");
    await(provider.create(r));
    assertEquals(InstanceState.PENDING, next(first, r.name()).state());
    handle.close();

    BlockingQueue<Instance> second = new LinkedBlockingQueue<>();
    closeLater.add(provider.watch(second::add));
    assertEquals(InstanceState.PENDING, next(second, r.name()).state());
    PodStatuses.put(client, NS, r.name(), PodStatuses.running());
    assertEquals(InstanceState.RUNNING, next(second, r.name()).state());
    await(provider.delete(new Instance(r.name(), "", NS, InstanceState.RUNNING, "", 0, 0)));
    assertEquals(InstanceState.GONE, next(second, r.name()).state());
    assertEquals(List.of(), List.copyOf(first), "the closed watch told more");
  }

  @Test
  void watchStartsOverWhenTheApiServerEndsIt() throws Exception {
    InstanceRequest r = request("linux-amd64");
    await(provider.create(r));
    // The first watch (from the first list's resource version) is ended at once with 410 Gone, as
    // an API server does when that version is too old; the one after is the CRUD server's.
    String version = client.pods().inNamespace(NS).list().getMetadata().getResourceVersion();
    Status gone = new StatusBuilder().withCode(410).withReason("Expired").withMessage("too old resource version").build();
    server.expect().get().withPath("/api/v1/namespaces/" + NS + "/pods?allowWatchBookmarks=true"
            + "&labelSelector=grange.dev%2Finstance&resourceVersion=" + version + "&watch=true")
        .andUpgradeToWebSocket().open().waitFor(10).andEmit(new WatchEvent(gone, "ERROR")).done().once();
    BlockingQueue<Instance> events = new LinkedBlockingQueue<>();
    closeLater.add(provider.watch(events::add));
    assertEquals(InstanceState.PENDING, next(events, r.name()).state());
    // Deleted while the first watch is ended (it never tells this): the next list does.
    client.pods().inNamespace(NS).withName(r.name()).delete();
    assertEquals(InstanceState.GONE, next(events, r.name()).state());
    // And the watch after it runs.
    InstanceRequest later = request("linux-amd64");
    await(provider.create(later));
    assertEquals(InstanceState.PENDING, next(events, later.name()).state());
    PodStatuses.put(client, NS, later.name(), PodStatuses.running());
    assertEquals(InstanceState.RUNNING, next(events, later.name()).state());
  }

  @Test
  void deleteRemovesPodAndSecretAndADeletedOneDeletesFine() throws Exception {
    InstanceRequest r = request("linux-amd64");
    Instance made = await(provider.create(r));
    await(provider.delete(made));
    assertEquals(List.of(), client.pods().inNamespace(NS).list().getItems());
    assertEquals(List.of(), client.secrets().inNamespace(NS).list().getItems());
    assertNull(await(provider.delete(made)));
  }

  @Test
  void anInvalidNameOrHostTypeFailsBeforeAnyApiCall() throws Exception {
    int before = server.getRequestCount();
    InstanceRequest badName = new InstanceRequest("Grange_Linux", hostType("linux-amd64"), List.of("ws://n:1"), freshKey(), 0);
    assertSays(failure(provider.create(badName)), ProviderException.Kind.REFUSED, "[Grange_Linux] is not a valid pod name");

    String longType = "linux-amd64-" + "x".repeat(52);
    assertEquals(64, longType.length());
    assertSays(failure(provider.create(request(longType))), ProviderException.Kind.REFUSED,
        "(64 characters) cannot be the value of label grange.dev/host-type", "at most 63");

    InstanceRequest badEnv = request(new KubernetesPoolSpec("img", "1", "1Gi", Map.of(), List.of("GRANGE_INSTANCE=me")));
    assertSays(failure(provider.create(badEnv)), ProviderException.Kind.REFUSED, "GRANGE_INSTANCE is set by the pool itself");
    InstanceRequest badCpu = request(new KubernetesPoolSpec("img", "two", "1Gi", Map.of(), List.of()));
    assertSays(failure(provider.create(badCpu)), ProviderException.Kind.REFUSED, "cpu [two] is not a Kubernetes quantity");

    assertEquals(before, server.getRequestCount(), "an API call was made");
    assertEquals(List.of(), client.pods().inAnyNamespace().list().getItems());
  }

  @Test
  void aSecretThatCannotBeMadeLeavesNoPod() throws Exception {
    Status forbidden = new StatusBuilder().withCode(403).withReason("Forbidden")
        .withMessage("secrets is forbidden: User \"system:serviceaccount:grange:node\" cannot create resource \"secrets\"").build();
    server.expect().post().withPath("/api/v1/namespaces/" + NS + "/secrets").andReturn(403, forbidden).always();
    InstanceRequest r = request("linux-amd64");
    assertSays(failure(provider.create(r)), ProviderException.Kind.REFUSED, "create Secret [grange-pool/" + r.name() + "]",
        "cannot create resource \"secrets\"");
    assertEquals(List.of(), client.pods().inAnyNamespace().list().getItems());
  }

  @Test
  void usesOnlyTheVerbsTheChartGrants() throws Exception {
    // The provider's own client, told apart from the test's (which plays the kubelet) by its user agent.
    KubernetesClient own = server.createClient(b -> b.editOrNewConfig().withUserAgent(UNDER_TEST).withRequestRetryBackoffLimit(0)
        .endConfig());
    closeLater.add(own);
    KubernetesProvider p = new KubernetesProvider(new KubernetesProvider.Settings(NS, ""), own, blocking);
    closeLater.add(p);
    BlockingQueue<Instance> events = new LinkedBlockingQueue<>();
    closeLater.add(p.watch(events::add));
    InstanceRequest r = request("linux-amd64");
    Instance made = await(p.create(r));
    assertEquals(InstanceState.PENDING, next(events, r.name()).state());
    PodStatuses.put(client, NS, r.name(), PodStatuses.running());
    assertEquals(InstanceState.RUNNING, next(events, r.name()).state());
    client.pods().inNamespace(NS).withName(r.name()).delete();
    assertEquals(InstanceState.GONE, next(events, r.name()).state());
    await(p.list()); // deletes the orphan Secret
    await(p.create(request("linux-amd64")));
    await(p.delete(made));
    await(p.list());
    server.expect().post().withPath("/api/v1/namespaces/" + NS + "/secrets")
        .andReturn(403, status(403, "Forbidden", "secrets is forbidden")).once();
    failure(p.create(request("linux-amd64"))); // and takes its pod back

    List<String> used = new ArrayList<>();
    for (RecordedRequest q = server.takeRequest(0, TimeUnit.MILLISECONDS); q != null; q = server.takeRequest(0, TimeUnit.MILLISECONDS)) {
      if (UNDER_TEST.equals(q.getHeader("User-Agent"))) {
        used.add(rbac(q));
      }
    }
    List<String> granted = new ArrayList<>();
    for (KubeApiUse.Rule rule : KubeApiUse.POOL_NAMESPACE) {
      assertEquals("", rule.apiGroup());
      rule.verbs().forEach(v -> granted.add(rule.resource() + " " + v));
    }
    for (String u : used) {
      assertTrue(granted.contains(u), "not granted by KubeApiUse.POOL_NAMESPACE: " + u + " (all used: " + used + ")");
    }
    for (String needed : List.of("pods create", "pods delete", "pods list", "pods watch", "secrets create", "secrets delete",
        "secrets list")) {
      assertTrue(used.contains(needed), needed + " not seen in " + used);
    }
  }

  private static final String UNDER_TEST = "grange-provider-under-test";

  private static final Pattern CORE = Pattern.compile("/api/v1/namespaces/([^/?]+)/([^/?]+)(/([^/?]+))?(/[^?]*)?(\\?(.*))?");

  /** A request in RBAC's words, {@code "pods watch"}; the namespace must be the pool's. */
  private static String rbac(RecordedRequest q) {
    Matcher m = CORE.matcher(q.getPath());
    assertTrue(m.matches(), "not a namespaced core API call: " + q.getMethod() + " " + q.getPath());
    assertEquals(NS, m.group(1), q.getPath());
    String resource = m.group(2) + (m.group(5) == null ? "" : m.group(5));
    boolean named = m.group(4) != null;
    String query = m.group(7) == null ? "" : m.group(7);
    String verb = switch (q.getMethod()) {
      case "GET" -> named ? "get" : query.contains("watch=true") ? "watch" : "list";
      case "POST" -> "create";
      case "PUT" -> "update";
      case "PATCH" -> "patch";
      case "DELETE" -> named ? "delete" : "deletecollection";
      default -> q.getMethod();
    };
    return resource + " " + verb;
  }

  // Failures, with the mock server in expectations mode: it answers only what a test tells it.

  private KubernetesMockServer expectations() {
    KubernetesMockServer s = new KubernetesMockServer(false);
    s.init();
    closeLater.add(s::destroy);
    return s;
  }

  private KubernetesProvider providerOn(KubernetesMockServer s) {
    KubernetesClient c = s.createClient(new NoRetries());
    closeLater.add(c);
    KubernetesProvider p = new KubernetesProvider(new KubernetesProvider.Settings(NS, ""), c, blocking);
    closeLater.add(p);
    return p;
  }

  private static Status status(int code, String reason, String message) {
    return new StatusBuilder().withStatus("Failure").withCode(code).withReason(reason).withMessage(message).build();
  }

  /** What create fails with when the API server answers the pod's POST with {@code code}. */
  private ProviderException createAnswered(InstanceRequest r, int code, String reason, String message) {
    KubernetesMockServer s = expectations();
    s.expect().post().withPath("/api/v1/namespaces/" + NS + "/pods").andReturn(code, status(code, reason, message)).once();
    return failure(providerOn(s).create(r));
  }

  @Test
  void exceededQuotaIsQuota() {
    InstanceRequest r = request("linux-amd64");
    ProviderException e = createAnswered(r, 403, "Forbidden",
        "pods \"" + r.name() + "\" is forbidden: exceeded quota: builders, requested: cpu=2, used: cpu=16, limited: cpu=16");
    assertSays(e, ProviderException.Kind.QUOTA, "pod [grange-pool/" + r.name() + "]", "exceeded quota: builders, requested: cpu=2",
        "HTTP 403");
  }

  @Test
  void anInvalidPodIsRefused() {
    InstanceRequest r = request("linux-amd64");
    ProviderException e = createAnswered(r, 422, "Invalid", "Pod \"" + r.name()
        + "\" is invalid: spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit");
    assertSays(e, ProviderException.Kind.REFUSED, "Kubernetes refused to create pod [grange-pool/" + r.name() + "]",
        "HTTP 422 Invalid", "must be less than or equal to cpu limit");
  }

  @Test
  void aForbiddenOrConflictingPodIsRefused() {
    ProviderException forbidden = createAnswered(request("linux-amd64"), 403, "Forbidden",
        "pods is forbidden: User \"system:serviceaccount:grange:node\" cannot create resource \"pods\"");
    assertSays(forbidden, ProviderException.Kind.REFUSED, "cannot create resource \"pods\"");
    assertEquals(ProviderException.Kind.REFUSED,
        createAnswered(request("linux-amd64"), 409, "AlreadyExists", "pods \"x\" already exists").kind());
  }

  @Test
  void serverErrorsAndRateLimitsAreUnavailable() {
    KubernetesMockServer s = expectations();
    s.expect().post().withPath("/api/v1/namespaces/" + NS + "/pods").andReturn(500, status(500, "InternalError", "etcdserver: request timed out")).once();
    s.expect().get().withPath("/api/v1/namespaces/" + NS + "/pods?labelSelector=grange.dev%2Finstance")
        .andReturn(429, status(429, "TooManyRequests", "Too many requests, please try again later.")).once();
    KubernetesProvider p = providerOn(s);
    InstanceRequest r = request("linux-amd64");
    assertSays(failure(p.create(r)), ProviderException.Kind.UNAVAILABLE, "etcdserver: request timed out",
        "pod [grange-pool/" + r.name() + "]");
    assertSays(failure(p.list()), ProviderException.Kind.UNAVAILABLE, "HTTP 429");
  }

  @Test
  void anUnreachableApiServerIsUnavailable() {
    KubernetesMockServer s = expectations();
    KubernetesProvider p = providerOn(s);
    s.destroy();
    assertSays(failure(p.list()), ProviderException.Kind.UNAVAILABLE,
        "Kubernetes API unreachable, could not list the pods of namespace [grange-pool]");
  }

  @Test
  void settingsComeFromConfigAndTheirOwnClientDoesNotRetry() throws Exception {
    KubernetesProvider.Settings d = KubernetesProvider.Settings.fromConfig(ConfigFactory.load());
    assertEquals(new KubernetesProvider.Settings("grange-pool", ""), d);
    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> KubernetesProvider.Settings.fromConfig(
        ConfigFactory.parseString("grange.pools.kubernetes { namespace = \"Grange\", master-url = \"\" }")));
    assertTrue(bad.getMessage().startsWith("grange.pools.kubernetes.namespace: [Grange]"), bad.getMessage());
    bad = assertThrows(IllegalArgumentException.class, () -> new KubernetesProvider.Settings("ns", "api.example:6443"));
    assertTrue(bad.getMessage().startsWith("grange.pools.kubernetes.master-url"), bad.getMessage());

    KubernetesMockServer s = expectations();
    s.expect().get().withPath("/api/v1/namespaces/" + NS + "/pods?labelSelector=grange.dev%2Finstance")
        .andReturn(200, new PodListBuilder().withNewMetadata().withResourceVersion("7").endMetadata().build()).once();
    s.expect().get().withPath("/api/v1/namespaces/" + NS + "/secrets?labelSelector=grange.dev%2Finstance")
        .andReturn(503, status(503, "ServiceUnavailable", "the server is shutting down")).always();
    try (KubernetesProvider own = new KubernetesProvider(new KubernetesProvider.Settings(NS, s.url("/").replaceAll("/$", "")), blocking)) {
      assertEquals(List.of(), await(own.list()), "the Secrets' failure only skips their clean-up");
    }
    List<String> asked = new ArrayList<>();
    for (RecordedRequest q = s.takeRequest(0, TimeUnit.MILLISECONDS); q != null; q = s.takeRequest(0, TimeUnit.MILLISECONDS)) {
      asked.add(q.getMethod() + " " + q.getPath());
    }
    assertEquals(List.of("GET /api/v1/namespaces/grange-pool/secrets?labelSelector=grange.dev%2Finstance",
        "GET /api/v1/namespaces/grange-pool/pods?labelSelector=grange.dev%2Finstance"), asked, "one try each, no retry");
  }

  /** The next event about {@code name}, within the deadline. */
  private static Instance next(BlockingQueue<Instance> events, String name) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (true) {
      Instance i = events.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      assertNotNull(i, "no event about " + name + " within " + WAIT);
      if (i.name().equals(name)) {
        return i;
      }
    }
  }
}
