package dev.grange.node.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.grange.node.Peers;
import dev.grange.node.buildlet.Buildlet;
import dev.grange.node.buildlet.BuildletInfo;
import dev.grange.node.buildlet.BuildletSession;
import dev.grange.node.buildlet.BuildletState;
import dev.grange.node.buildlet.QuarantinePolicy;
import dev.grange.node.buildrun.BuildRun;
import dev.grange.node.schedule.HostPool;
import dev.grange.node.testing.EntityTests;
import dev.grange.node.testing.ManualClock;
import dev.grange.node.testing.TestPeers;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.RecipientRef;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code POST /api/v1/buildlets/{agentId}/unquarantine} over real HTTP, against real {@link
 * Buildlet} entities (in-memory journal, probes for their sessions and pool): 200 lifts a
 * quarantine, 409 when there is none, 404 for an unknown or malformed id, 405 for another method.
 * (Pekko HTTP's route testkit is not on the classpath: the route is bound on a free port.)
 */
@ExtendWith(TestKitJUnit5Extension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BuildletAdminRoutesTest {
  private static final String HOST_TYPE = "linux-amd64";

  @JUnit5TestKit final ActorTestKit testKit = EntityTests.testKit();

  private final Map<String, ActorRef<Buildlet.Command>> buildlets = new ConcurrentHashMap<>();
  private final HttpClient http = HttpClient.newHttpClient();
  private final ManualClock clock = new ManualClock(1_800_000_000_000L);
  private TestPeers probes;
  private Peers peers;
  private ServerBinding binding;

  @BeforeAll
  void bind() throws Exception {
    probes = new TestPeers(testKit);
    peers = new Peers() {
      @Override
      public RecipientRef<HostPool.Command> hostPool(String hostType) {
        return probes.hostPool(hostType);
      }

      @Override
      public RecipientRef<Buildlet.Command> buildlet(String agentId) {
        return buildletRef(agentId);
      }

      @Override
      public RecipientRef<BuildRun.Command> buildRun(String buildId) {
        return probes.buildRun(buildId);
      }

      @Override
      public RecipientRef<dev.grange.node.pool.cloud.CloudPool.Command> cloudPool(String kind) {
        return probes.cloudPool(kind);
      }
    };
    BuildletAdminRoutes admin = new BuildletAdminRoutes(testKit.system(), peers, EntityTests.DEADLINE);
    binding = Http.get(testKit.system())
        .newServerAt("127.0.0.1", 0)
        .bind(Directives.pathPrefix(PathMatchers.segment("api").slash("v1"), admin::route))
        .toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
  }

  @AfterAll
  void unbind() throws Exception {
    binding.unbind().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @Test
  void anAdminCallLiftsAQuarantineAndASecondCallIsAConflict() throws Exception {
    String id = agent(1);
    quarantine(id);

    HttpResponse<String> lifted = post(id);

    assertEquals(200, lifted.statusCode(), lifted.body());
    JsonNode body = ApiErrors.JSON.readTree(lifted.body());
    assertEquals(id, body.get("id").asText());
    assertTrue(body.get("quarantined").isNull());
    assertEquals("admin", body.get("liftedBy").asText());
    assertNull(state(id).quarantine());

    HttpResponse<String> again = post(id);
    assertEquals(409, again.statusCode(), again.body());
    assertEquals("not_quarantined", ApiErrors.JSON.readTree(again.body()).get("error").asText());
    assertTrue(again.body().contains("is not quarantined"), again.body());
  }

  @Test
  void aBuildletThatIsNotQuarantinedIsAConflictAndStaysAsItWas() throws Exception {
    String id = agent(2);
    attach(id);

    HttpResponse<String> r = post(id);

    assertEquals(409, r.statusCode(), r.body());
    assertTrue(state(id).idle());
  }

  @Test
  void anUnknownOrMalformedBuildletIsNotFound() throws Exception {
    HttpResponse<String> unknown = post(agent(3));
    assertEquals(404, unknown.statusCode(), unknown.body());
    assertEquals("unknown_buildlet", ApiErrors.JSON.readTree(unknown.body()).get("error").asText());

    HttpResponse<String> malformed = post("not-an-agent-id");
    assertEquals(404, malformed.statusCode(), malformed.body());
    assertTrue(!buildlets.containsKey("not-an-agent-id"), "no entity is created for a malformed id");
  }

  @Test
  void anotherMethodIsNotAllowed() throws Exception {
    String id = agent(4);
    quarantine(id);

    HttpResponse<String> r = http.send(
        HttpRequest.newBuilder(url(id)).GET().build(), HttpResponse.BodyHandlers.ofString());

    assertEquals(405, r.statusCode(), r.body());
    assertNotNull(state(id).quarantine(), "a refused call changes nothing");
  }

  private static String agent(int n) {
    return String.format("%032x", 0xabc000L + n);
  }

  private void attach(String id) {
    TestProbe<BuildletSession.Command> session = testKit.createTestProbe();
    BuildletInfo info = new BuildletInfo(id, HOST_TYPE, "host-" + id, 1, "", "linux", "amd64", 2, "/work", "pekko://node", 0);
    TestProbe<StatusReply<Done>> attached = testKit.createTestProbe();
    buildletRef(id).tell(new Buildlet.Attach(info, session.ref(), attached.ref()));
    assertTrue(attached.receiveMessage().isSuccess());
  }

  private void quarantine(String id) {
    attach(id);
    for (int i = 1; i <= 3; i++) {
      buildletRef(id).tell(new Buildlet.RecordInfraFailure("b" + i, 1, "socket closed"));
    }
    assertNotNull(state(id).quarantine()); // Get is handled after the reports: one sender, in order
  }

  /** The buildlet entity of an agent, started on first use, as sharding would. */
  private ActorRef<Buildlet.Command> buildletRef(String id) {
    return buildlets.computeIfAbsent(id, x -> testKit.spawn(
        Buildlet.create(x, peers, Duration.ofHours(1), EntityTests.DEADLINE, QuarantinePolicy.DEFAULT, clock), "buildlet-" + x));
  }

  private BuildletState state(String id) {
    TestProbe<BuildletState> probe = testKit.createTestProbe();
    buildletRef(id).tell(new Buildlet.Get(probe.ref()));
    return probe.receiveMessage();
  }

  private URI url(String id) {
    return URI.create("http://127.0.0.1:" + binding.localAddress().getPort() + "/api/v1/buildlets/" + id + "/unquarantine");
  }

  private HttpResponse<String> post(String id) throws Exception {
    return http.send(HttpRequest.newBuilder(url(id)).POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
  }
}
