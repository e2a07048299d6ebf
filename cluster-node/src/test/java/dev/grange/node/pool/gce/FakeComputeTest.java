package dev.grange.node.pool.gce;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.grange.node.pool.gce.FakeCompute.Call;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The fake answers what the client does not send today as Google would: the checks are real. */
class FakeComputeTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String VM = "{\"name\":\"vm-1\",\"machineType\":\"zones/z-a/machineTypes/e2-small\","
      + "\"disks\":[{\"boot\":true,\"initializeParams\":{\"sourceImage\":\"global/images/i\"}}],"
      + "\"networkInterfaces\":[{\"network\":\"global/networks/default\"}]}";
  private final HttpClient http = HttpClient.newHttpClient();
  private FakeCompute fake;

  @BeforeEach
  void start() throws Exception {
    fake = FakeCompute.start();
  }

  @AfterEach
  void stop() {
    fake.close();
  }

  @Test
  void anInsertWithoutARequiredFieldIsA400InGooglesWords() throws Exception {
    for (String field : List.of("name", "machineType", "disks", "networkInterfaces")) {
      JsonNode vm = JSON.readTree(VM);
      ((com.fasterxml.jackson.databind.node.ObjectNode) vm).remove(field);
      HttpResponse<String> r = call("POST", "/projects/p/zones/z-a/instances", vm.toString());
      assertEquals(400, r.statusCode(), r.body());
      JsonNode error = JSON.readTree(r.body()).get("error");
      assertEquals(400, error.get("code").asInt());
      assertTrue(error.get("message").asText().contains("resource." + field), r.body());
      assertTrue(List.of("required", "invalid").contains(error.at("/errors/0/reason").asText()), r.body());
    }
    assertEquals(400, call("POST", "/projects/p/zones/z-a/instances", "{not json").statusCode());
    String dotted = VM.replace("\"name\":\"vm-1\",", "\"name\":\"vm-1\",\"labels\":{\"grange-host-type\":\"go1.22\"},");
    assertEquals(400, call("POST", "/projects/p/zones/z-a/instances", dotted).statusCode(), "a '.' in a label value");
    String otherZone = VM.replace("zones/z-a/machineTypes", "zones/z-b/machineTypes");
    assertEquals(400, call("POST", "/projects/p/zones/z-a/instances", otherZone).statusCode());
    assertEquals(List.of(), fake.instance("vm-1").stream().toList());
  }

  @Test
  void theWaitEndpointAnswersOnceTheOperationIsDone() throws Exception {
    JsonNode op = JSON.readTree(call("POST", "/projects/p/zones/z-a/instances?requestId=r-1", VM).body());
    assertEquals("RUNNING", op.get("status").asText());
    JsonNode done = JSON.readTree(call("POST", "/projects/p/zones/z-a/operations/" + op.get("name").asText() + "/wait", "").body());
    assertEquals("DONE", done.get("status").asText());
    JsonNode again = JSON.readTree(call("POST", "/projects/p/zones/z-a/instances?requestId=r-1", VM).body());
    assertEquals(op.get("name"), again.get("name"), "the same request id is the same operation");
    assertEquals(409, call("POST", "/projects/p/zones/z-a/instances?requestId=r-2", VM).statusCode());
  }

  @Test
  void aRequestItDoesNotKnowIsA501AndRecorded() throws Exception {
    HttpResponse<String> r = call("POST", "/projects/p/zones/z-a/instances/vm-1/stop", "");
    assertEquals(501, r.statusCode(), r.body());
    assertEquals(1, fake.unsupported().size());
    assertEquals("/compute/v1/projects/p/zones/z-a/instances/vm-1/stop", fake.unsupported().get(0).path());
    assertEquals(400, call("GET", "/projects/p/aggregated/instances?filter=" + java.net.URLEncoder.encode(
        "name = vm-1", java.nio.charset.StandardCharsets.UTF_8), null).statusCode(), "a filter it does not understand");
    assertEquals(1, fake.requests(Call.AGGREGATED_LIST).size());
  }

  private HttpResponse<String> call(String method, String path, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(fake.endpoint() + "/compute/v1" + path));
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    return http.send(b.header("Content-Type", "application/json").build(), HttpResponse.BodyHandlers.ofString());
  }
}
