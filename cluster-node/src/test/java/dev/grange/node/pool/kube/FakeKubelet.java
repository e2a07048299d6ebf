package dev.grange.node.pool.kube;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A kubelet for tests, on fabric8's CRUD mock API server: watches the pool's pods (label {@link
 * KubeApiUse#LABEL_INSTANCE}) in one namespace and runs each as the agent image would, as a REAL
 * agent process ({@code dev.grange.agent.Main}) on this machine. It keeps the contract of {@link
 * KubeApiUse}: the host type and instance from the container's {@code GRANGE_HOST_TYPE} and {@code
 * GRANGE_INSTANCE}, the key and node URLs from the pod's Secret (waited for when the pod comes
 * first, as a kubelet waits for a volume), the host type's other env entries in the process's
 * environment. Then it sets the pod Running; when the agent exits by itself the pod is Succeeded
 * (status 0) or Failed, as with {@code restartPolicy: Never}; when the pod is deleted (or gets a
 * deletion timestamp) it stops the agent: SIGTERM, then SIGKILL after {@code killAfter}.
 *
 * <p>{@link #behave} (or {@link #behaveNext}, for the next few only) makes the pods of a host type never boot (Pending for ever, no process),
 * fail at once (Failed, exit code 1) or be stuck pulling their image (ImagePullBackOff). Each
 * agent gets a directory {@code <dir>/<pod>/} with its mounted files ({@code etc-grange/key},
 * {@code etc-grange/node-urls}), workdir, spool and {@code agent.log}.
 *
 * <p>Events are handled one at a time on the kubelet's own thread; {@link #close} stops the
 * watches and every agent still running.
 */
public final class FakeKubelet implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(FakeKubelet.class);

  /** What the kubelet does with a new pod. */
  public enum Behaviour {
    /** Starts its agent and sets the pod Running. */
    BOOT,
    /** Leaves the pod Pending, no agent: a machine that never connects. */
    NEVER_BOOT,
    /** Sets the pod Failed, its agent container terminated with exit code 1, no agent. */
    FAIL,
    /** Leaves the pod Pending with its container waiting in ImagePullBackOff, no agent. */
    IMAGE_PULL_BACKOFF
  }

  /** A pod's agent process as started: its command line, process and directory. */
  public record Agent(String pod, List<String> command, Process process, Path dir) {}

  private final KubernetesClient client;
  private final String namespace;
  private final Path dir;
  private final String java;
  private final String classpath;
  private final Duration killAfter;
  private final ScheduledExecutorService thread;
  private final Map<String, Behaviour> behaviours = new ConcurrentHashMap<>();
  private volatile Behaviour fallback = Behaviour.BOOT;
  /** Behaviours for the next pods of a host type, one each, before {@link #behaviours} again. */
  private final Map<String, java.util.Queue<Behaviour>> upcoming = new ConcurrentHashMap<>();
  /** On the kubelet's thread only: the pods seen and what was done with them. */
  private final Map<String, Seen> pods = new HashMap<>();
  private final Map<String, Agent> agents = new ConcurrentHashMap<>();
  private final List<Watch> watches = new ArrayList<>();
  private volatile boolean closed;

  private static final class Seen {
    Pod pod;
    Behaviour behaviour;
    boolean handled;
    boolean deleted;
  }

  /**
   * Runs agents with this JVM's java and classpath (a test's classpath holds the agent's), killed
   * 5 s after a SIGTERM they did not obey. Returns once it watches.
   */
  public FakeKubelet(KubernetesClient client, String namespace, Path dir) {
    this(client, namespace, dir, Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        System.getProperty("java.class.path"), Duration.ofSeconds(5));
  }

  public FakeKubelet(KubernetesClient client, String namespace, Path dir, String java, String classpath, Duration killAfter) {
    this.client = client;
    this.namespace = namespace;
    this.dir = dir.toAbsolutePath();
    this.java = java;
    this.classpath = classpath;
    this.killAfter = killAfter;
    this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "fake-kubelet-" + namespace);
      t.setDaemon(true);
      return t;
    });
    watches.add(client.pods().inNamespace(namespace).withLabel(KubeApiUse.LABEL_INSTANCE).watch(new Watcher<Pod>() {
      @Override
      public void eventReceived(Action action, Pod pod) {
        post("pod " + pod.getMetadata().getName(), () -> onPod(action, pod));
      }

      @Override
      public void onClose(WatcherException cause) {
        log.warn("Fake kubelet's pod watch of [{}] ended: {}", namespace, cause.toString());
      }
    }));
    watches.add(client.secrets().inNamespace(namespace).withLabel(KubeApiUse.LABEL_INSTANCE).watch(new Watcher<Secret>() {
      @Override
      public void eventReceived(Action action, Secret secret) {
        if (action == Action.ADDED) {
          post("Secret " + secret.getMetadata().getName(), () -> onSecret(secret));
        }
      }

      @Override
      public void onClose(WatcherException cause) {
        log.warn("Fake kubelet's Secret watch of [{}] ended: {}", namespace, cause.toString());
      }
    }));
  }

  /** What to do with the pods of {@code hostType} that appear from now on. */
  public FakeKubelet behave(String hostType, Behaviour b) {
    behaviours.put(hostType, b);
    return this;
  }

  /** What to do with the next {@code count} pods of {@code hostType}; then as before. */
  public FakeKubelet behaveNext(String hostType, Behaviour b, int count) {
    java.util.Queue<Behaviour> q = upcoming.computeIfAbsent(hostType, h -> new java.util.concurrent.ConcurrentLinkedQueue<>());
    for (int i = 0; i < count; i++) {
      q.add(b);
    }
    return this;
  }

  /** What to do with the pods of host types {@link #behave} did not name ({@link Behaviour#BOOT} at first). */
  public FakeKubelet behaveByDefault(Behaviour b) {
    fallback = b;
    return this;
  }

  /** The agent started for {@code pod}, if one was. */
  public Optional<Agent> agent(String pod) {
    return Optional.ofNullable(agents.get(pod));
  }

  /** Every agent started so far, running or not. */
  public List<Agent> agents() {
    return List.copyOf(agents.values());
  }

  /** The agent of {@code pod}, waiting for it to be started up to {@code timeout}. */
  public Agent awaitAgent(String pod, Duration timeout) throws InterruptedException, TimeoutException {
    return await(() -> agents.get(pod), timeout, "no agent started for pod " + pod);
  }

  /** Waits up to {@code timeout} until pod {@code name} satisfies {@code p} (its phase, say); returns it. */
  public Pod awaitPod(String name, Predicate<Pod> p, Duration timeout) throws InterruptedException, TimeoutException {
    return await(() -> {
      Pod pod = client.pods().inNamespace(namespace).withName(name).get();
      return pod != null && p.test(pod) ? pod : null;
    }, timeout, "pod " + name + " not as expected");
  }

  /** The pod's phase, Pending while it has none. */
  public static String phase(Pod pod) {
    return pod.getStatus() == null || pod.getStatus().getPhase() == null ? "Pending" : pod.getStatus().getPhase();
  }

  private static <T> T await(Supplier<T> probe, Duration timeout, String what) throws InterruptedException, TimeoutException {
    long deadline = System.nanoTime() + timeout.toNanos();
    long pause = 10;
    while (true) {
      T t = probe.get();
      if (t != null) {
        return t;
      }
      if (System.nanoTime() > deadline) {
        throw new TimeoutException(what + " within " + timeout);
      }
      Thread.sleep(pause);
      pause = Math.min(200, pause * 2);
    }
  }

  /**
   * Handles an event on the kubelet's thread, unless it is closed; a failure (a pod deleted
   * meanwhile...) is logged and the kubelet goes on.
   */
  private void post(String what, Runnable r) {
    try {
      thread.execute(() -> {
        if (closed) {
          return;
        }
        try {
          r.run();
        } catch (RuntimeException e) {
          log.warn("Fake kubelet of [{}]: handling {} failed", namespace, what, e);
        }
      });
    } catch (RejectedExecutionException afterClose) {
      // Closed: nothing more is handled.
    }
  }

  private void onPod(Watcher.Action action, Pod pod) {
    String name = pod.getMetadata().getName();
    if (action == Watcher.Action.DELETED || pod.getMetadata().getDeletionTimestamp() != null) {
      Seen s = pods.get(name);
      if (s != null && !s.deleted) {
        s.deleted = true;
        stop(name);
      }
      if (action == Watcher.Action.DELETED) {
        pods.remove(name);
      }
      return;
    }
    if (action != Watcher.Action.ADDED && action != Watcher.Action.MODIFIED) {
      return;
    }
    Seen s = pods.computeIfAbsent(name, n -> {
      Seen fresh = new Seen();
      String hostType = pod.getMetadata().getLabels().get(KubeApiUse.LABEL_HOST_TYPE);
      java.util.Queue<Behaviour> next = upcoming.get(hostType == null ? "" : hostType);
      Behaviour once = next == null ? null : next.poll();
      fresh.behaviour = once != null ? once : behaviours.getOrDefault(hostType == null ? "" : hostType, fallback);
      return fresh;
    });
    s.pod = pod;
    if (!s.handled) {
      handle(name, s, null);
    }
  }

  private void onSecret(Secret secret) {
    Seen s = pods.get(secret.getMetadata().getName());
    if (s != null && !s.handled && !s.deleted) {
      handle(secret.getMetadata().getName(), s, secret);
    }
  }

  /** Does what the pod's behaviour says; a booting pod waits for its Secret. */
  private void handle(String name, Seen s, Secret secret) {
    switch (s.behaviour) {
      case NEVER_BOOT -> s.handled = true;
      case FAIL -> {
        s.handled = true;
        PodStatuses.put(client, namespace, name, PodStatuses.exited(1, "Error"));
      }
      case IMAGE_PULL_BACKOFF -> {
        s.handled = true;
        PodStatuses.put(client, namespace, name, PodStatuses.waiting("ImagePullBackOff",
            "Back-off pulling image \"" + container(s.pod).getImage() + "\""));
      }
      case BOOT -> {
        Secret sec = secret != null ? secret : client.secrets().inNamespace(namespace).withName(name).get();
        if (sec == null) {
          log.info("Pod [{}/{}] waits for its Secret", namespace, name);
          return;
        }
        s.handled = true;
        boot(name, s.pod, sec);
      }
    }
  }

  private void boot(String name, Pod pod, Secret secret) {
    Container c = container(pod);
    Map<String, String> env = new HashMap<>();
    for (EnvVar e : c.getEnv()) {
      env.put(e.getName(), e.getValue());
    }
    Path podDir = dir.resolve(name);
    try {
      Path mount = Files.createDirectories(podDir.resolve("etc-grange"));
      Path keyFile = mount.resolve(KubeApiUse.SECRET_KEY);
      Files.writeString(keyFile, decode(secret, KubeApiUse.SECRET_KEY), StandardCharsets.US_ASCII);
      Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("r--------"));
      String urls = decode(secret, KubeApiUse.SECRET_NODE_URLS);
      Files.writeString(mount.resolve(KubeApiUse.SECRET_NODE_URLS), urls, StandardCharsets.UTF_8);
      List<String> cmd = new ArrayList<>(List.of(java, "-Xms16m", "-Xmx128m", "-XX:+UseSerialGC", "-Xss512k",
          "-cp", classpath, "dev.grange.agent.Main",
          "--host-type", env.get(KubeApiUse.ENV_HOST_TYPE),
          "--key-file", keyFile.toString(),
          "--instance", env.get(KubeApiUse.ENV_INSTANCE),
          "--hostname", name,
          "--workdir", podDir.resolve("work").toString(),
          "--spool-dir", podDir.resolve("spool").toString()));
      for (String url : urls.split("\n")) {
        if (!url.isBlank()) {
          cmd.add("--node");
          cmd.add(url.strip());
        }
      }
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(podDir.resolve("agent.log").toFile()));
      // The container's environment, as the image's entry point sees it.
      pb.environment().putAll(env);
      Process p = pb.start();
      agents.put(name, new Agent(name, List.copyOf(cmd), p, podDir));
      log.info("Pod [{}/{}]: agent started, pid {}", namespace, name, p.pid());
      p.onExit().thenAccept(done -> post("agent of " + name, () -> onExit(name, done.exitValue())));
      PodStatuses.put(client, namespace, name, PodStatuses.running());
    } catch (IOException e) {
      log.error("Pod [{}/{}]: cannot start its agent", namespace, name, e);
      PodStatuses.put(client, namespace, name, PodStatuses.exited(128, "StartError"));
    }
  }

  private void onExit(String name, int code) {
    Seen s = pods.get(name);
    log.info("Pod [{}/{}]: agent exited with status {}", namespace, name, code);
    if (s != null && !s.deleted && !closed) {
      PodStatuses.put(client, namespace, name, PodStatuses.exited(code, code == 0 ? "Completed" : "Error"));
    }
  }

  private void stop(String name) {
    Agent a = agents.get(name);
    if (a == null || !a.process().isAlive()) {
      return;
    }
    log.info("Pod [{}/{}] deleted: stopping its agent", namespace, name);
    a.process().destroy();
    thread.schedule(() -> {
      if (a.process().isAlive()) {
        log.warn("Pod [{}/{}]: agent still running {} after SIGTERM, killing it", namespace, name, killAfter);
        a.process().destroyForcibly();
      }
    }, killAfter.toMillis(), TimeUnit.MILLISECONDS);
  }

  private static Container container(Pod pod) {
    return pod.getSpec().getContainers().stream().filter(c -> PodRecipe.CONTAINER.equals(c.getName())).findFirst()
        .orElseThrow(() -> new IllegalStateException("pod " + pod.getMetadata().getName() + " has no agent container"));
  }

  private static String decode(Secret s, String key) throws IOException {
    String v = s.getData() == null ? null : s.getData().get(key);
    if (v == null) {
      throw new IOException("Secret " + s.getMetadata().getName() + " has no " + key);
    }
    return new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8);
  }

  /** Stops the watches, then every agent still running (SIGTERM, SIGKILL after {@code killAfter}), and waits for them. */
  @Override
  public void close() throws InterruptedException {
    closed = true;
    watches.forEach(Watch::close);
    List<Process> running = agents.values().stream().map(Agent::process).filter(Process::isAlive).toList();
    running.forEach(Process::destroy);
    for (Process p : running) {
      if (!p.waitFor(killAfter.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        p.waitFor(killAfter.toMillis(), TimeUnit.MILLISECONDS);
      }
    }
    thread.shutdownNow();
  }
}
