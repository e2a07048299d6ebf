package dev.grange.node.pool.kube;

import dev.grange.node.pool.cloud.InstanceNames;
import dev.grange.node.pool.cloud.InstanceRequest;
import dev.grange.node.pool.cloud.ProviderException;
import dev.grange.protocol.model.KubernetesPoolSpec;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The pod and the Secret of one instance, made from its request: pure, no API call. The pod runs
 * one container, {@value #CONTAINER}, with the host type's image, its CPU and memory as both
 * requests and limits, the instance's Secret mounted read-only at {@link KubeApiUse#SECRET_MOUNT}
 * and the not-secret facts in its environment; the key is only ever in the Secret. The Secret is
 * owned by the pod (made after it, from its uid), so that deleting the pod collects it.
 */
final class PodRecipe {
  private PodRecipe() {}

  /** The agent's container. */
  static final String CONTAINER = "agent";
  /** The Secret's volume in the pod. */
  static final String VOLUME = "grange";
  /**
   * Time between SIGTERM and SIGKILL: the agent's own drain ({@code --grace-ms}, 60 s by
   * default) plus time to tell the node and exit.
   */
  static final long GRACE_SECONDS = 70;
  /**
   * Read by the agent's group only: Kubernetes makes the Secret's files root's, with the pod's
   * {@code fsGroup} ({@link KubeApiUse#AGENT_GID}) as their group, so an agent that runs as the
   * image's non-root user reads them and nobody else in the container does.
   */
  static final int SECRET_MODE = 0440;

  /** A label value: at most 63 characters, alphanumeric at both ends, {@code -_.} inside. */
  private static final Pattern LABEL_VALUE = Pattern.compile("([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?");
  /** What Kubernetes takes as an environment variable name. */
  private static final Pattern ENV_NAME = Pattern.compile("[-._a-zA-Z][-._a-zA-Z0-9]*");

  /**
   * Fails with a {@link ProviderException.Kind#REFUSED} naming what is wrong when Kubernetes
   * could not take this request as it is, before any API call.
   */
  static void check(InstanceRequest r) {
    if (!InstanceNames.valid(r.name())) {
      throw refused("instance name [" + r.name() + "] is not a valid pod name (lower case letters, digits and '-', at most "
          + InstanceNames.MAX_LENGTH + " characters)");
    }
    KubernetesPoolSpec k = r.spec().kubernetes();
    if (k == null) {
      throw refused("host type [" + r.hostType() + "] is a " + r.spec().pool().configName() + " host type, not a kubernetes one");
    }
    String t = r.hostType();
    if (t.length() > 63 || !LABEL_VALUE.matcher(t).matches()) {
      throw refused("host type name [" + t + "] (" + t.length() + " characters) cannot be the value of label "
          + KubeApiUse.LABEL_HOST_TYPE + ": Kubernetes takes at most 63 characters, a letter or digit at both ends;"
          + " rename the host type");
    }
    for (Map.Entry<String, String> q : Map.of("cpu", k.cpu(), "memory", k.memory()).entrySet()) {
      try {
        Quantity.getAmountInBytes(new Quantity(q.getValue()));
      } catch (IllegalArgumentException | ArithmeticException notOne) {
        throw refused("host type [" + t + "]: " + q.getKey() + " [" + q.getValue()
            + "] is not a Kubernetes quantity (\"2\", \"500m\", \"4Gi\")");
      }
    }
    for (String e : k.env()) {
      String name = envName(e);
      if (name == null || !ENV_NAME.matcher(name).matches()) {
        throw refused("host type [" + t + "]: env entry [" + e + "] is not NAME=VALUE with a valid variable name");
      }
      if (name.equals(KubeApiUse.ENV_HOST_TYPE) || name.equals(KubeApiUse.ENV_INSTANCE)) {
        throw refused("host type [" + t + "]: env entry " + name + " is set by the pool itself");
      }
    }
  }

  /** The labels of the pod and its Secret. */
  static Map<String, String> labels(InstanceRequest r) {
    Map<String, String> l = new LinkedHashMap<>();
    l.put(KubeApiUse.LABEL_HOST_TYPE, r.hostType());
    l.put(KubeApiUse.LABEL_INSTANCE, r.name());
    l.put(KubeApiUse.LABEL_DELETE_AT, Long.toString(r.deleteAtEpochSecond()));
    return l;
  }

  /** The pod; its volume names the Secret {@link #secret} makes next (the kubelet waits for it). */
  static Pod pod(InstanceRequest r) {
    KubernetesPoolSpec k = r.spec().kubernetes();
    List<EnvVar> env = new ArrayList<>();
    env.add(new EnvVar(KubeApiUse.ENV_HOST_TYPE, r.hostType(), null));
    env.add(new EnvVar(KubeApiUse.ENV_INSTANCE, r.name(), null));
    for (String e : k.env()) {
      String name = envName(e);
      env.add(new EnvVar(name, e.substring(name.length() + 1), null));
    }
    Map<String, Quantity> resources = Map.of("cpu", new Quantity(k.cpu()), "memory", new Quantity(k.memory()));
    return new PodBuilder()
        .withNewMetadata().withName(r.name()).withLabels(labels(r)).endMetadata()
        .withNewSpec()
          .withRestartPolicy("Never")
          .withTerminationGracePeriodSeconds(GRACE_SECONDS)
          // Builds run untrusted code: no API token of the namespace's default service account,
          // no environment variables naming every service in the namespace.
          .withAutomountServiceAccountToken(false)
          .withEnableServiceLinks(false)
          .withNewSecurityContext().withRunAsNonRoot(true).withFsGroup(KubeApiUse.AGENT_GID).endSecurityContext()
          .withNodeSelector(k.nodeSelector().isEmpty() ? null : new LinkedHashMap<>(k.nodeSelector()))
          .addNewContainer()
            .withName(CONTAINER)
            .withImage(k.image())
            .withEnv(env)
            .withNewResources().withRequests(resources).withLimits(resources).endResources()
            .addNewVolumeMount().withName(VOLUME).withMountPath(KubeApiUse.SECRET_MOUNT).withReadOnly(true).endVolumeMount()
          .endContainer()
          .addNewVolume()
            .withName(VOLUME)
            .withNewSecret().withSecretName(r.name()).withDefaultMode(SECRET_MODE).endSecret()
          .endVolume()
        .endSpec()
        .build();
  }

  /**
   * The Secret of the pod {@code created} (as the API returned it, with its uid): the key and the
   * node URLs, one a line. Immutable: the kubelet need not watch it.
   */
  static Secret secret(InstanceRequest r, Pod created) {
    Map<String, String> data = new LinkedHashMap<>();
    data.put(KubeApiUse.SECRET_KEY, base64(r.key()));
    data.put(KubeApiUse.SECRET_NODE_URLS, base64(String.join("\n", r.nodeUrls()) + "\n"));
    return new SecretBuilder()
        .withNewMetadata()
          .withName(r.name())
          .withLabels(labels(r))
          // No blockOwnerDeletion: setting it needs update on pods/finalizers, which the pool has not.
          .addNewOwnerReference()
            .withApiVersion("v1").withKind("Pod").withName(created.getMetadata().getName())
            .withUid(created.getMetadata().getUid())
          .endOwnerReference()
        .endMetadata()
        .withType("Opaque")
        .withImmutable(true)
        .withData(data)
        .build();
  }

  private static String envName(String entry) {
    int eq = entry.indexOf('=');
    return eq <= 0 ? null : entry.substring(0, eq);
  }

  private static String base64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  private static ProviderException refused(String why) {
    return new ProviderException(ProviderException.Kind.REFUSED, why);
  }
}
