package dev.grange.node.pool.gce;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Compute API's wire as {@link FakeCompute} speaks it: Google's error body, resource URLs,
 * RFC 3339 times, query strings, the label filters of a list and the aggregated list's shape.
 */
final class FakeComputeWire {
  private FakeComputeWire() {}

  static final ObjectMapper JSON = new ObjectMapper();
  static final String BASE = "https://www.googleapis.com/compute/v1/";
  private static final Pattern FILTER_TERM = Pattern.compile("labels\\.([a-z0-9_-]+)\\s*(?::\\s*\\*|=\\s*\"?([a-z0-9_-]*)\"?)");
  private static final DateTimeFormatter RFC3339 = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX");

  /** A status and Google's JSON for it. */
  record Answer(int status, JsonNode body) {}

  /** {@code {"error":{"code","message","errors":[{"message","domain","reason"}]}}}, as Google answers. */
  static ObjectNode error(int code, String message, String reason) {
    ObjectNode e = JSON.createObjectNode();
    ObjectNode error = e.putObject("error").put("code", code).put("message", message);
    error.putArray("errors").addObject().put("message", message).put("domain", "global").put("reason", reason);
    return e;
  }

  static Answer notFound(String resource) {
    return new Answer(404, error(404, "The resource '" + resource + "' was not found", "notFound"));
  }

  /** A partial resource path as Google answers it: a full URL. */
  static String url(String project, String path) {
    return path.startsWith("https://") ? path : BASE + (path.startsWith("projects/") ? "" : "projects/" + project + "/") + path;
  }

  /** Now, as Google writes its timestamps ({@code 2026-12-03T04:32:04.123-08:00}). */
  static String now() {
    return OffsetDateTime.now(ZoneOffset.ofHours(-8)).format(RFC3339);
  }

  static JsonNode body(InputStream in) throws IOException {
    byte[] b = in.readAllBytes();
    return b.length == 0 ? null : JSON.readTree(b);
  }

  static Map<String, String> query(String raw) {
    Map<String, String> q = new LinkedHashMap<>();
    if (raw != null) {
      for (String pair : raw.split("&")) {
        int eq = pair.indexOf('=');
        String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
        q.put(k, eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
      }
    }
    return q;
  }

  static void send(HttpExchange ex, int status, JsonNode body) throws IOException {
    byte[] b = JSON.writeValueAsBytes(body);
    ex.getResponseHeaders().set("Content-Type", "application/json; charset=UTF-8");
    ex.sendResponseHeaders(status, b.length);
    ex.getResponseBody().write(b);
  }

  /**
   * The terms of a list filter the fake understands ({@code labels.K:*}, {@code labels.K = "V"},
   * joined by AND) as {key, value or null}; null for any other filter.
   */
  static List<String[]> filter(String filter) {
    List<String[]> terms = new ArrayList<>();
    if (filter.isBlank()) {
      return terms;
    }
    for (String t : filter.split("\\s+AND\\s+")) {
      Matcher f = FILTER_TERM.matcher(t.strip());
      if (!f.matches()) {
        return null;
      }
      terms.add(new String[] {f.group(1), f.group(2)});
    }
    return terms;
  }

  static boolean matches(JsonNode labels, List<String[]> terms) {
    for (String[] t : terms) {
      JsonNode v = labels.get(t[0]);
      if (v == null || (t[1] != null && !v.asText().equals(t[1]))) {
        return false;
      }
    }
    return true;
  }

  /** An aggregated list page: every zone it knows, with its VMs, or a warning why it has none. */
  static ObjectNode aggregatedList(String project, Map<String, ArrayNode> byZone, Set<String> unreachable, String nextPageToken) {
    ObjectNode items = JSON.createObjectNode();
    byZone.forEach((zone, list) -> {
      ObjectNode scope = items.putObject("zones/" + zone);
      if (unreachable.contains(zone)) {
        scope.putObject("warning").put("code", "UNREACHABLE").put("message", "The zone '" + zone + "' is unreachable.");
      } else if (list.isEmpty()) {
        scope.putObject("warning").put("code", "NO_RESULTS_ON_PAGE")
            .put("message", "There are no results for scope 'zones/" + zone + "' on this page.");
      } else {
        scope.set("instances", list);
      }
    });
    ObjectNode out = JSON.createObjectNode().put("kind", "compute#instanceAggregatedList")
        .put("id", "projects/" + project + "/aggregated/instances").put("selfLink", BASE + "projects/" + project + "/aggregated/instances");
    out.set("items", items);
    if (!nextPageToken.isEmpty()) {
      out.put("nextPageToken", nextPageToken);
    }
    return out;
  }
}
