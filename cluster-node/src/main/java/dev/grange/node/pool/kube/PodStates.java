package dev.grange.node.pool.kube;

import dev.grange.node.pool.cloud.Instance;
import dev.grange.node.pool.cloud.InstanceState;
import io.fabric8.kubernetes.api.model.ContainerState;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodStatus;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A pod as the pool sees it: its {@link InstanceState} and, for people, the words Kubernetes
 * gave for it (phase, reason, the agent container's waiting or terminated reason, why it is not
 * scheduled). Pure.
 *
 * <p>Pending and Running are what they say; Succeeded and Failed (the agent exited: the pod is
 * never restarted) are {@link InstanceState#FAILED}, and so is Unknown (its node is lost). A
 * pod stuck before its agent could start is FAILED too, so that the pool deletes it and tries
 * again: its container waits with one of {@link #STUCK} (an image that cannot be pulled, a
 * container that cannot be made). {@code ErrImagePull} alone is still PENDING: the kubelet
 * tries again by itself and says {@code ImagePullBackOff} when that failed as well. A pod being
 * deleted is {@link InstanceState#GONE}.
 */
final class PodStates {
  private PodStates() {}

  /** Container waiting reasons that the kubelet will not get past by itself. */
  static final Set<String> STUCK = Set.of("ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName", "CrashLoopBackOff",
      "CreateContainerConfigError", "CreateContainerError", "RunContainerError");

  static Instance of(Pod pod, String namespace) {
    String detail = detail(pod);
    return instance(pod, namespace, state(pod), detail);
  }

  /** A pod the watch reported deleted. */
  static Instance deleted(Pod pod, String namespace) {
    return instance(pod, namespace, InstanceState.GONE, "deleted");
  }

  static InstanceState state(Pod pod) {
    if (pod.getMetadata().getDeletionTimestamp() != null) {
      return InstanceState.GONE;
    }
    String phase = phase(pod);
    switch (phase) {
      case "Succeeded", "Failed", "Unknown":
        return InstanceState.FAILED;
      default:
        break;
    }
    ContainerStatus agent = agent(pod.getStatus());
    if (agent != null && agent.getState() != null && agent.getState().getWaiting() != null
        && STUCK.contains(agent.getState().getWaiting().getReason())) {
      return InstanceState.FAILED;
    }
    return phase.equals("Running") ? InstanceState.RUNNING : InstanceState.PENDING;
  }

  /** For example {@code Pending; agent waiting: ImagePullBackOff: Back-off pulling image "x"}. */
  static String detail(Pod pod) {
    List<String> parts = new ArrayList<>();
    PodStatus s = pod.getStatus();
    String head = phase(pod);
    if (s != null && s.getReason() != null) {
      head += ": " + s.getReason() + words(s.getMessage());
    }
    if (pod.getMetadata().getDeletionTimestamp() != null) {
      head += " (being deleted)";
    }
    parts.add(head);
    if (s != null && s.getConditions() != null) {
      for (PodCondition c : s.getConditions()) {
        if ("PodScheduled".equals(c.getType()) && "False".equals(c.getStatus())) {
          parts.add("not scheduled: " + c.getReason() + words(c.getMessage()));
        }
      }
    }
    ContainerStatus agent = agent(s);
    ContainerState cs = agent == null ? null : agent.getState();
    if (cs != null && cs.getWaiting() != null && cs.getWaiting().getReason() != null) {
      parts.add(agent.getName() + " waiting: " + cs.getWaiting().getReason() + words(cs.getWaiting().getMessage()));
    } else if (cs != null && cs.getTerminated() != null) {
      var t = cs.getTerminated();
      parts.add(agent.getName() + " terminated: " + (t.getReason() == null ? "" : t.getReason() + ", ") + "exit code "
          + t.getExitCode() + words(t.getMessage()));
    }
    return String.join("; ", parts);
  }

  private static Instance instance(Pod pod, String namespace, InstanceState state, String detail) {
    Map<String, String> labels = pod.getMetadata().getLabels() == null ? Map.of() : pod.getMetadata().getLabels();
    return new Instance(pod.getMetadata().getName(), labels.get(KubeApiUse.LABEL_HOST_TYPE), namespace, state, detail,
        epochMs(pod.getMetadata().getCreationTimestamp()), epochSecond(labels.get(KubeApiUse.LABEL_DELETE_AT)));
  }

  /** The phase; a pod the API has not given a status yet is Pending. */
  private static String phase(Pod pod) {
    return pod.getStatus() == null || pod.getStatus().getPhase() == null ? "Pending" : pod.getStatus().getPhase();
  }

  private static ContainerStatus agent(PodStatus s) {
    if (s == null || s.getContainerStatuses() == null) {
      return null;
    }
    return s.getContainerStatuses().stream().filter(c -> PodRecipe.CONTAINER.equals(c.getName())).findFirst().orElse(null);
  }

  private static String words(String message) {
    return message == null || message.isBlank() ? "" : ": " + message.strip();
  }

  private static long epochMs(String timestamp) {
    if (timestamp == null) {
      return 0;
    }
    try {
      return Instant.parse(timestamp).toEpochMilli();
    } catch (DateTimeParseException e) {
      return 0;
    }
  }

  private static long epochSecond(String label) {
    if (label == null) {
      return 0;
    }
    try {
      return Long.parseLong(label);
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
