package dev.grange.node.pool.kube;

import java.util.List;

/**
 * What the Kubernetes pool does with the API server, in RBAC terms: the Helm chart's Roles must
 * allow exactly this (a test of the chart checks it), and the pool calls nothing else.
 *
 * <p>In the pool namespace a pod per instance, and a Secret per instance that carries the node
 * URLs and the instance key to the agent (mounted, never in the pod spec in clear; owned by the
 * pod, so that deleting the pod collects it). In the nodes' own namespace, Pekko's Kubernetes API
 * discovery lists the node pods.
 */
public final class KubeApiUse {
  private KubeApiUse() {}

  /** An RBAC rule: {@code apiGroup} "" is the core group. */
  public record Rule(String apiGroup, String resource, List<String> verbs) {
    public Rule {
      verbs = List.copyOf(verbs);
    }
  }

  /** Where the pods of the Kubernetes host types run. */
  public static final List<Rule> POOL_NAMESPACE = List.of(
      new Rule("", "pods", List.of("create", "delete", "list", "watch")),
      new Rule("", "secrets", List.of("create", "delete", "list")));

  /** Where the nodes run: cluster bootstrap finds its peers by their pods. */
  public static final List<Rule> NODE_NAMESPACE = List.of(
      new Rule("", "pods", List.of("get", "list", "watch")));

  /** Labels on every pod and Secret the pool makes. */
  public static final String LABEL_HOST_TYPE = "grange.dev/host-type";
  public static final String LABEL_INSTANCE = "grange.dev/instance";
  /** Seconds since the epoch after which the janitor deletes the pod whatever its state. */
  public static final String LABEL_DELETE_AT = "grange.dev/delete-at";

  /**
   * The instance Secret's keys, mounted at {@link #SECRET_MOUNT} in the agent's container: {@code
   * key} holds the instance key (hex), {@code node-urls} the node URLs, one a line, in the order
   * the agent tries them.
   */
  public static final String SECRET_KEY = "key";
  public static final String SECRET_NODE_URLS = "node-urls";
  public static final String SECRET_MOUNT = "/etc/grange";
  /**
   * The group of the agent's user in the image ({@code env/linux-amd64/Dockerfile}: user and group
   * 10001): the pod's {@code fsGroup}, so that the agent can read the mounted Secret (mode 0440).
   */
  public static final long AGENT_GID = 10001;
  /** Environment of the agent's container (not secret). */
  public static final String ENV_HOST_TYPE = "GRANGE_HOST_TYPE";
  public static final String ENV_INSTANCE = "GRANGE_INSTANCE";
}
