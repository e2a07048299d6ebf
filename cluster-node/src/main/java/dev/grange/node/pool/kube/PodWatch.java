package dev.grange.node.pool.kube;

import dev.grange.node.pool.cloud.Instance;
import dev.grange.node.pool.cloud.InstanceState;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodList;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@link KubernetesProvider#watch} handle: lists the pool's pods, tells the consumer their
 * states, then watches from that list's resource version and tells every change. A pod's state is
 * told only when it (or its detail) changed since the last time; a deleted pod is {@link
 * InstanceState#GONE}.
 *
 * <p>fabric8 reconnects a dropped watch by itself; when it gives up (the resource version is too
 * old, HTTP 410, or the API refuses), this starts over after a backoff (1 s doubling to 30 s):
 * list again, tell what changed meanwhile (pods that disappeared are GONE), watch again. Listing
 * and watching run on the provider's executor; events arrive on fabric8's threads and call the
 * consumer in order, under this handle's lock, so the consumer must not block. {@link #close}
 * stops it for good.
 */
final class PodWatch implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PodWatch.class);
  static final Duration FIRST_RETRY = Duration.ofSeconds(1);
  static final Duration MAX_RETRY = Duration.ofSeconds(30);

  private final KubernetesClient client;
  private final String namespace;
  private final Executor blocking;
  private final Consumer<Instance> changed;
  private final Consumer<PodWatch> onClose;
  /** The last state told per pod name. */
  private final Map<String, Instance> told = new HashMap<>();
  private Watch current;
  private boolean closed;
  private int failures;

  PodWatch(KubernetesClient client, String namespace, Executor blocking, Consumer<Instance> changed, Consumer<PodWatch> onClose) {
    this.client = client;
    this.namespace = namespace;
    this.blocking = blocking;
    this.changed = Objects.requireNonNull(changed, "changed");
    this.onClose = onClose;
  }

  void start() {
    submit(this::establish, Duration.ZERO);
  }

  private void establish() {
    synchronized (this) {
      if (closed) {
        return;
      }
    }
    try {
      PodList list = client.pods().inNamespace(namespace).withLabel(KubeApiUse.LABEL_INSTANCE).list();
      synchronized (this) {
        if (closed) {
          return;
        }
        Set<String> present = new HashSet<>();
        for (Pod p : list.getItems()) {
          present.add(p.getMetadata().getName());
          tell(PodStates.of(p, namespace));
        }
        for (Instance gone : Set.copyOf(told.values())) {
          if (!present.contains(gone.name())) {
            tell(gone.withState(InstanceState.GONE, "deleted"));
          }
        }
      }
      String version = list.getMetadata() == null ? null : list.getMetadata().getResourceVersion();
      Watch w = client.pods().inNamespace(namespace).withLabel(KubeApiUse.LABEL_INSTANCE)
          .watch(new ListOptionsBuilder().withResourceVersion(version).build(), new PodWatcher());
      boolean stop;
      synchronized (this) {
        stop = closed;
        if (!stop) {
          current = w;
          failures = 0;
        }
      }
      if (stop) {
        w.close();
      } else {
        log.info("Watching the pods of namespace [{}] from resource version [{}]", namespace, version);
      }
    } catch (RuntimeException e) {
      retry(KubeFailures.of("watch the pods of namespace [" + namespace + "]", e).getMessage());
    }
  }

  private void retry(String why) {
    Duration delay;
    synchronized (this) {
      if (closed) {
        return;
      }
      current = null;
      long ms = Math.min(MAX_RETRY.toMillis(), FIRST_RETRY.toMillis() << Math.min(5, failures));
      failures++;
      delay = Duration.ofMillis(ms);
    }
    log.warn("Pod watch of namespace [{}] stopped, starting over in {} ms: {}", namespace, delay.toMillis(), why);
    submit(this::establish, delay);
  }

  private void submit(Runnable r, Duration delay) {
    try {
      Executor e = delay.isZero() ? blocking : CompletableFuture.delayedExecutor(delay.toMillis(), TimeUnit.MILLISECONDS, blocking);
      e.execute(r);
    } catch (RejectedExecutionException stopping) {
      log.debug("Pod watch of namespace [{}] not restarted: the executor is stopping", namespace);
    }
  }

  /** Under the lock. */
  private void tell(Instance now) {
    Instance before = now.state() == InstanceState.GONE ? told.remove(now.name()) : told.put(now.name(), now);
    if (before != null && before.state() == now.state() && before.detail().equals(now.detail())) {
      return;
    }
    try {
      changed.accept(now);
    } catch (RuntimeException e) {
      log.error("Pod watch consumer failed on [{}]", now.name(), e);
    }
  }

  @Override
  public void close() {
    Watch w;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      w = current;
      current = null;
    }
    if (w != null) {
      // Does not block: fabric8 sends the close frame asynchronously.
      w.close();
    }
    onClose.accept(this);
  }

  private final class PodWatcher implements Watcher<Pod> {
    @Override
    public void eventReceived(Action action, Pod pod) {
      synchronized (PodWatch.this) {
        if (closed) {
          return;
        }
        switch (action) {
          case ADDED, MODIFIED -> tell(PodStates.of(pod, namespace));
          case DELETED -> tell(PodStates.deleted(pod, namespace));
          default -> log.debug("Pod watch of namespace [{}]: {} ignored", namespace, action);
        }
      }
    }

    @Override
    public void onClose(WatcherException cause) {
      retry(cause.isHttpGone() ? "resource version too old (HTTP 410)" : String.valueOf(cause.getMessage()));
    }

    @Override
    public void onClose() {
      // Closed by this handle.
    }
  }
}
