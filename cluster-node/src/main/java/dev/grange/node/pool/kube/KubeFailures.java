package dev.grange.node.pool.kube;

import dev.grange.node.pool.cloud.ProviderException;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.util.Locale;
import java.util.function.Predicate;

/**
 * fabric8's failures in the pool's words ({@link ProviderException.Kind}), with a message an
 * operator can act on: what was done to which object, the HTTP status and the API server's own
 * message. Pure.
 *
 * <ul>
 *   <li>403 naming an exceeded quota (a ResourceQuota of the namespace): {@code QUOTA}, wait;
 *   <li>429 (the API server's rate limits), 5xx, and no answer at all (connection refused or
 *       reset, timeouts): {@code UNAVAILABLE}, try again with backoff;
 *   <li>any other 4xx (400 bad request, 401, 403 forbidden by RBAC or a LimitRange, 404 no such
 *       namespace, 409 exists, 422 invalid spec): {@code REFUSED}, this request will not pass as it is.
 * </ul>
 */
final class KubeFailures {
  private KubeFailures() {}

  /**
   * @param doing what was being done, for the message: {@code "create pod [grange-pool/grange-x-0a1b2c3d]"}
   */
  static ProviderException of(String doing, Throwable failure) {
    if (failure instanceof ProviderException p) {
      return p;
    }
    KubernetesClientException k = answered(failure);
    if (k == null) {
      boolean client = find(failure, t -> t instanceof KubernetesClientException || t instanceof IOException) != null;
      return new ProviderException(ProviderException.Kind.UNAVAILABLE,
          (client ? "Kubernetes API unreachable, could not " : "Failed unexpectedly to ") + doing + ": " + rootMessage(failure),
          failure);
    }
    int code = k.getCode();
    String api = apiMessage(k);
    String status = "HTTP " + code + (k.getStatus() != null && k.getStatus().getReason() != null ? " " + k.getStatus().getReason() : "");
    if (code == 403 && api.toLowerCase(Locale.ROOT).contains("exceeded quota")) {
      return new ProviderException(ProviderException.Kind.QUOTA,
          "Kubernetes quota exhausted, could not " + doing + " (" + status + "): " + api, failure);
    }
    if (code == 429 || code >= 500) {
      return new ProviderException(ProviderException.Kind.UNAVAILABLE,
          "Kubernetes API failed to " + doing + " (" + status + "), may pass: " + api, failure);
    }
    return new ProviderException(ProviderException.Kind.REFUSED,
        "Kubernetes refused to " + doing + " (" + status + "): " + api, failure);
  }

  /** Whether the API server answered that the object does not exist. */
  static boolean notFound(Throwable failure) {
    KubernetesClientException k = answered(failure);
    return k != null && k.getCode() == 404;
  }

  /** The exception that carries the API server's answer (fabric8 wraps it in one that names the operation). */
  private static KubernetesClientException answered(Throwable failure) {
    return (KubernetesClientException) find(failure, t -> t instanceof KubernetesClientException k && k.getCode() > 0);
  }

  /** The first of {@code failure} and its causes that {@code p} accepts, or null. */
  private static Throwable find(Throwable failure, Predicate<Throwable> p) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (p.test(t)) {
        return t;
      }
    }
    return null;
  }

  private static String apiMessage(KubernetesClientException k) {
    if (k.getStatus() != null && k.getStatus().getMessage() != null && !k.getStatus().getMessage().isBlank()) {
      return k.getStatus().getMessage();
    }
    return k.getMessage();
  }

  private static String rootMessage(Throwable failure) {
    Throwable root = failure;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root == failure ? String.valueOf(failure.getMessage()) : failure.getMessage() + " (" + root + ")";
  }
}
