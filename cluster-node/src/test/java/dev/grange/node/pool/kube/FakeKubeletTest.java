package dev.grange.node.pool.kube;

import static dev.grange.node.pool.kube.KubernetesProviderTest.await;
import static dev.grange.node.pool.kube.KubernetesProviderTest.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grange.node.pool.cloud.Instance;
import dev.grange.node.pool.cloud.InstanceRequest;
import dev.grange.node.pool.cloud.InstanceState;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fixture itself, with pods made by the real provider: a booting pod gets a real agent with
 * the command line, key and environment the contract gives it, and loses it with the pod; the
 * other behaviours leave no agent. No node runs: the agents dial a closed port and keep trying.
 */
@EnableKubernetesMockClient(crud = true)
class FakeKubeletTest {
  private static final String NS = KubernetesProviderTest.NS;
  private static final Duration BOOT = Duration.ofSeconds(60);
  private static final List<String> UNREACHABLE = List.of("ws://127.0.0.1:1", "ws://127.0.0.1:2");

  KubernetesMockServer server;
  KubernetesClient client;
  @TempDir
  Path dir;
  private ExecutorService blocking;
  private KubernetesProvider provider;
  private FakeKubelet kubelet;

  @BeforeEach
  void start() {
    blocking = Executors.newFixedThreadPool(2);
    provider = new KubernetesProvider(new KubernetesProvider.Settings(NS, ""), client, blocking);
    kubelet = new FakeKubelet(client, NS, dir);
  }

  @AfterEach
  void stop() throws Exception {
    kubelet.close();
    provider.close();
    blocking.shutdownNow();
  }

  @Test
  void aBootingPodRunsARealAgentThatStopsWhenThePodIsDeleted() throws Exception {
    InstanceRequest r = request("linux-amd64", UNREACHABLE);
    Instance made = await(provider.create(r));

    FakeKubelet.Agent agent = kubelet.awaitAgent(r.name(), BOOT);
    List<String> cmd = agent.command();
    assertEquals("dev.grange.agent.Main", cmd.get(cmd.indexOf("-cp") + 2), cmd.toString());
    assertEquals("linux-amd64", after(cmd, "--host-type"));
    assertEquals(r.name(), after(cmd, "--instance"));
    assertEquals(r.name(), after(cmd, "--hostname"));
    assertEquals(List.of("--node", "ws://127.0.0.1:1", "--node", "ws://127.0.0.1:2"), cmd.subList(cmd.size() - 4, cmd.size()));
    assertEquals(r.key(), Files.readString(Path.of(after(cmd, "--key-file")), StandardCharsets.US_ASCII));
    kubelet.awaitPod(r.name(), p -> FakeKubelet.phase(p).equals("Running"), BOOT);

    // The agent read its key and options, and keeps dialling the unreachable node.
    Path log = agent.dir().resolve("agent.log");
    awaitLog(log, "starting: host type [linux-amd64]");
    assertTrue(agent.process().isAlive(), Files.readString(log));
    Map<String, String> env = environment(agent.process().pid());
    assertEquals("linux-amd64", env.get("GRANGE_HOST_TYPE"));
    assertEquals(r.name(), env.get("GRANGE_INSTANCE"));
    assertEquals("-mod=mod", env.get("GOFLAGS"));
    assertEquals("a=b", env.get("EXTRA"));

    await(provider.delete(made));
    assertTrue(agent.process().waitFor(BOOT.toMillis(), TimeUnit.MILLISECONDS), "the agent outlived its pod");
    assertEquals(143, agent.process().exitValue(), "stopped by SIGTERM: " + Files.readString(log));
  }

  @Test
  void podsThatNeverBootFailOrCannotPullTheirImageGetNoAgent() throws Exception {
    kubelet.behave("never", FakeKubelet.Behaviour.NEVER_BOOT)
        .behave("broken", FakeKubelet.Behaviour.FAIL)
        .behave("unpullable", FakeKubelet.Behaviour.IMAGE_PULL_BACKOFF);
    InstanceRequest never = request("never", UNREACHABLE);
    InstanceRequest broken = request("broken", UNREACHABLE);
    InstanceRequest unpullable = request("unpullable", UNREACHABLE);
    InstanceRequest fine = request("linux-amd64", UNREACHABLE);
    for (InstanceRequest r : List.of(never, broken, unpullable, fine)) {
      await(provider.create(r));
    }
    // The kubelet handles pods in order: by the time the last one runs, the others are done with.
    kubelet.awaitPod(fine.name(), p -> FakeKubelet.phase(p).equals("Running"), BOOT);

    Map<String, Instance> listed = await(provider.list()).stream().collect(Collectors.toMap(Instance::name, Function.identity()));
    assertEquals(InstanceState.PENDING, listed.get(never.name()).state());
    assertEquals(InstanceState.FAILED, listed.get(broken.name()).state());
    assertEquals("Failed; agent terminated: Error, exit code 1", listed.get(broken.name()).detail());
    assertEquals(InstanceState.FAILED, listed.get(unpullable.name()).state());
    assertTrue(listed.get(unpullable.name()).detail().startsWith("Pending; agent waiting: ImagePullBackOff"),
        listed.get(unpullable.name()).detail());
    assertEquals(InstanceState.RUNNING, listed.get(fine.name()).state());
    assertEquals(List.of(fine.name()), kubelet.agents().stream().map(FakeKubelet.Agent::pod).toList());
  }

  @Test
  void anAgentThatDiesFailsItsPod() throws Exception {
    InstanceRequest r = request("linux-amd64", UNREACHABLE);
    await(provider.create(r));
    FakeKubelet.Agent agent = kubelet.awaitAgent(r.name(), BOOT);
    kubelet.awaitPod(r.name(), p -> FakeKubelet.phase(p).equals("Running"), BOOT);

    agent.process().destroyForcibly();
    kubelet.awaitPod(r.name(), p -> FakeKubelet.phase(p).equals("Failed"), BOOT);
    Instance failed = await(provider.list()).get(0);
    assertEquals(InstanceState.FAILED, failed.state());
    assertEquals("Failed; agent terminated: Error, exit code 137", failed.detail());
  }

  private static String after(List<String> cmd, String flag) {
    int i = cmd.indexOf(flag);
    assertTrue(i >= 0 && i + 1 < cmd.size(), flag + " not in " + cmd);
    return cmd.get(i + 1);
  }

  /** A process's environment, from Linux's /proc. */
  private static Map<String, String> environment(long pid) throws Exception {
    String raw = Files.readString(Path.of("/proc", Long.toString(pid), "environ"), StandardCharsets.UTF_8);
    return Arrays.stream(raw.split("\0")).filter(e -> e.indexOf('=') > 0)
        .collect(Collectors.toMap(e -> e.substring(0, e.indexOf('=')), e -> e.substring(e.indexOf('=') + 1), (a, b) -> b));
  }

  private static void awaitLog(Path log, String text) throws Exception {
    long deadline = System.nanoTime() + BOOT.toNanos();
    while (!(Files.exists(log) && Files.readString(log).contains(text))) {
      assertFalse(System.nanoTime() > deadline, "[" + text + "] not logged within " + BOOT + " in " + log);
      Thread.sleep(50);
    }
  }
}
