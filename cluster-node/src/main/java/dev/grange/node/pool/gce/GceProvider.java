package dev.grange.node.pool.gce;

import com.google.api.gax.core.CredentialsProvider;
import com.google.cloud.compute.v1.AggregatedListInstancesRequest;
import com.google.cloud.compute.v1.DeleteInstanceRequest;
import com.google.cloud.compute.v1.InsertInstanceRequest;
import com.google.cloud.compute.v1.InstanceAggregatedList;
import com.google.cloud.compute.v1.InstancesClient;
import com.google.cloud.compute.v1.InstancesScopedList;
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
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
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
    /** {@code credentials-file = none}: no credentials at all, for a local fake or an emulator of the Compute API. */
    public static final String NO_CREDENTIALS = "none";

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
    this(settings, GceClient.credentials(settings), executor);
  }

  /** With explicit credentials: {@code NoCredentialsProvider} for a local fake. */
  public GceProvider(Settings settings, CredentialsProvider credentials, Executor executor) {
    this.settings = settings;
    this.executor = executor;
    try {
      this.client = GceClient.create(settings, credentials);
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
        GceClient.await(client.insertAsync(insert), settings.operationTimeout(), "insert");
      } catch (GceClient.Failed f) {
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
      GceClient.await(client.deleteAsync(delete), settings.operationTimeout(), "delete");
      log.info("Deleted VM [{}] of [{}] from [{}/{}]", instance.name(), instance.hostType(), settings.project(), zone);
    } catch (GceClient.Failed f) {
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
        throw new GceClient.Failed(GceErrors.ofCall(e), e).toProvider("project " + settings.project() + ": list of VMs failed");
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
}
