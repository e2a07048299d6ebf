package dev.grange.node.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.grange.mirror.RepoMirror;
import dev.grange.protocol.model.FarmConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code GET /api/v1/mirrors}: every configured repository's mirror as its {@link RepoMirror}
 * knows it: upstream (password hidden), built branches and the sha each is at, refs, last fetch
 * and last good fetch, how long since the mirror last heard from upstream ({@code lagMs}), the
 * last error and failures in a row, commits landed, the landings post-submit has not yet taken
 * ({@code pendingLandings}, {@code oldestPendingMs}, {@code landingError}: why the last hand-over
 * failed), and per push target the last success and error. A mirror that does not answer in time is listed with {@code "error"}.
 */
public final class MirrorRoutes extends AllDirectives {
  private final ClusterSharding sharding;
  private final FarmConfig farm;
  private final Duration ask;

  public MirrorRoutes(ClusterSharding sharding, FarmConfig farm, Duration ask) {
    this.sharding = sharding;
    this.farm = farm;
    this.ask = ask;
  }

  public Route route() {
    return get(() -> path(PathMatchers.segment("api").slash("v1").slash("mirrors"), () -> onSuccess(mirrors(), this::complete)));
  }

  private CompletableFuture<org.apache.pekko.http.javadsl.model.HttpResponse> mirrors() {
    List<CompletableFuture<ObjectNode>> all = new ArrayList<>();
    long now = System.currentTimeMillis();
    for (String name : farm.repos().keySet()) {
      all.add(sharding.entityRefFor(RepoMirror.ENTITY_KEY, name).ask(RepoMirror.GetStatus::new, ask).toCompletableFuture()
          .thenApply(s -> json(s, now))
          .exceptionally(t -> {
            ObjectNode o = ApiErrors.JSON.createObjectNode();
            o.put("name", name);
            o.put("error", "the mirror did not answer within " + ask.toSeconds() + " s");
            return o;
          }));
    }
    return CompletableFuture.allOf(all.toArray(new CompletableFuture[0])).thenApply(v -> {
      ArrayNode a = ApiErrors.JSON.createArrayNode();
      all.forEach(f -> a.add(f.join()));
      return ApiRoutes.json(StatusCodes.OK, a);
    });
  }

  static ObjectNode json(RepoMirror.Status s, long now) {
    ObjectNode o = ApiErrors.JSON.createObjectNode();
    o.put("name", s.name());
    o.put("url", s.url());
    o.put("node", s.node());
    ObjectNode b = o.putObject("branches");
    s.branches().forEach(b::put);
    o.put("refs", s.refs());
    o.put("fetching", s.fetching());
    o.put("lastFetchMs", s.lastFetchMs());
    o.put("lastFetchOkMs", s.lastFetchOkMs());
    if (s.lastFetchOkMs() > 0) {
      o.put("lagMs", Math.max(0, now - s.lastFetchOkMs()));
    } else {
      o.putNull("lagMs");
    }
    putOrNull(o, "lastError", s.lastError());
    o.put("failuresInARow", s.failuresInARow());
    o.put("landedCommits", s.landedCommits());
    o.put("pendingLandings", s.pendingLandings());
    if (s.pendingLandings() > 0) {
      o.put("oldestPendingMs", s.oldestPendingMs());
    } else {
      o.putNull("oldestPendingMs");
    }
    putOrNull(o, "landingError", s.landingError());
    ArrayNode t = o.putArray("targets");
    for (RepoMirror.TargetStatus x : s.targets()) {
      ObjectNode n = t.addObject();
      n.put("url", x.url());
      n.put("lastSuccessMs", x.lastSuccessMs());
      n.put("lastAttemptMs", x.lastAttemptMs());
      putOrNull(n, "lastError", x.lastError());
    }
    return o;
  }

  private static void putOrNull(ObjectNode o, String key, String value) {
    if (value == null) {
      o.putNull(key);
    } else {
      o.put(key, value);
    }
  }
}
