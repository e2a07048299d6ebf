package dev.grange.bench.faults;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * The fault suite's client of one node: the public API ({@code /api/v1}) and the management
 * port's {@code /ready}. Every call has a deadline and answers null (or false) when the node does
 * not answer as it should, which is what the suite expects of a node it just killed.
 */
final class FaultApi {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private static final Duration CALL = Duration.ofSeconds(15);

  private final int port;
  private final int managementPort;

  FaultApi(int port, int managementPort) {
    this.port = port;
    this.managementPort = managementPort;
  }

  /** Submits a build; its id on a 202, null on any other answer (not accepted). */
  String submit(String builder, String repo) {
    String body = "{\"builder\":\"" + builder + "\",\"repo\":\"" + repo.replace("\\", "\\\\").replace("\"", "\\\"") + "\",\"rev\":\"HEAD\"}";
    try {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(uri(port, "/api/v1/builds")).timeout(CALL)
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
          HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 202 ? JSON.readTree(r.body()).get("id").asText() : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  /** The build as the node shows it, or null. */
  JsonNode build(String id) {
    return json("/api/v1/builds/" + id);
  }

  /** The build's whole log (it is over), or null. */
  byte[] log(String id) {
    try {
      HttpResponse<byte[]> r = HTTP.send(HttpRequest.newBuilder(uri(port, "/api/v1/builds/" + id + "/log")).timeout(Duration.ofSeconds(60)).GET().build(),
          HttpResponse.BodyHandlers.ofByteArray());
      return r.statusCode() == 200 ? r.body() : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  /** Any JSON document of the API, for a report; null when the node does not answer. */
  JsonNode get(String path) {
    return json(path);
  }

  JsonNode buildlets() {
    return json("/api/v1/buildlets");
  }

  /** Connected machines of a host type, or null. */
  Integer connected(String hostType) {
    JsonNode pools = json("/api/v1/pools");
    if (pools == null) {
      return null;
    }
    for (JsonNode p : pools) {
      if (p.path("hostType").asText().equals(hostType)) {
        return p.path("connected").asInt();
      }
    }
    return null;
  }

  /** Pekko Management readiness. */
  boolean ready() {
    return status(managementPort, "/ready") == 200;
  }

  /** The HTTP port answers at all (the builders list needs no store). */
  boolean answers() {
    return status(port, "/api/v1/builders") == 200;
  }

  private JsonNode json(String path) {
    try {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(uri(port, path)).timeout(CALL).GET().build(), HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? JSON.readTree(r.body()) : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  private static int status(int port, String path) {
    try {
      return HTTP.send(HttpRequest.newBuilder(uri(port, path)).timeout(Duration.ofSeconds(5)).GET().build(),
          HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  private static URI uri(int port, String path) {
    return URI.create("http://127.0.0.1:" + port + path);
  }
}
