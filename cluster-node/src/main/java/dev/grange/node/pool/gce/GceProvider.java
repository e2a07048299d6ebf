package dev.grange.node.pool.gce;

import com.google.api.gax.core.CredentialsProvider;
import com.google.api.gax.core.FixedCredentialsProvider;
import com.google.api.gax.longrunning.OperationFuture;
import com.google.api.gax.longrunning.OperationSnapshot;
import com.google.api.gax.longrunning.OperationTimedPollAlgorithm;
import com.google.api.gax.retrying.RetrySettings;
import com.google.api.gax.rpc.StatusCode;
import com.google.api.gax.rpc.UnaryCallSettings;
import com.google.auth.oauth2.GoogleCredentials;
import com.google.cloud.compute.v1.AggregatedListInstancesRequest;
import com.google.cloud.compute.v1.DeleteInstanceRequest;
import com.google.cloud.compute.v1.InsertInstanceRequest;
import com.google.cloud.compute.v1.InstanceAggregatedList;
import com.google.cloud.compute.v1.InstancesClient;
import com.google.cloud.compute.v1.InstancesScopedList;
import com.google.cloud.compute.v1.InstancesSettings;
import com.google.cloud.compute.v1.Operation;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import dev.grange.node.pool.cloud.Instance;
import dev.grange.node.pool.cloud.InstanceNames;
import dev.grange.node.pool.cloud.InstanceProvider;
import dev.grange.node.pool.cloud.InstanceRequest;
import dev.grange.node.pool.cloud.InstanceState;
import dev.grange.node.pool.cloud.ProviderException;
import dev.grange.node.pool.cloud.ProviderException.Kind;
import dev.grange.protocol.model.GcePoolSpec;
import dev.grange.protocol.model.PoolKind;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The GCE pool's VMs, through the real google-cloud-compute client (REST): one VM per instance,
 * inserted in the first of the host type's zones that takes it, labelled and given the metadata
 * of {@link GceMetadata} for its startup script, deleted by name and zone, listed by label.
 *
 * <p>Every call runs on the executor it is given (the node's blocking dispatcher): the client
 * blocks while it waits for an operation. Inserts and deletes carry a request id, so the client
 * may retry them on a 500 or 503 without making a second VM. GCE pushes nothing: {@link #watch}
 * is a no-op and the pool's janitor lists.
 *
 * <p>The instance key travels in the VM's metadata, which the VM itself and the project's members
 * can read (the trust the Go team's buildlets had); it is never logged.
 */
public final class GceProvider implements InstanceProvider {
  private static final Logger log = LoggerFactory.getLogger(GceProvider.class);

  /** Only the VMs this farm made: every one has its instance label. */
  static final String FILTER = "labels." + GceMetadata.LABEL_INSTANCE + ":*";
  /** How long one HTTP call may take; the operation it starts has its own timeout. */
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(60);
  private static final Set<StatusCode.Code> RETRYABLE =
      EnumSet.of(StatusCode.Code.INTERNAL, StatusCode.Code.UNAVAILABLE, StatusCode.Code.DEADLINE_EXCEEDED);

  /**
   * How a node reaches Compute Engine ({@code grange.pools.gce} in {@code reference.conf}), read
   * once at start by {@link #fromConfig} when a gce host type is configured.
   *
   * @param project the project the VMs are made in
   * @param endpoint the Compute API base URL without a path, empty for Google's
   * @param credentialsFile a service account key file, empty for application default credentials
   * @param network the VMs' network ({@code global/networks/default})
   * @param subnetwork their subnetwork, empty for the network's default
   * @param externalIp whether each VM gets an ephemeral external address
   * @param serviceAccount the service account the VMs run as, empty for none
   * @param agentUrl where the startup script downloads the agent, empty for the image's own
   * @param agentSha256 the download's SHA-256 (hex), set exactly when {@code agentUrl} is
   * @param operationTimeout how long an insert or delete operation may take
   * @param pollInterval the longest pause between two polls of an operation
   * @param retries how often a call answered 500 or 503, or timed out, is tried again
   * @param retryDelay the pause before the first retry (doubling after)
   */
  public record Settings(String project, String endpoint, String credentialsFile, String network, String subnetwork,
      boolean externalIp, String serviceAccount, String agentUrl, String agentSha256, Duration operationTimeout,
      Duration pollInterval, int retries, Duration retryDelay) {

    public static final String PATH = "grange.pools.gce";
    private static final Pattern SHA256 = Pattern.compile("[0-9a-fA-F]{64}");

    public Settings {
      require(!project.isBlank(), "project", "names no project: set the project the VMs are made in");
      require(endpoint.isEmpty() || validEndpoint(endpoint), "endpoint",
          "\"" + endpoint + "\" must be http://HOST[:PORT] or https://HOST[:PORT] without a path (empty: Google's)");
      require(!network.isBlank(), "network", "is empty: name the VMs' network, e.g. global/networks/default");
      require(agentUrl.isEmpty() == agentSha256.isEmpty(), "agent-sha256",
          "agent-url and agent-sha256 go together: the startup script refuses an unchecked download");
      require(agentSha256.isEmpty() || SHA256.matcher(agentSha256).matches(), "agent-sha256", "must be 64 hex digits");
      require(positive(operationTimeout), "operation-timeout", "must be a positive duration, got " + operationTimeout);
      require(positive(pollInterval), "operation-poll-interval", "must be a positive duration, got " + pollInterval);
      require(retries >= 0, "retries", "must not be negative, got " + retries);
      require(positive(retryDelay), "retry-delay", "must be a positive duration, got " + retryDelay);
      endpoint = endpoint.endsWith("/") ? endpoint.substring(0, endpoint.length() - 1) : endpoint;
    }

    /** {@code project} on {@code endpoint}, everything else as {@code reference.conf} has it. */
    public static Settings of(String project, String endpoint) {
      return new Settings(project, endpoint, "", "global/networks/default", "", false, "", "", "",
          Duration.ofMinutes(5), Duration.ofSeconds(5), 3, Duration.ofSeconds(1));
    }

    /** Reads {@code grange.pools.gce}; a missing or wrong key is refused with its name. */
    public static Settings fromConfig(Config root) {
      try {
        Config c = root.getConfig(PATH);
        return new Settings(c.getString("project"), c.getString("endpoint"), c.getString("credentials-file"),
            c.getString("network"), c.getString("subnetwork"), c.getBoolean("external-ip"),
            c.getString("service-account"), c.getString("agent-url"), c.getString("agent-sha256"),
            c.getDuration("operation-timeout"), c.getDuration("operation-poll-interval"), c.getInt("retries"),
            c.getDuration("retry-delay"));
      } catch (ConfigException e) {
        throw new IllegalArgumentException("bad GCE pool config: " + e.getMessage(), e);
      }
    }

    /** The same with other timings: tests against a local fake want milliseconds. */
    public Settings withTiming(Duration opTimeout, Duration poll, int n, Duration delay) {
      return new Settings(project, endpoint, credentialsFile, network, subnetwork, externalIp, serviceAccount, agentUrl,
          agentSha256, opTimeout, poll, n, delay);
    }

    private static boolean validEndpoint(String e) {
      try {
        URI u = new URI(e);
        String path = u.getRawPath();
        return ("http".equals(u.getScheme()) || "https".equals(u.getScheme())) && u.getHost() != null
            && (path == null || path.isEmpty() || path.equals("/")) && u.getRawQuery() == null;
      } catch (URISyntaxException bad) {
        return false;
      }
    }

    private static boolean positive(Duration d) {
      return d != null && !d.isNegative() && !d.isZero();
    }

    private static void require(boolean ok, String key, String problem) {
      if (!ok) {
        throw new IllegalArgumentException(PATH + "." + key + ": " + problem);
      }
    }
  }

  private final Settings settings;
  private final Executor executor;
  private final InstancesClient client;

  /** With the credentials {@code settings} name: its key file, or the application default ones. */
  public GceProvider(Settings settings, Executor executor) {
    this(settings, credentials(settings), executor);
  }

  /** With explicit credentials: {@code NoCredentialsProvider} for a local fake. */
  public GceProvider(Settings settings, CredentialsProvider credentials, Executor executor) {
    this.settings = settings;
    this.executor = executor;
    try {
      this.client = InstancesClient.create(clientSettings(settings, credentials));
    } catch (IOException e) {
      throw new IllegalStateException(Settings.PATH + ": cannot make a Compute client for project " + settings.project()
          + " (" + e.getMessage() + "); check credentials-file or the application default credentials", e);
    }
    log.info("GCE provider for project [{}] at [{}]", settings.project(),
        settings.endpoint().isEmpty() ? "compute.googleapis.com" : settings.endpoint());
  }

  @Override
  public PoolKind kind() {
    return PoolKind.GCE;
  }

  @Override
  public CompletionStage<Instance> create(InstanceRequest request) {
    return async(() -> createNow(request));
  }

  @Override
  public CompletionStage<Void> delete(Instance instance) {
    return async(() -> {
      deleteNow(instance);
      return null;
    });
  }

  @Override
  public CompletionStage<List<Instance>> list() {
    return async(this::listNow);
  }

  /** GCE pushes nothing: the pool's janitor lists instead. */
  @Override
  public AutoCloseable watch(Consumer<Instance> changed) {
    return () -> {};
  }

  @Override
  public void close() {
    client.close();
    try {
      client.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Tries the zones in order; only a zone-level failure (capacity, a region's quota) moves on to the next. */
  private Instance createNow(InstanceRequest r) {
    GcePoolSpec gce = r.spec().gce();
    if (gce == null) {
      throw new ProviderException(Kind.REFUSED, "host type " + r.hostType() + " has no gce part: its pool is " + r.spec().pool().configName());
    }
    if (!InstanceNames.valid(r.name())) {
      throw new ProviderException(Kind.REFUSED, "\"" + r.name() + "\" is not a valid VM name");
    }
    List<String> refusals = new ArrayList<>();
    boolean allQuota = true;
    for (String zone : gce.zones()) {
      InsertInstanceRequest insert = InsertInstanceRequest.newBuilder()
          .setProject(settings.project())
          .setZone(zone)
          .setRequestId(UUID.randomUUID().toString())
          .setInstanceResource(GceInstances.toGce(settings, r, zone))
          .build();
      log.info("Creating VM [{}] of [{}] in [{}/{}]", r.name(), r.hostType(), settings.project(), zone);
      try {
        await(client.insertAsync(insert), "insert");
      } catch (Failed f) {
        if (!f.failure.zoneLevel()) {
          throw f.toProvider(where(zone, r.name()) + ": insert failed");
        }
        log.warn("Zone [{}] cannot take VM [{}] of [{}]: {}", zone, r.name(), r.hostType(), f.failure.message());
        refusals.add(zone + ": " + f.failure.message());
        allQuota &= f.failure.kind() == Kind.QUOTA;
        continue;
      }
      Instance made = describe(zone, r);
      log.info("Created VM [{}] of [{}] in [{}/{}]: {}", r.name(), r.hostType(), settings.project(), zone, made.detail());
      return made;
    }
    throw new ProviderException(allQuota ? Kind.QUOTA : Kind.UNAVAILABLE, "project " + settings.project()
        + ": no zone could take VM " + r.name() + " of " + r.hostType() + ": " + String.join("; ", refusals));
  }

  /** The VM as GCE has it just after its insert; as far as known when that read fails (the VM exists). */
  private Instance describe(String zone, InstanceRequest r) {
    try {
      return GceInstances.fromGce(client.get(settings.project(), zone, r.name()));
    } catch (RuntimeException e) {
      log.info("VM [{}] was inserted in [{}] but cannot be read yet: {}", r.name(), zone, GceErrors.ofCall(e).message());
      return new Instance(r.name(), r.hostType(), zone, InstanceState.PENDING, "inserted", 0, r.deleteAtEpochSecond());
    }
  }

  private void deleteNow(Instance instance) {
    if (!InstanceNames.valid(instance.name())) {
      throw new ProviderException(Kind.REFUSED, "\"" + instance.name() + "\" is not a valid VM name");
    }
    String zone = instance.location();
    if (zone.isEmpty()) {
      zone = listNow().stream().filter(i -> i.name().equals(instance.name())).map(Instance::location).findFirst().orElse("");
      if (zone.isEmpty()) {
        log.info("VM [{}] is in no zone of project [{}]: gone already", instance.name(), settings.project());
        return;
      }
    }
    DeleteInstanceRequest delete = DeleteInstanceRequest.newBuilder()
        .setProject(settings.project())
        .setZone(zone)
        .setInstance(instance.name())
        .setRequestId(UUID.randomUUID().toString())
        .build();
    try {
      await(client.deleteAsync(delete), "delete");
      log.info("Deleted VM [{}] of [{}] from [{}/{}]", instance.name(), instance.hostType(), settings.project(), zone);
    } catch (Failed f) {
      if (!f.failure.notFound()) {
        throw f.toProvider(where(zone, instance.name()) + ": delete failed");
      }
      log.info("VM [{}] in [{}/{}] was gone already", instance.name(), settings.project(), zone);
    }
  }

  private List<Instance> listNow() {
    List<Instance> out = new ArrayList<>();
    String token = "";
    do {
      AggregatedListInstancesRequest.Builder req = AggregatedListInstancesRequest.newBuilder()
          .setProject(settings.project())
          .setFilter(FILTER);
      if (!token.isEmpty()) {
        req.setPageToken(token);
      }
      InstanceAggregatedList page;
      try {
        page = client.aggregatedListCallable().call(req.build());
      } catch (RuntimeException e) {
        throw new Failed(GceErrors.ofCall(e), e).toProvider("project " + settings.project() + ": list of VMs failed");
      }
      // A zone that did not answer hides its VMs: a list without them would read as "gone".
      List<String> unreachable = new ArrayList<>(page.getUnreachablesList());
      for (Map.Entry<String, InstancesScopedList> scope : page.getItemsMap().entrySet()) {
        if (scope.getValue().getWarning().getCode().equals("UNREACHABLE")) {
          unreachable.add(scope.getKey() + " (" + scope.getValue().getWarning().getMessage() + ")");
        }
        for (com.google.cloud.compute.v1.Instance vm : scope.getValue().getInstancesList()) {
          out.add(GceInstances.fromGce(vm));
        }
      }
      if (!unreachable.isEmpty()) {
        throw new ProviderException(Kind.UNAVAILABLE, "project " + settings.project() + ": list of VMs incomplete, "
            + String.join(", ", unreachable) + " did not answer");
      }
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    log.debug("Listed {} VM(s) of project [{}]", out.size(), settings.project());
    return out;
  }

  /**
   * Waits for an operation on the calling (blocking) thread. An operation that ends with an error
   * fails like a refused call; one that is not done within the settings' timeout fails as
   * unavailable (GCE goes on with it: the janitor finds what it makes).
   */
  private Operation await(OperationFuture<Operation, Operation> future, String what) {
    Duration timeout = settings.operationTimeout();
    try {
      Operation op = future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (op.getError().getErrorsCount() > 0) {
        throw new Failed(GceErrors.ofOperation(op), null);
      }
      return op;
    } catch (ExecutionException e) {
      Operation last = lastSnapshot(future);
      if (last != null && last.getError().getErrorsCount() > 0) {
        throw new Failed(GceErrors.ofOperation(last), e.getCause());
      }
      if (e.getCause() instanceof CancellationException) {
        throw notDone(future, what, timeout, e.getCause());
      }
      throw new Failed(GceErrors.ofCall(e.getCause()), e.getCause());
    } catch (TimeoutException | CancellationException e) {
      future.cancel(true);
      throw notDone(future, what, timeout, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      future.cancel(true);
      throw new Failed(new GceErrors.Failure(Kind.UNAVAILABLE, false, false, "interrupted while waiting for the " + what), e);
    }
  }

  private static Failed notDone(OperationFuture<Operation, Operation> future, String what, Duration timeout, Throwable cause) {
    String op = "";
    try {
      op = future.getInitialFuture().isDone() ? " (operation " + future.getName() + ")" : "";
    } catch (ExecutionException | InterruptedException | RuntimeException e) {
      // The insert itself never got an answer: no operation to name.
    }
    return new Failed(new GceErrors.Failure(Kind.UNAVAILABLE, false, false, "the " + what + " was not done after " + words(timeout)
        + op + "; it may still happen, and the VM's labels let the janitor find it"), cause);
  }

  /** {@code 5m}, {@code 30s}, {@code 300ms}: as the config says it. */
  static String words(Duration d) {
    long ms = d.toMillis();
    return ms % 60_000 == 0 ? ms / 60_000 + "m" : ms % 1000 == 0 ? ms / 1000 + "s" : ms + "ms";
  }

  /** The operation as last polled, when the failure came from the operation rather than a call. */
  private static Operation lastSnapshot(OperationFuture<Operation, Operation> future) {
    try {
      var metadata = future.peekMetadata();
      return metadata != null && metadata.isDone() ? metadata.get() : null;
    } catch (ExecutionException | InterruptedException | RuntimeException e) {
      return null;
    }
  }

  private String where(String zone, String name) {
    return "project " + settings.project() + ", zone " + zone + ", VM " + name;
  }

  private <T> CompletionStage<T> async(Supplier<T> work) {
    CompletableFuture<T> f = new CompletableFuture<>();
    try {
      executor.execute(() -> {
        try {
          f.complete(work.get());
        } catch (ProviderException e) {
          f.completeExceptionally(e);
        } catch (RuntimeException e) {
          f.completeExceptionally(new ProviderException(Kind.UNAVAILABLE, "project " + settings.project() + ": " + e, e));
        }
      });
    } catch (RejectedExecutionException e) {
      f.completeExceptionally(new ProviderException(Kind.UNAVAILABLE, "the GCE provider's executor refused the call", e));
    }
    return f;
  }

  /** A failed call or operation on its way to a {@link ProviderException} with its context. */
  private static final class Failed extends RuntimeException {
    final GceErrors.Failure failure;

    Failed(GceErrors.Failure failure, Throwable cause) {
      super(failure.message(), cause, false, false);
      this.failure = failure;
    }

    ProviderException toProvider(String context) {
      return new ProviderException(failure.kind(), context + ": " + failure.message(), getCause());
    }
  }

  private static InstancesSettings clientSettings(Settings s, CredentialsProvider credentials) throws IOException {
    InstancesSettings.Builder b = InstancesSettings.newBuilder().setCredentialsProvider(credentials);
    if (!s.endpoint().isEmpty()) {
      b.setEndpoint(s.endpoint());
    }
    RetrySettings calls = RetrySettings.newBuilder()
        .setInitialRetryDelayDuration(s.retryDelay())
        .setRetryDelayMultiplier(2.0)
        .setMaxRetryDelayDuration(s.retryDelay().multipliedBy(8))
        .setMaxAttempts(s.retries() + 1)
        .setInitialRpcTimeoutDuration(CALL_TIMEOUT)
        .setRpcTimeoutMultiplier(1.0)
        .setMaxRpcTimeoutDuration(CALL_TIMEOUT)
        .setTotalTimeoutDuration(s.operationTimeout())
        .build();
    Duration firstPoll = s.pollInterval().dividedBy(10);
    RetrySettings polls = RetrySettings.newBuilder()
        .setInitialRetryDelayDuration(firstPoll.isZero() ? s.pollInterval() : firstPoll)
        .setRetryDelayMultiplier(1.5)
        .setMaxRetryDelayDuration(s.pollInterval())
        .setInitialRpcTimeoutDuration(CALL_TIMEOUT)
        .setRpcTimeoutMultiplier(1.0)
        .setMaxRpcTimeoutDuration(CALL_TIMEOUT)
        .setTotalTimeoutDuration(s.operationTimeout())
        .build();
    b.insertOperationSettings()
        .setInitialCallSettings(UnaryCallSettings.<InsertInstanceRequest, OperationSnapshot>newUnaryCallSettingsBuilder()
            .setRetryableCodes(RETRYABLE).setRetrySettings(calls).build())
        .setPollingAlgorithm(OperationTimedPollAlgorithm.create(polls));
    b.deleteOperationSettings()
        .setInitialCallSettings(UnaryCallSettings.<DeleteInstanceRequest, OperationSnapshot>newUnaryCallSettingsBuilder()
            .setRetryableCodes(RETRYABLE).setRetrySettings(calls).build())
        .setPollingAlgorithm(OperationTimedPollAlgorithm.create(polls));
    b.aggregatedListSettings().setRetryableCodes(RETRYABLE).setRetrySettings(calls);
    b.getSettings().setRetryableCodes(RETRYABLE).setRetrySettings(calls);
    return b.build();
  }

  private static CredentialsProvider credentials(Settings s) {
    if (s.credentialsFile().isEmpty()) {
      return InstancesSettings.defaultCredentialsProviderBuilder().build();
    }
    Path file = Path.of(s.credentialsFile());
    try (InputStream in = Files.newInputStream(file)) {
      return FixedCredentialsProvider.create(GoogleCredentials.fromStream(in).createScoped(GceInstances.CLOUD_PLATFORM));
    } catch (IOException e) {
      throw new IllegalArgumentException(Settings.PATH + ".credentials-file: cannot read " + file + ": " + e.getMessage(), e);
    }
  }
}
