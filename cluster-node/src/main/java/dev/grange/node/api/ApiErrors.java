package dev.grange.node.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;

/** Every refusal of the node's HTTP edges: a status and a JSON body that says what was wrong. */
public final class ApiErrors {
  static final ObjectMapper JSON = new ObjectMapper();

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
}
