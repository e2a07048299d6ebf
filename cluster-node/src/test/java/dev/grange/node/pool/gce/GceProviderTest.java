package dev.grange.node.pool.gce;

import static dev.grange.node.pool.gce.TestRequests.DELETE_AT;
import static dev.grange.node.pool.gce.TestRequests.KEY;
import static dev.grange.node.pool.gce.TestRequests.NODES;
import static dev.grange.node.pool.gce.TestRequests.request;
import static dev.grange.node.pool.gce.TestRequests.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.google.api.gax.core.NoCredentialsProvider;
import dev.grange.node.pool.cloud.Instance;
import dev.grange.node.pool.cloud.InstanceRequest;
import dev.grange.node.pool.cloud.InstanceState;
import dev.grange.node.pool.cloud.ProviderException;
import dev.grange.node.pool.gce.FakeCompute.Call;
import dev.grange.protocol.model.HostTypeSpec;
import dev.grange.protocol.model.PoolKind;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The GCE provider driving the real google-cloud-compute client against {@link FakeCompute}. */
class GceProviderTest {
  static final String PROJECT = "grange-test";
  static final Duration WAIT = Duration.ofSeconds(10);

  private FakeCompute fake;
  private ExecutorService blocking;
  private GceProvider provider;
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  private final ch.qos.logback.classic.Logger root =
      (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);

  @BeforeEach
  void start() throws Exception {
    logs.start();
    root.addAppender(logs);
    // Everything the provider and the client log, down to DEBUG, is searched for the key.
    level("dev.grange.node.pool.gce", Level.DEBUG);
    level("com.google", Level.DEBUG);
    fake = FakeCompute.start();
    blocking = Executors.newFixedThreadPool(4);
    provider = provider(fast(GceProvider.Settings.of(PROJECT, fake.endpoint())));
  }

  @AfterEach
  void stop() {
    provider.close();
    fake.releaseOperations();
    fake.close();
    blocking.shutdownNow();
    root.detachAppender(logs);
    level("dev.grange.node.pool.gce", null);
    level("com.google", null);
    assertEquals(List.of(), fake.unsupported(), "requests the fake does not know");
  }

  @Test
  void insertSendsTheVmOfTheHostTypeAndNeverLogsTheKey() throws Exception {
    provider.close();
    provider = provider(fast(new GceProvider.Settings(PROJECT, fake.endpoint(), "", "global/networks/builders",
        "regions/us-central1/subnetworks/agents", true, "agents@grange-test.iam.gserviceaccount.com",
        "https://storage.example/grange-agent.tar.gz", "ab".repeat(32), Duration.ofMinutes(5), Duration.ofSeconds(5), 3,
        Duration.ofSeconds(1))));
    fake.bootDelay(Duration.ofHours(1));
    InstanceRequest r = request(spec("linux-amd64.go1.22", "e2-standard-4", "grange-linux-amd64", "us-central1-a"));

    Instance made = get(provider.create(r));

    assertEquals(r.name(), made.name());
    assertEquals("linux-amd64.go1.22", made.hostType());
    assertEquals("us-central1-a", made.location());
    assertEquals(InstanceState.PENDING, made.state());
    assertEquals("STAGING", made.detail());
    assertEquals(DELETE_AT, made.deleteAtEpochSecond());

    FakeCompute.Request insert = only(fake.requests(Call.INSERT));
    assertEquals("/compute/v1/projects/grange-test/zones/us-central1-a/instances", insert.path());
    assertFalse(insert.query().getOrDefault("requestId", "").isEmpty(), "an insert carries a request id");
    JsonNode vm = insert.body();
    assertEquals(r.name(), vm.get("name").asText());
    assertEquals("zones/us-central1-a/machineTypes/e2-standard-4", vm.get("machineType").asText());
    JsonNode disk = only(vm.get("disks"));
    assertTrue(disk.get("boot").asBoolean() && disk.get("autoDelete").asBoolean(), disk.toString());
    assertEquals("projects/grange-test/global/images/grange-linux-amd64", disk.at("/initializeParams/sourceImage").asText());
    assertEquals(20, disk.at("/initializeParams/diskSizeGb").asLong());
    JsonNode nic = only(vm.get("networkInterfaces"));
    assertEquals("global/networks/builders", nic.get("network").asText());
    assertEquals("regions/us-central1/subnetworks/agents", nic.get("subnetwork").asText());
    assertEquals("ONE_TO_ONE_NAT", only(nic.get("accessConfigs")).get("type").asText());
    assertEquals(Map.of("grange-host-type", "linux-amd64_go1_22", "grange-instance", r.name(), "grange-delete-at", "1900000000"),
        strings(vm.get("labels")));
    Map<String, String> metadata = metadata(vm);
    assertEquals(Map.of(
        "grange-node-urls", "wss://node-1.example:8443\nwss://node-2.example:8443",
        "grange-host-type", "linux-amd64.go1.22",
        "grange-instance", r.name(),
        "grange-key", KEY,
        "grange-agent-url", "https://storage.example/grange-agent.tar.gz",
        "grange-agent-sha256", "ab".repeat(32)), metadata);
    JsonNode scheduling = vm.get("scheduling");
    assertFalse(scheduling.get("automaticRestart").asBoolean(true), scheduling.toString());
    assertFalse(scheduling.path("preemptible").asBoolean(false), scheduling.toString());
    assertEquals("TERMINATE", scheduling.get("onHostMaintenance").asText());
    JsonNode account = only(vm.get("serviceAccounts"));
    assertEquals("agents@grange-test.iam.gserviceaccount.com", account.get("email").asText());
    assertEquals(List.of(GceInstances.CLOUD_PLATFORM), List.of(only(account.get("scopes")).asText()));

    assertTrue(logs.list.stream().anyMatch(e -> e.getFormattedMessage().contains(r.name())), "the capture sees the provider's log");
    for (ILoggingEvent e : logs.list) {
      assertFalse(text(e).contains(KEY), "the key is logged: " + e.getFormattedMessage());
    }
  }

  @Test
  void createCompletesOnlyOnceTheInsertOperationIsDone() throws Exception {
    fake.holdOperations();
    CompletableFuture<Instance> f = provider.create(request(spec("linux-amd64", "e2-small", "img", "us-central1-a")))
        .toCompletableFuture();
    assertTrue(fake.awaitRequests(Call.GET_OPERATION, 3, WAIT), "the client polls the operation");
    assertFalse(f.isDone(), "create completed while its operation was RUNNING");
    fake.releaseOperations();
    assertEquals("us-central1-a", get(f).location());
  }

  @Test
  void listFindsTheFarmsVmsByLabelAndMapsTheirStatus() throws Exception {
    fake.bootDelay(Duration.ofHours(1));
    HostTypeSpec spec = spec("linux-amd64", "e2-small", "img", "us-central1-a", "us-central1-b");
    long before = System.currentTimeMillis();
    Instance staging = get(provider.create(request(spec)));
    Instance running = get(provider.create(request(spec)));
    Instance stopped = get(provider.create(request(spec)));
    long after = System.currentTimeMillis();
    insertForeignVm("someone-elses-vm");
    fake.setStatus(running.name(), "RUNNING", "");
    fake.setStatus(stopped.name(), "TERMINATED", "Instance was stopped by a host error");

    Map<String, Instance> listed = byName(get(provider.list()));

    assertEquals(3, listed.size(), listed.toString());
    assertEquals(InstanceState.PENDING, listed.get(staging.name()).state());
    assertEquals(InstanceState.RUNNING, listed.get(running.name()).state());
    Instance failed = listed.get(stopped.name());
    assertEquals(InstanceState.FAILED, failed.state());
    assertEquals("TERMINATED: Instance was stopped by a host error", failed.detail());
    assertEquals("linux-amd64", failed.hostType());
    assertEquals("us-central1-a", failed.location());
    assertEquals(DELETE_AT, failed.deleteAtEpochSecond());
    assertTrue(failed.createdAtMs() >= before - 1 && failed.createdAtMs() <= after + 1, failed.toString());
    assertEquals("labels.grange-instance:*", fake.requests(Call.AGGREGATED_LIST).get(0).query().get("filter"));
  }

  @Test
  void listReadsEveryPage() throws Exception {
    fake.pageSize(1);
    HostTypeSpec spec = spec("linux-amd64", "e2-small", "img", "us-central1-a");
    for (int i = 0; i < 3; i++) {
      get(provider.create(request(spec)));
    }
    assertEquals(3, get(provider.list()).size());
    assertEquals(3, fake.requests(Call.AGGREGATED_LIST).size());
  }

  @Test
  void aListWithAnUnreachableZoneFailsInsteadOfHidingItsVms() throws Exception {
    get(provider.create(request(spec("linux-amd64", "e2-small", "img", "us-central1-a"))));
    fake.unreachable("europe-west1-b");
    ProviderException e = failure(provider.list());
    assertEquals(ProviderException.Kind.UNAVAILABLE, e.kind());
    assertTrue(e.getMessage().contains("zones/europe-west1-b"), e.getMessage());
  }

  @Test
  void deleteWaitsForTheOperationAndTheVmIsGone() throws Exception {
    Instance vm = get(provider.create(request(spec("linux-amd64", "e2-small", "img", "us-central1-b"))));
    fake.holdOperations();
    CompletableFuture<Void> f = provider.delete(vm).toCompletableFuture();
    assertTrue(fake.awaitRequests(Call.GET_OPERATION, fake.requests(Call.GET_OPERATION).size() + 2, WAIT));
    assertFalse(f.isDone(), "delete completed while its operation was RUNNING");
    fake.releaseOperations();
    get(f);
    assertTrue(fake.instance(vm.name()).isEmpty());
    assertEquals(List.of(), get(provider.list()));
    FakeCompute.Request delete = only(fake.requests(Call.DELETE));
    assertEquals("/compute/v1/projects/grange-test/zones/us-central1-b/instances/" + vm.name(), delete.path());
    assertFalse(delete.query().getOrDefault("requestId", "").isEmpty(), "a delete carries a request id");
  }

  @Test
  void deletingAVmThatIsGoneSucceeds() throws Exception {
    get(provider.delete(new Instance("grange-linux-amd64-0badf00d", "linux-amd64", "us-central1-a", InstanceState.RUNNING, "", 0, 0)));
    assertEquals(1, fake.requests(Call.DELETE).size());
    // Without a zone the provider looks the VM up first: neither there nor anywhere is fine.
    get(provider.delete(new Instance("grange-linux-amd64-0badf00d", "linux-amd64", "", InstanceState.FAILED, "", 0, 0)));
    assertEquals(1, fake.requests(Call.DELETE).size());
  }

  @Test
  void deleteOfAVmWithoutAZoneFindsItsZone() throws Exception {
    Instance vm = get(provider.create(request(spec("linux-amd64", "e2-small", "img", "us-east1-c"))));
    get(provider.delete(new Instance(vm.name(), vm.hostType(), "", InstanceState.FAILED, "", 0, 0)));
    assertTrue(fake.instance(vm.name()).isEmpty());
  }

  @Test
  void anExhaustedZoneFallsBackToTheNextZone() throws Exception {
    fake.exhausted("us-central1-a");
    Instance vm = get(provider.create(request(spec("linux-amd64", "e2-small", "img", "us-central1-a", "us-central1-b"))));
    assertEquals("us-central1-b", vm.location());
    assertEquals(List.of("/compute/v1/projects/grange-test/zones/us-central1-a/instances",
            "/compute/v1/projects/grange-test/zones/us-central1-b/instances"),
        fake.requests(Call.INSERT).stream().map(FakeCompute.Request::path).toList());
    assertTrue(fake.instance(vm.name()).isPresent());
  }

  @Test
  void aRegionsQuotaFallsBackToAZoneOfAnotherRegion() throws Exception {
    fake.quotaExceeded("us-central1-a");
    Instance vm = get(provider.create(request(spec("linux-amd64", "e2-small", "img", "us-central1-a", "us-east1-b"))));
    assertEquals("us-east1-b", vm.location());
  }

  @Test
  void quotaExceededInEveryZoneIsQuota() throws Exception {
    fake.quotaExceeded();
    InstanceRequest r = request(spec("linux-amd64", "e2-small", "img", "us-central1-a", "us-east1-b"));
    ProviderException e = failure(provider.create(r));
    assertEquals(ProviderException.Kind.QUOTA, e.kind());
    for (String words : List.of(PROJECT, r.name(), "us-central1-a: QUOTA_EXCEEDED", "us-east1-b: QUOTA_EXCEEDED", "Quota 'CPUS'")) {
      assertTrue(e.getMessage().contains(words), e.getMessage());
    }
    assertEquals(2, fake.requests(Call.INSERT).size());
  }

  @Test
  void aRateLimitIsQuotaAndNotTriedElsewhere() throws Exception {
    fake.failNext(Call.INSERT, 10, 403, "rateLimitExceeded");
    ProviderException e = failure(provider.create(request(spec("linux-amd64", "e2-small", "img", "us-central1-a", "us-central1-b"))));
    assertEquals(ProviderException.Kind.QUOTA, e.kind());
    assertTrue(e.getMessage().contains("rateLimitExceeded"), e.getMessage());
    assertEquals(1, fake.requests(Call.INSERT).size());
  }

  @Test
  void aMachineTypeThatDoesNotExistIsRefusedWithTheApisWords() throws Exception {
    fake.onlyMachineTypes("e2-small");
    InstanceRequest r = request(spec("linux-amd64", "e2-enormous", "img", "us-central1-a", "us-central1-b"));
    ProviderException e = failure(provider.create(r));
    assertEquals(ProviderException.Kind.REFUSED, e.kind());
    for (String words : List.of("project grange-test, zone us-central1-a, VM " + r.name(), "HTTP 400",
        "Machine type with name 'e2-enormous' does not exist in zone 'us-central1-a'")) {
      assertTrue(e.getMessage().contains(words), e.getMessage());
    }
    assertFalse(e.getMessage().contains(KEY), e.getMessage());
    assertEquals(1, fake.requests(Call.INSERT).size(), "a refusal is not tried in the next zone");
  }

  @Test
  void anImageThatDoesNotExistIsRefused() throws Exception {
    fake.onlyImages("projects/grange-test/global/images/grange-linux-amd64");
    ProviderException e = failure(provider.create(request(spec("linux-amd64", "e2-small", "no-such-image", "us-central1-a"))));
    assertEquals(ProviderException.Kind.REFUSED, e.kind());
    assertTrue(e.getMessage().contains("HTTP 404: The resource 'projects/grange-test/global/images/no-such-image' was not found"),
        e.getMessage());
  }

  @Test
  void aFew500sAreRetriedWithTheSameRequestId() throws Exception {
    fake.failNext(Call.INSERT, 2, 500, "backendError");
    Instance vm = get(provider.create(request(spec("linux-amd64", "e2-small", "img", "us-central1-a"))));
    List<FakeCompute.Request> inserts = fake.requests(Call.INSERT);
    assertEquals(3, inserts.size());
    assertEquals(1, inserts.stream().map(i -> i.query().get("requestId")).distinct().count());
    assertTrue(fake.instance(vm.name()).isPresent());
  }

  @Test
  void aLostAnswerIsRetriedWithoutMakingASecondVm() throws Exception {
    fake.loseNextAnswers(Call.INSERT, 1);
    get(provider.create(request(spec("linux-amd64", "e2-small", "img", "us-central1-a"))));
    assertEquals(2, fake.requests(Call.INSERT).size());
    assertEquals(1, get(provider.list()).size());
  }

  @Test
  void repeated500sAreUnavailable() throws Exception {
    fake.failNext(Call.INSERT, 100, 500, "backendError");
    ProviderException e = failure(provider.create(request(spec("linux-amd64", "e2-small", "img", "us-central1-a"))));
    assertEquals(ProviderException.Kind.UNAVAILABLE, e.kind());
    assertTrue(e.getMessage().contains("HTTP 500"), e.getMessage());
    assertEquals(4, fake.requests(Call.INSERT).size(), "one try and three retries");
  }

  @Test
  void anOperationThatIsNeverDoneFailsClearlyAfterTheTimeout() throws Exception {
    provider.close();
    provider = provider(GceProvider.Settings.of(PROJECT, fake.endpoint())
        .withTiming(Duration.ofMillis(300), Duration.ofMillis(20), 3, Duration.ofMillis(10)));
    fake.holdOperations();
    InstanceRequest r = request(spec("linux-amd64", "e2-small", "img", "us-central1-a"));
    ProviderException e = failure(provider.create(r));
    assertEquals(ProviderException.Kind.UNAVAILABLE, e.kind());
    for (String words : List.of("zone us-central1-a, VM " + r.name(), "the insert was not done after 300ms (operation-",
        "the janitor")) {
      assertTrue(e.getMessage().contains(words), e.getMessage());
    }
  }

  @Test
  void anApiThatDoesNotAnswerIsUnavailable() throws Exception {
    int port;
    try (var s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    provider.close();
    provider = provider(fast(GceProvider.Settings.of(PROJECT, "http://127.0.0.1:" + port)));
    ProviderException e = failure(provider.create(request(spec("linux-amd64", "e2-small", "img", "us-central1-a"))));
    assertEquals(ProviderException.Kind.UNAVAILABLE, e.kind());
    assertTrue(e.getMessage().contains("no answer"), e.getMessage());
    assertEquals(ProviderException.Kind.UNAVAILABLE, failure(provider.list()).kind());
  }

  @Test
  void aHostTypeOfAnotherPoolIsRefused() throws Exception {
    HostTypeSpec local = new HostTypeSpec("linux-local", PoolKind.LOCAL, 0, 1, "",
        new dev.grange.protocol.model.LocalPoolSpec(0, 1), null, null, 60_000, false);
    ProviderException e = failure(provider.create(new InstanceRequest("grange-linux-local-00000000", local, NODES, KEY, 0)));
    assertEquals(ProviderException.Kind.REFUSED, e.kind());
    assertEquals(List.of(), fake.requests());
  }

  // ---- helpers ----

  private GceProvider provider(GceProvider.Settings s) {
    return new GceProvider(s, NoCredentialsProvider.create(), blocking);
  }

  /** Polls every 20 ms at most, retries after 10 ms: the whole class runs in seconds. */
  static GceProvider.Settings fast(GceProvider.Settings s) {
    return s.withTiming(Duration.ofSeconds(20), Duration.ofMillis(20), 3, Duration.ofMillis(10));
  }

  static <T> T get(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
  }

  static ProviderException failure(CompletionStage<?> stage) {
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> stage.toCompletableFuture().get(WAIT.toMillis(), TimeUnit.MILLISECONDS));
    assertTrue(e.getCause() instanceof ProviderException, String.valueOf(e.getCause()));
    return (ProviderException) e.getCause();
  }

  private void insertForeignVm(String name) throws Exception {
    String body = "{\"name\":\"" + name + "\",\"machineType\":\"zones/us-central1-a/machineTypes/e2-small\","
        + "\"disks\":[{\"boot\":true,\"initializeParams\":{\"sourceImage\":\"projects/debian-cloud/global/images/family/debian-12\"}}],"
        + "\"networkInterfaces\":[{\"network\":\"global/networks/default\"}],\"labels\":{\"team\":\"web\"}}";
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create(fake.endpoint() + "/compute/v1/projects/" + PROJECT + "/zones/us-central1-a/instances"))
        .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json").build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
  }

  private static Map<String, Instance> byName(List<Instance> list) {
    return list.stream().collect(Collectors.toMap(Instance::name, Function.identity()));
  }

  private static <T> T only(List<T> list) {
    assertEquals(1, list.size(), list.toString());
    return list.get(0);
  }

  private static JsonNode only(JsonNode array) {
    assertNotNull(array);
    assertEquals(1, array.size(), array.toString());
    return array.get(0);
  }

  private static Map<String, String> strings(JsonNode object) {
    Map<String, String> m = new HashMap<>();
    object.fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue().asText()));
    return m;
  }

  private static Map<String, String> metadata(JsonNode vm) {
    Map<String, String> m = new HashMap<>();
    vm.at("/metadata/items").forEach(i -> m.put(i.get("key").asText(), i.get("value").asText()));
    return m;
  }

  /** An event's message, its arguments and its exceptions' messages. */
  private static String text(ILoggingEvent e) {
    StringBuilder b = new StringBuilder(e.getFormattedMessage()).append(e.getMDCPropertyMap());
    for (IThrowableProxy t = e.getThrowableProxy(); t != null; t = t.getCause()) {
      b.append(t.getClassName()).append(t.getMessage());
    }
    return b.toString();
  }

  private static void level(String logger, Level level) {
    ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(logger)).setLevel(level);
  }
}
