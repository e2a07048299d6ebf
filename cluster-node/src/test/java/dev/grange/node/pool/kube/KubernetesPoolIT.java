package dev.grange.node.pool.kube;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.grange.node.testing.Browser;
import dev.grange.node.testing.TestNode;
import dev.grange.node.testing.TestRepos;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;

/**
 * A node whose host types come from a Kubernetes pool: fabric8's mock API server in CRUD mode
 * stands for the cluster, and {@link FakeKubelet} for its kubelets, starting a real agent process
 * for each pod the pool creates, from the pod's Secret. A build runs on a fresh pod whose agent
 * dials in, with its stages recorded; a pod left by an earlier node generation is deleted by the
 * janitor; a pod whose agent never connects is deleted at its boot timeout and another is made;
 * 50 builds at once never have more pods than the quota, and all of them run; idle pods are
 * deleted after the idle timeout.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KubernetesPoolIT {
  private static final String NS = "grange-pool";
  private static final int QUOTA = 4;
  private static final Duration DEADLINE = Duration.ofSeconds(120);

  private static KubernetesMockServer server;
  private static KubernetesClient client;
  private static FakeKubelet kubelet;
  private static TestNode node;
  private static Path repo;
  private static final Set<String> live = ConcurrentHashMap.newKeySet();
  private static final AtomicInteger mostAtOnce = new AtomicInteger();
  private static Watch counting;

  @BeforeAll
  static void start() throws Exception {
    server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher(), false);
    server.init();
    client = server.createClient();
    // Left by an earlier node generation: the farm's labels, owned by no live pool.
    client.pods().inNamespace(NS).resource(new PodBuilder().withNewMetadata().withName("grange-kube-linux-0ld0ld00")
        .addToLabels(KubeApiUse.LABEL_HOST_TYPE, "kube-linux").addToLabels(KubeApiUse.LABEL_INSTANCE, "grange-kube-linux-0ld0ld00")
        .endMetadata().withNewSpec().addNewContainer().withName("agent").withImage("old").endContainer().endSpec().build()).create();
    counting = client.pods().inNamespace(NS).withLabel(KubeApiUse.LABEL_HOST_TYPE, "kube-linux").watch(new Watcher<>() {
      @Override
      public void eventReceived(Action action, Pod pod) {
        String name = pod.getMetadata().getName();
        if (name.contains("0ld0ld00")) {
          return;
        }
        if (action == Action.DELETED) {
          live.remove(name);
        } else if (action == Action.ADDED) {
          live.add(name);
          mostAtOnce.accumulateAndGet(live.size(), Math::max);
        }
      }

      @Override
      public void onClose(WatcherException cause) {}
    });
    kubelet = new FakeKubelet(client, NS, Files.createTempDirectory(Path.of("target").toAbsolutePath(), "kubelet"));
    kubelet.behave("kube-never", FakeKubelet.Behaviour.NEVER_BOOT);
    repo = TestRepos.create("kube-repo", Map.of("hello.txt", "hello from a pod\n"));
    String farm = """
        grange.hosts {
          kube-linux { pool = kubernetes, kubernetes { image = "grange/agent:test", cpu = "1", memory = "1Gi" }, boot-timeout = 60s }
          kube-never { pool = kubernetes, kubernetes { image = "grange/agent:broken", cpu = "1", memory = "1Gi" }, boot-timeout = 3s }
        }
        grange.builders {
          kube-hello { host-type = kube-linux, steps = [ { name = cat, cmd = "/bin/sh", args = ["-c", "cat hello.txt"], sys = true, timeout = 1m } ] }
          kube-stuck { host-type = kube-never, steps = [ { name = t, cmd = "true", sys = true } ] }
        }
        grange.pools.kubernetes {
          master-url = "%s", namespace = "%s", max-instances = %d, api-rate = 20, janitor-interval = 2s, idle-timeout = 4s
        }
        """.formatted(server.url("/").replaceAll("/$", ""), NS, QUOTA);
    node = new TestNode("kubepool", farm).start();
  }

  @AfterAll
  static void stop() throws Exception {
    if (node != null) {
      node.close();
    }
    if (counting != null) {
      counting.close();
    }
    if (kubelet != null) {
      kubelet.close();
    }
    if (client != null) {
      client.close();
    }
    if (server != null) {
      server.destroy();
    }
  }

  @Test
  @Order(1)
  void aBuildRunsOnAFreshPodWhoseAgentDialsIn() throws Exception {
    String id = submit("kube-hello");
    JsonNode b = node.await("/api/v1/builds/" + id, TestNode::isOver, DEADLINE);
    assertEquals("ok", b.get("state").asText(), b.toString());
    assertEquals("hello from a pod\n", log(id));
    JsonNode attempt = b.get("attempts").get(0);
    List<String> stages = new ArrayList<>();
    attempt.get("stages").forEach(s -> stages.add(s.get("name").asText()));
    assertEquals(List.of("get_buildlet", "create_instance", "wait_agent"), stages, attempt.toString());
    String pod = attempt.get("hostname").asText();
    assertTrue(kubelet.agent(pod).isPresent(), "a real agent ran for pod " + pod);
    Pod p = client.pods().inNamespace(NS).withName(pod).get();
    assertEquals("kube-linux", p.getMetadata().getLabels().get(KubeApiUse.LABEL_HOST_TYPE));
    // The build page shows how it got its buildlet.
    try (Browser browser = Browser.start("kube-build")) {
      browser.open(node.base() + "/builds/" + id);
      String cell = browser.awaitText("the attempt's stages", By.cssSelector("#attempts td.stages"), t -> t.startsWith("get_buildlet"));
      assertTrue(cell.contains("create_instance") && cell.contains("wait_agent"), cell);
      browser.assertNoConsoleErrors();
    }
  }

  @Test
  @Order(2)
  void theJanitorDeletesAPodNoLivePoolOwns() throws Exception {
    JsonNode pools = node.await("/api/v1/cloud-pools", j -> j.get(0).path("deletions").path("leaked").asLong() >= 1, DEADLINE);
    assertEquals("kubernetes", pools.get(0).get("kind").asText());
    assertEquals(null, client.pods().inNamespace(NS).withName("grange-kube-linux-0ld0ld00").get(), "the leaked pod is gone");
    // The pool page shows it too.
    try (Browser browser = Browser.start("kube-pools")) {
      browser.open(node.base() + "/");
      String row = browser.awaitText("the kubernetes cloud pool's row",
          By.cssSelector("#cloud-pools tr[data-kind='kubernetes']"), t -> t.contains("leaked 1"));
      assertTrue(row.contains("of " + QUOTA), "instances of the quota: " + row);
      browser.assertNoConsoleErrors();
    }
  }

  @Test
  @Order(3)
  void aPodWhoseAgentNeverConnectsIsDeletedAtItsBootTimeoutAndAnotherIsMade() throws Exception {
    long requestedBefore = node.json("/api/v1/cloud-pools").get(0).get("requested").asLong();
    String id = submit("kube-stuck");
    JsonNode pools = node.await("/api/v1/cloud-pools", j -> j.get(0).path("deletions").path("boot-timeout").asLong() >= 1
        && j.get(0).get("requested").asLong() >= requestedBefore + 2, DEADLINE);
    assertEquals(1, pools.get(0).path("deletions").path("boot-timeout").asLong(), "one pod timed out, its successor not yet: " + pools);
    node.await("/api/v1/cloud-pools", j -> count(j.get(0).get("instances"), "kube-never") >= 1, DEADLINE);
    JsonNode queue = node.json("/api/v1/queues");
    String why = waiterWhy(queue, id);
    assertTrue(why.contains("grange-kube-never-"), "the build waits for its next pod: " + queue);
    assertEquals(202, node.delete("/api/v1/builds/" + id).statusCode());
    node.await("/api/v1/cloud-pools", j -> count(j.get(0).get("instances"), "kube-never") == 0, DEADLINE);
  }

  @Test
  @Order(4)
  void aPodThatFailsIsDeletedAndItsBuildRunsOnAnother() throws Exception {
    node.await("/api/v1/cloud-pools", j -> count(j.get(0).get("instances"), "kube-linux") == 0, DEADLINE); // no idle pod to take
    long failedBefore = node.json("/api/v1/cloud-pools").get(0).path("deletions").path("failed").asLong();
    kubelet.behaveNext("kube-linux", FakeKubelet.Behaviour.FAIL, 1);
    String id = submit("kube-hello");
    JsonNode b = node.await("/api/v1/builds/" + id, TestNode::isOver, DEADLINE);
    assertEquals("ok", b.get("state").asText(), b.toString());
    assertEquals("hello from a pod\n", log(id));
    JsonNode pools = node.json("/api/v1/cloud-pools");
    assertEquals(failedBefore + 1, pools.get(0).path("deletions").path("failed").asLong(), "the failed pod, deleted: " + pools);
    String ranOn = b.get("attempts").get(0).get("hostname").asText();
    assertTrue(kubelet.agent(ranOn).isPresent(), "it ran on a pod that booted, " + ranOn);
  }

  @Test
  @Order(5)
  void fiftyBuildsAtOnceNeverHaveMorePodsThanTheQuotaAndAllRun() throws Exception {
    mostAtOnce.set(live.size());
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      ids.add(submit("kube-hello"));
    }
    for (String id : ids) {
      JsonNode b = node.await("/api/v1/builds/" + id, TestNode::isOver, Duration.ofSeconds(240));
      assertEquals("ok", b.get("state").asText(), b.toString());
    }
    assertTrue(mostAtOnce.get() <= QUOTA, "at most " + QUOTA + " pods at once, saw " + mostAtOnce.get());
    assertTrue(mostAtOnce.get() >= 2, "the burst used more than one pod: " + mostAtOnce.get());
    // Nothing waits any more: the idle pods go after the idle timeout.
    JsonNode pools = node.await("/api/v1/cloud-pools", j -> j.get(0).get("instances").size() == 0, DEADLINE);
    assertTrue(pools.get(0).path("deletions").path("idle").asLong() >= 1, pools.toString());
    assertTrue(client.pods().inNamespace(NS).withLabel(KubeApiUse.LABEL_HOST_TYPE, "kube-linux").list().getItems().isEmpty(),
        "every pod deleted");
  }

  private static long count(JsonNode instances, String hostType) {
    long n = 0;
    for (JsonNode i : instances) {
      if (i.get("hostType").asText().equals(hostType)) {
        n++;
      }
    }
    return n;
  }

  private static String waiterWhy(JsonNode queues, String id) {
    for (JsonNode q : queues) {
      for (JsonNode w : q.get("waiters")) {
        if (w.path("build").asText().equals(id)) {
          return w.get("why").asText();
        }
      }
    }
    return "(not queued: " + queues + ")";
  }

  private static String submit(String builder) throws Exception {
    return node.submit(builder, repo, "HEAD");
  }


  private static String log(String id) throws Exception {
    return new String(node.getBytes("/api/v1/builds/" + id + "/log").body(), java.nio.charset.StandardCharsets.UTF_8);
  }
}
