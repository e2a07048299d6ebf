package dev.grange.node.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RetryAfter;

/** Every refusal of the node's HTTP edges: a status and a JSON body that says what was wrong. */
public final class ApiErrors {
  public static final ObjectMapper JSON = new ObjectMapper();

  private ApiErrors() {}

  /** {@code {"error": code, "message": message}} with the given status. */
  public static HttpResponse response(StatusCode status, String code, String message) {
    ObjectNode n = JSON.createObjectNode();
    n.put("error", code);
    n.put("message", message);
    return HttpResponse.create()
        .withStatus(status)
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, n.toString()));
  }

  /** Seconds a client is told to wait before it tries again after a 503. */
  static final long RETRY_AFTER_SECONDS = 5;

  /**
   * 503 {@code store_unavailable}: the store is known to be down, so nothing was tried.
   *
   * @param since e.g. "since 2026-12-02T20:01:02Z: NoNodeAvailableException: ..."
   */
  static HttpResponse storeUnavailable(String since) {
    return response(StatusCodes.SERVICE_UNAVAILABLE, "store_unavailable",
        "the build store (Cassandra) is unavailable " + since + "; try again")
        .addHeader(RetryAfter.create(RETRY_AFTER_SECONDS));
  }

  /** 503 with a Retry-After header: the node could not answer in time, or not now. */
  static HttpResponse unavailable(String code, String message) {
    return response(StatusCodes.SERVICE_UNAVAILABLE, code, message).addHeader(RetryAfter.create(RETRY_AFTER_SECONDS));
  }
}
