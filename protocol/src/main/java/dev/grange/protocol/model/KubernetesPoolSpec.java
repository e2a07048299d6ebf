package dev.grange.protocol.model;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * How a {@link PoolKind#KUBERNETES} pool makes a pod for one buildlet. Only validated for now:
 * the pod provider that uses it is not written yet.
 *
 * @param image container image that runs the agent; required
 * @param cpu CPU request in Kubernetes quantity syntax ({@code "2"}, {@code "500m"})
 * @param memory memory request in Kubernetes quantity syntax ({@code "4Gi"})
 * @param nodeSelector node labels the pod must land on (sorted, unmodifiable)
 * @param env extra {@code NAME=VALUE} environment entries for the agent
 */
public record KubernetesPoolSpec(
    String image, String cpu, String memory, Map<String, String> nodeSelector, List<String> env) {
  /** CPU request used when the config names none. */
  public static final String DEFAULT_CPU = "1";

  /** Memory request used when the config names none. */
  public static final String DEFAULT_MEMORY = "2Gi";

  public KubernetesPoolSpec {
    Objects.requireNonNull(image, "image");
    Objects.requireNonNull(cpu, "cpu");
    Objects.requireNonNull(memory, "memory");
    nodeSelector =
        nodeSelector == null
            ? Collections.emptySortedMap()
            : Collections.unmodifiableSortedMap(new TreeMap<>(nodeSelector));
    env = env == null ? List.of() : List.copyOf(env);
  }
}
