package dev.grange.node.pool.kube;

import com.typesafe.config.Config;
import dev.grange.node.pool.cloud.Instance;
import dev.grange.node.pool.cloud.InstanceProvider;
import dev.grange.node.pool.cloud.InstanceRequest;
import dev.grange.node.pool.cloud.InstanceNames;
import dev.grange.node.pool.cloud.ProviderException;
import dev.grange.protocol.model.PoolKind;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodList;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretList;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.dsl.NonNamespaceOperation;
import io.fabric8.kubernetes.client.dsl.PodResource;
import io.fabric8.kubernetes.client.dsl.Resource;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link InstanceProvider} of {@link PoolKind#KUBERNETES} host types: a pod and a Secret per
 * instance in one namespace, made with fabric8, using only what {@link KubeApiUse#POOL_NAMESPACE}
 * allows (pods: create, delete, list, watch; secrets: create, delete, list).
 *
 * <p>{@link #create} makes the pod first ({@link PodRecipe}): its volume names a Secret that does
 * not exist yet, which the kubelet waits for. Then the Secret, owned by the pod's uid, so that the
 * garbage collector deletes it with the pod; no update of either is ever needed. When the Secret
 * cannot be made the pod is deleted again and the future fails: nothing is left behind. {@link
 * #delete} deletes both. {@link #list} reports the pods labelled {@link KubeApiUse#LABEL_INSTANCE}
 * ({@link PodStates}) and deletes the Secrets whose pod is gone (left by a crash between the two
 * deletes, or where no garbage collector runs): they are never reported. {@link #watch} is a pod
 * watch ({@link PodWatch}): it first tells the state of every pod as it is when the watch starts,
 * then each change once; the consumer is called on fabric8's threads and must not block.
 *
 * <p>Every blocking call runs on the executor given; futures fail with {@link ProviderException}
 * ({@link KubeFailures}). The client made from {@link Settings} does not retry by itself: the
 * pool retries what is {@code UNAVAILABLE} with its own backoff and rate limits, and fabric8's
 * default (10 retries, exponential from 100 ms) would hide an outage from it for minutes.
 */
public final class KubernetesProvider implements InstanceProvider {
  private static final Logger log = LoggerFactory.getLogger(KubernetesProvider.class);
  private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");

  /**
   * {@code grange.pools.kubernetes}.
   *
   * @param namespace where the pods and Secrets are made (the chart's pool namespace)
   * @param masterUrl the API server; empty: fabric8's auto-configuration (the pod's service
   *     account in a cluster, else {@code ~/.kube/config})
   */
  public record Settings(String namespace, String masterUrl) {
    public Settings {
      if (namespace == null || namespace.length() > 63 || !DNS_LABEL.matcher(namespace).matches()) {
        throw new IllegalArgumentException("grange.pools.kubernetes.namespace: [" + namespace
            + "] is not a namespace name (lower case letters, digits and '-', at most 63 characters)");
      }
      masterUrl = masterUrl == null ? "" : masterUrl;
      if (!masterUrl.isEmpty()) {
        try {
          URI u = new URI(masterUrl);
          if (!("https".equals(u.getScheme()) || "http".equals(u.getScheme())) || u.getHost() == null) {
            throw new URISyntaxException(masterUrl, "must be http(s)://HOST[:PORT]");
          }
        } catch (URISyntaxException e) {
          throw new IllegalArgumentException("grange.pools.kubernetes.master-url: [" + masterUrl + "] is not an API server URL: "
              + e.getMessage(), e);
        }
      }
    }

    /** Reads {@code grange.pools.kubernetes} of the node's config. */
    public static Settings fromConfig(Config root) {
      Config k = root.getConfig("grange.pools.kubernetes");
      return new Settings(k.getString("namespace"), k.getString("master-url"));
    }
  }

  private final Settings settings;
  private final KubernetesClient client;
  private final boolean ownsClient;
  private final Executor blocking;
  private final Set<PodWatch> watches = new CopyOnWriteArraySet<>();
  private volatile boolean closed;

  /** A provider with its own client, configured as {@link Settings} says; {@link #close} closes it. */
  public KubernetesProvider(Settings settings, Executor blocking) {
    this(settings, client(settings), true, blocking);
  }

  /**
   * A provider on a ready client (tests: the mock API server), used in {@code settings.namespace()};
   * its master URL is not used and the client stays the caller's to close.
   */
  public KubernetesProvider(Settings settings, KubernetesClient client, Executor blocking) {
    this(settings, client, false, blocking);
  }

  private KubernetesProvider(Settings settings, KubernetesClient client, boolean ownsClient, Executor blocking) {
    this.settings = settings;
    this.client = client;
    this.ownsClient = ownsClient;
    this.blocking = blocking;
  }

  private static KubernetesClient client(Settings s) {
    io.fabric8.kubernetes.client.Config c = io.fabric8.kubernetes.client.Config.autoConfigure(null);
    if (!s.masterUrl().isEmpty()) {
      c.setMasterUrl(s.masterUrl());
    }
    c.setRequestRetryBackoffLimit(0);
    return new KubernetesClientBuilder().withConfig(c).build();
  }

  @Override
  public PoolKind kind() {
    return PoolKind.KUBERNETES;
  }

  @Override
  public CompletionStage<Instance> create(InstanceRequest request) {
    return call(() -> {
      PodRecipe.check(request);
      String what = "pod [" + settings.namespace() + "/" + request.name() + "]";
      Pod created;
      try {
        created = pods().resource(PodRecipe.pod(request)).create();
      } catch (RuntimeException e) {
        ProviderException failure = KubeFailures.of("create " + what + " of host type [" + request.hostType() + "]", e);
        if (failure.kind() == ProviderException.Kind.UNAVAILABLE) {
          // The API server may have made it before the answer was lost.
          deleteQuietly(request.name(), "its create failed");
        }
        throw failure;
      }
      try {
        secrets().resource(PodRecipe.secret(request, created)).create();
      } catch (RuntimeException e) {
        ProviderException failure = KubeFailures.of("create Secret [" + settings.namespace() + "/" + request.name()
            + "] of " + what, e);
        deleteQuietly(request.name(), "its Secret could not be made");
        throw failure;
      }
      log.info("Created {} of host type [{}] with its Secret, delete at {}", what, request.hostType(),
          request.deleteAtEpochSecond());
      return PodStates.of(created, settings.namespace());
    });
  }

  @Override
  public CompletionStage<Void> delete(Instance instance) {
    return call(() -> {
      if (!InstanceNames.valid(instance.name())) {
        throw new ProviderException(ProviderException.Kind.REFUSED, "instance name [" + instance.name() + "] is not a pod name");
      }
      String name = instance.name();
      String at = "[" + settings.namespace() + "/" + name + "]";
      boolean deleted;
      try {
        deleted = !pods().withName(name).delete().isEmpty();
      } catch (RuntimeException e) {
        throw KubeFailures.of("delete pod " + at, e);
      }
      try {
        deleted |= !secrets().withName(name).delete().isEmpty();
      } catch (RuntimeException e) {
        throw KubeFailures.of("delete Secret " + at + " (its pod is deleted)", e);
      }
      if (deleted) {
        log.info("Deleted pod {} and its Secret", at);
      } else {
        log.debug("Pod {} and its Secret were gone already", at);
      }
      return null;
    });
  }

  @Override
  public CompletionStage<List<Instance>> list() {
    return call(() -> {
      // Secrets first: a Secret is made after its pod, so one listed here whose pod is missing
      // from the pod list that follows has lost its pod (it is not one being made right now).
      List<Secret> secrets;
      try {
        secrets = secrets().withLabel(KubeApiUse.LABEL_INSTANCE).list().getItems();
      } catch (RuntimeException e) {
        secrets = List.of();
        log.warn("{}", KubeFailures.of("list the Secrets of namespace [" + settings.namespace() + "]", e).getMessage());
      }
      List<Pod> pods;
      try {
        pods = pods().withLabel(KubeApiUse.LABEL_INSTANCE).list().getItems();
      } catch (RuntimeException e) {
        throw KubeFailures.of("list the pods of namespace [" + settings.namespace() + "]", e);
      }
      Set<String> podNames = new HashSet<>();
      List<Instance> out = new ArrayList<>(pods.size());
      for (Pod p : pods) {
        podNames.add(p.getMetadata().getName());
        out.add(PodStates.of(p, settings.namespace()));
      }
      for (Secret s : secrets) {
        String name = s.getMetadata().getName();
        if (!podNames.contains(name)) {
          deleteOrphan(name);
        }
      }
      return List.copyOf(out);
    });
  }

  @Override
  public AutoCloseable watch(Consumer<Instance> changed) {
    if (closed) {
      throw new IllegalStateException("Kubernetes provider of namespace [" + settings.namespace() + "] is closed");
    }
    PodWatch w = new PodWatch(client, settings.namespace(), blocking, changed, watches::remove);
    watches.add(w);
    w.start();
    return w;
  }

  @Override
  public void close() {
    closed = true;
    for (PodWatch w : watches) {
      w.close();
    }
    if (ownsClient) {
      client.close();
    }
  }

  /** The namespace this provider makes its pods in. */
  public String namespace() {
    return settings.namespace();
  }

  private void deleteOrphan(String name) {
    try {
      secrets().withName(name).delete();
      log.info("Deleted Secret [{}/{}]: its pod is gone", settings.namespace(), name);
    } catch (RuntimeException e) {
      log.warn("{}", KubeFailures.of("delete Secret [" + settings.namespace() + "/" + name + "] whose pod is gone", e).getMessage());
    }
  }

  /** Deletes a pod a failed create may have left; a failure is logged (its delete-at label lets the janitor find it). */
  private void deleteQuietly(String name, String why) {
    try {
      pods().withName(name).delete();
      log.info("Deleted pod [{}/{}]: {}", settings.namespace(), name, why);
    } catch (RuntimeException e) {
      log.warn("Pod [{}/{}] may be left behind ({}): {}", settings.namespace(), name, why,
          KubeFailures.of("delete pod [" + settings.namespace() + "/" + name + "]", e).getMessage());
    }
  }

  private NonNamespaceOperation<Pod, PodList, PodResource> pods() {
    return client.pods().inNamespace(settings.namespace());
  }

  private NonNamespaceOperation<Secret, SecretList, Resource<Secret>> secrets() {
    return client.secrets().inNamespace(settings.namespace());
  }

  /** Runs {@code work} on the executor; any failure becomes a {@link ProviderException}. */
  private <T> CompletionStage<T> call(Supplier<T> work) {
    if (closed) {
      return CompletableFuture.failedFuture(new ProviderException(ProviderException.Kind.UNAVAILABLE,
          "Kubernetes provider of namespace [" + settings.namespace() + "] is closed"));
    }
    try {
      return CompletableFuture.supplyAsync(work, blocking).exceptionallyCompose(e -> {
        Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        return CompletableFuture.failedFuture(KubeFailures.of("call the API server in namespace [" + settings.namespace() + "]",
            cause));
      });
    } catch (RejectedExecutionException e) {
      return CompletableFuture.failedFuture(new ProviderException(ProviderException.Kind.UNAVAILABLE,
          "Kubernetes provider of namespace [" + settings.namespace() + "]: its executor is stopping", e));
    }
  }
}
