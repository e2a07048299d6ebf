package dev.grange.node.pool.gce;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.api.client.http.HttpResponseException;
import com.google.api.gax.rpc.ApiException;
import com.google.cloud.compute.v1.Errors;
import com.google.cloud.compute.v1.Operation;
import dev.grange.node.pool.cloud.ProviderException.Kind;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * What a Compute API failure means for the pool. A failure comes in one of two shapes: a call
 * answered with an HTTP error (its body is Google's JSON error, whose {@code errors[].reason}
 * tells quota from rate limit from a bad request), or an operation that ended with {@code
 * error.errors[].code} set ({@code QUOTA_EXCEEDED}, {@code ZONE_RESOURCE_POOL_EXHAUSTED}). A call
 * that never got an answer (refused connection, timeout) may pass.
 */
final class GceErrors {
  private GceErrors() {}

  /**
   * @param kind what the pool does about it
   * @param zoneLevel another zone may take the VM (the zone is out of capacity, the quota is per region)
   * @param notFound the resource (VM, image, operation) does not exist
   * @param message the API's own words
   */
  record Failure(Kind kind, boolean zoneLevel, boolean notFound, String message) {}

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> EXHAUSTED = Set.of("ZONE_RESOURCE_POOL_EXHAUSTED", "ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS");
  private static final Set<String> RATE_LIMITS = Set.of("rateLimitExceeded", "userRateLimitExceeded");

  /** An operation that is done with an error. */
  static Failure ofOperation(Operation op) {
    List<String> words = new ArrayList<>();
    boolean quota = false;
    boolean exhausted = false;
    boolean notFound = false;
    for (Errors e : op.getError().getErrorsList()) {
      words.add(e.getCode() + ": " + e.getMessage());
      quota |= e.getCode().equals("QUOTA_EXCEEDED");
      exhausted |= EXHAUSTED.contains(e.getCode());
      notFound |= e.getCode().equals("RESOURCE_NOT_FOUND");
    }
    String message = String.join("; ", words);
    if (quota) {
      return new Failure(Kind.QUOTA, true, false, message);
    }
    if (exhausted) {
      return new Failure(Kind.UNAVAILABLE, true, false, message);
    }
    int status = op.getHttpErrorStatusCode();
    return new Failure(status >= 400 && status < 500 ? Kind.REFUSED : Kind.UNAVAILABLE, false, notFound, message);
  }

  /** A call that failed: an HTTP error, no answer, or the client's own failure. */
  static Failure ofCall(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof HttpResponseException h) {
        return ofHttp(h.getStatusCode(), h.getContent());
      }
    }
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof IOException io) {
        return new Failure(Kind.UNAVAILABLE, false, false, "no answer: " + io);
      }
    }
    if (t instanceof ApiException a) {
      return switch (a.getStatusCode().getCode()) {
        case RESOURCE_EXHAUSTED -> new Failure(Kind.QUOTA, false, false, a.getMessage());
        case NOT_FOUND -> new Failure(Kind.REFUSED, false, true, a.getMessage());
        case INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE, ALREADY_EXISTS, PERMISSION_DENIED, UNAUTHENTICATED,
            UNIMPLEMENTED -> new Failure(Kind.REFUSED, false, false, a.getMessage());
        default -> new Failure(Kind.UNAVAILABLE, false, false, a.getStatusCode().getCode() + ": " + a.getMessage());
      };
    }
    return new Failure(Kind.UNAVAILABLE, false, false, String.valueOf(t));
  }

  /** Google's error body: {@code {"error":{"code","message","errors":[{"reason","message"}]}}}. */
  static Failure ofHttp(int status, String body) {
    String message = "HTTP " + status;
    List<String> reasons = new ArrayList<>();
    try {
      JsonNode error = body == null || body.isBlank() ? null : JSON.readTree(body).get("error");
      if (error != null && error.isObject()) {
        if (error.hasNonNull("message")) {
          message += ": " + error.get("message").asText();
        }
        for (JsonNode e : error.path("errors")) {
          reasons.add(e.path("reason").asText());
        }
      } else if (body != null && !body.isBlank()) {
        message += ": " + body.strip();
      }
    } catch (IOException notJson) {
      message += ": " + body.strip();
    }
    if (!reasons.isEmpty()) {
      message += " (" + String.join(", ", reasons) + ")";
    }
    if (reasons.contains("quotaExceeded")) {
      // A regional quota (CPUS, IN_USE_ADDRESSES): a zone of another region may still take it.
      return new Failure(Kind.QUOTA, true, false, message);
    }
    if (status == 429 || reasons.stream().anyMatch(RATE_LIMITS::contains)) {
      return new Failure(Kind.QUOTA, false, false, message);
    }
    if (message.contains("ZONE_RESOURCE_POOL_EXHAUSTED") || reasons.contains("resourcePoolExhausted")) {
      return new Failure(Kind.UNAVAILABLE, true, false, message);
    }
    if (status >= 500 || status == 408) {
      return new Failure(Kind.UNAVAILABLE, false, false, message);
    }
    return new Failure(Kind.REFUSED, false, status == 404, message);
  }
}
