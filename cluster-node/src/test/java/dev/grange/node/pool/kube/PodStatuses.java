package dev.grange.node.pool.kube;

import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Instant;

/**
 * Pod statuses as a kubelet writes them, and a way to write one through a (mock) API server's
 * status subresource: what {@link FakeKubelet} and the tests use to move pods between phases.
 */
public final class PodStatuses {
  private PodStatuses() {}

  /** Scheduled, the agent's container waiting for {@code reason} (ContainerCreating, ImagePullBackOff...). */
  public static PodStatus waiting(String reason, String message) {
    return new PodStatusBuilder().withPhase("Pending")
        .addToContainerStatuses(new ContainerStatusBuilder().withName(PodRecipe.CONTAINER).withReady(false).withRestartCount(0)
            .withNewState().withNewWaiting().withReason(reason).withMessage(message).endWaiting().endState().build())
        .build();
  }

  /** Its agent running since now. */
  public static PodStatus running() {
    String now = Instant.now().toString();
    return new PodStatusBuilder().withPhase("Running").withPodIP("127.0.0.1").withStartTime(now)
        .addToContainerStatuses(new ContainerStatusBuilder().withName(PodRecipe.CONTAINER).withReady(true).withStarted(true)
            .withRestartCount(0).withNewState().withNewRunning().withStartedAt(now).endRunning().endState().build())
        .build();
  }

  /** Its agent exited with {@code exitCode}: Succeeded for 0, else Failed, as a kubelet with restartPolicy Never says. */
  public static PodStatus exited(int exitCode, String reason) {
    return new PodStatusBuilder().withPhase(exitCode == 0 ? "Succeeded" : "Failed")
        .addToContainerStatuses(new ContainerStatusBuilder().withName(PodRecipe.CONTAINER).withReady(false).withRestartCount(0)
            .withNewState().withNewTerminated().withExitCode(exitCode).withReason(reason).withFinishedAt(Instant.now().toString())
            .endTerminated().endState().build())
        .build();
  }

  /** The whole pod Failed for {@code reason} (Evicted...), no container state. */
  public static PodStatus failed(String reason, String message) {
    return new PodStatusBuilder().withPhase("Failed").withReason(reason).withMessage(message).build();
  }

  /** Writes {@code status} to pod {@code name} (its status subresource, no optimistic lock); false when the pod is gone. */
  public static boolean put(KubernetesClient client, String namespace, String name, PodStatus status) {
    Pod pod = client.pods().inNamespace(namespace).withName(name).get();
    if (pod == null) {
      return false;
    }
    pod.setStatus(status);
    pod.getMetadata().setResourceVersion(null);
    client.pods().inNamespace(namespace).resource(pod).updateStatus();
    return true;
  }
}
