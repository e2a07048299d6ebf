package dev.grange.node.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.grange.node.Peers;
import dev.grange.node.buildlet.Buildlet;
import dev.grange.protocol.wire.Handshake;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.pattern.StatusReply;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Operator calls on buildlets, under {@code /api/v1} (mounted by {@link ApiRoutes}):
 * {@code POST buildlets/{agentId}/unquarantine} lifts a buildlet's quarantine (200), 404 for a
 * buildlet the farm does not know, 409 for one that is not quarantined; the {@link Buildlet}
 * entity persists {@code QuarantineLifted(admin)} before the answer.
 *
 * <p>Not authenticated, like every other call of the API so far (cancelling a build included):
 * the node's HTTP port binds to loopback by default ({@code grange.node.http.interface}); a node
 * bound to another interface must sit behind a proxy that lets only operators reach
 * {@code POST /api/v1/buildlets/*}. The admin bearer tokens of DESIGN.md section 6 will guard it.
 */
public final class BuildletAdminRoutes extends AllDirectives {
  private static final Logger log = LoggerFactory.getLogger(BuildletAdminRoutes.class);

  private final ActorSystem<?> system;
  private final Peers peers;
  private final Duration timeout;

  public BuildletAdminRoutes(ActorSystem<?> system, ClusterSharding sharding) {
    this(system, Peers.sharded(sharding), Duration.ofSeconds(10));
  }

  /** {@code peers} reaches the buildlet entities; {@code timeout} bounds each ask. */
  public BuildletAdminRoutes(ActorSystem<?> system, Peers peers, Duration timeout) {
    this.system = system;
    this.peers = peers;
    this.timeout = timeout;
  }

  /** The routes, relative to {@code /api/v1}; a path they do not know is left to the next route. */
  public Route route() {
    return pathPrefix(PathMatchers.segment("buildlets").slash(PathMatchers.segment()), agentId ->
        path("unquarantine", () -> concat(
            post(() -> onSuccess(unquarantine(agentId), this::complete)),
            extractMethod(m -> complete(ApiErrors.response(StatusCodes.METHOD_NOT_ALLOWED, "method_not_allowed",
                m.name() + " is not allowed here: POST /api/v1/buildlets/" + agentId + "/unquarantine"))))));
  }

  private CompletionStage<HttpResponse> unquarantine(String agentId) {
    if (!Handshake.validAgentId(agentId)) {
      // Not an agent id at all: no entity is asked (and none created) for it.
      return CompletableFuture.completedFuture(unknown(agentId));
    }
    return AskPattern.<Buildlet.Command, StatusReply<Done>>ask(
            peers.buildlet(agentId), r -> new Buildlet.Unquarantine(Buildlet.BY_ADMIN, r), timeout, system.scheduler())
        .thenApply(reply -> {
          if (reply.isSuccess()) {
            log.info("Buildlet [{}]: quarantine lifted by an admin call", agentId);
            ObjectNode o = ApiErrors.JSON.createObjectNode();
            o.put("id", agentId);
            o.putNull("quarantined");
            o.put("liftedBy", Buildlet.BY_ADMIN);
            return ApiRoutes.json(StatusCodes.OK, o);
          }
          String msg = reply.getError().getMessage();
          return msg.startsWith(Buildlet.NO_SUCH_BUILDLET)
              ? unknown(agentId)
              : ApiErrors.response(StatusCodes.CONFLICT, "not_quarantined", msg);
        })
        .exceptionally(t -> ApiErrors.response(StatusCodes.SERVICE_UNAVAILABLE, "unavailable",
            "buildlet " + agentId + " did not answer in " + timeout + ": " + t.getMessage()));
  }

  private static HttpResponse unknown(String agentId) {
    return ApiErrors.response(StatusCodes.NOT_FOUND, "unknown_buildlet",
        Buildlet.NO_SUCH_BUILDLET + agentId + " (an agent id is the 32 hex digits GET /api/v1/buildlets shows as id)");
  }
}
