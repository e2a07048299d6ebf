package dev.grange.node.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.grange.node.buildrun.BuildRun;
import dev.grange.node.buildrun.BuildRunState;
import dev.grange.node.buildrun.BuildSpec;
import dev.grange.node.schedule.HostPool;
import dev.grange.node.source.SourceException;
import dev.grange.node.source.Sources;
import dev.grange.node.store.LogStore;
import dev.grange.node.store.StoreHealth;
import dev.grange.protocol.model.BuilderSpec;
import dev.grange.protocol.model.FarmConfig;
import dev.grange.protocol.schedule.PriorityClass;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.pattern.StatusReply;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code /api/v1}: the public JSON API every page and script uses. Builds are submitted,
 * read, followed (log) and cancelled here; pools, buildlets and queues are read from the host
 * pools. Every refusal is a 4xx with a JSON body ({@link ApiErrors}) that says what was wrong,
 * and a refused request changes nothing.
 *
 * <p>Every call that needs the store or an entity answers within {@code grange.node.api.ask-timeout}:
 * while {@link StoreHealth} knows the store is down it is refused at once with 503
 * {@code store_unavailable} and a Retry-After header; an entity that does not answer in time (it
 * may be recovering from, or backing off from, the store) gives a 503 {@code timeout}. A submitted
 * build is answered 202 only once its {@code BuildQueued} is persisted, so a 503 to a submission
 * means it was not accepted, or, after an ask timed out, not confirmed: then the message names
 * the build, which may or may not be queued.
 * {@code GET /api/v1/store} shows what {@link StoreHealth} knows.
 */
public final class ApiRoutes extends AllDirectives {
  private static final Logger log = LoggerFactory.getLogger(ApiRoutes.class);
  private static final Set<String> SUBMIT_FIELDS = Set.of("builder", "repo", "rev", "priority", "user");

  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  private final FarmConfig farm;
  private final Sources sources;
  private final Executor blocking;
  private final long maxBody;
  private final LogFollower logs;
  private final FailureRoute failures;
  private final StoreHealth health;
  private final Duration ask;
  private final SecureRandom random = new SecureRandom();

  public ApiRoutes(ActorSystem<?> system, ClusterSharding sharding, FarmConfig farm, Sources sources, Executor blocking,
      LogStore logStore, StoreHealth health, ApiSettings api, long maxBody, Duration logPoll) {
    this.system = system;
    this.sharding = sharding;
    this.farm = farm;
    this.sources = sources;
    this.blocking = blocking;
    this.maxBody = maxBody;
    this.health = health;
    this.ask = api.askTimeout();
    this.logs = new LogFollower(system, logStore, logPoll, api.logOutageDeadline());
    this.failures = new FailureRoute(system, logs, this::getBuild);
  }

  public Route route() {
    ExceptionHandler errors = ExceptionHandler.newBuilder()
        .matchAny(t -> {
          HttpResponse unavailable = unavailable(t, "the entity this request needs (a build or a pool)");
          if (unavailable != null) {
            return complete(unavailable);
          }
          log.error("API request failed", t);
          return complete(ApiErrors.response(StatusCodes.INTERNAL_SERVER_ERROR, "internal", "internal error: " + t.getMessage()));
        })
        .build();
    return pathPrefix(PathMatchers.segment("api").slash("v1"), () -> handleExceptions(errors, () -> concat(
        path("builds", () -> concat(
            post(() -> needsStore(() -> withSizeLimit(maxBody, () -> entity(org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller.entityToString(), this::submit)))),
            methodNotAllowed())),
        pathPrefix("builds", () -> pathPrefix(PathMatchers.segment(), id -> needsStore(() -> buildRoutes(id)))),
        path("pools", () -> get(() -> needsStore(() -> onSuccess(pools(), this::complete)))),
        path("buildlets", () -> get(() -> needsStore(() -> onSuccess(buildlets(), this::complete)))),
        path("queues", () -> get(() -> needsStore(() -> onSuccess(queues(), this::complete)))),
        path("cloud-pools", () -> get(() -> needsStore(() -> onSuccess(cloudPools(), this::complete)))),
        path("builders", () -> get(() -> complete(json(StatusCodes.OK, builders())))),
        path("store", () -> get(() -> complete(json(StatusCodes.OK, store())))),
        needsStore(() -> new BuildletAdminRoutes(system, sharding).route()),
        extractUnmatchedPath(p -> complete(ApiErrors.response(StatusCodes.NOT_FOUND, "not_found", "no such API endpoint: /api/v1" + p))))));
  }

  private Route buildRoutes(String id) {
    return concat(
        pathEnd(() -> concat(
            get(() -> onSuccess(getBuild(id), this::buildResponse)),
            delete(() -> onSuccess(cancel(id), this::complete)),
            methodNotAllowed())),
        path("log", () -> get(() -> parameterOptional("from", from ->
            parameterOptional("attempt", att -> followLog(id, from.orElse("0"), att.orElse("0")))))),
        path("failure", () -> get(() -> onSuccess(failures.failure(id), this::complete))));
  }

  private Route methodNotAllowed() {
    return extractMethod(m -> complete(ApiErrors.response(StatusCodes.METHOD_NOT_ALLOWED, "method_not_allowed", m.name() + " is not allowed here")));
  }

  // ---- submit ----

  private Route submit(String body) {
    JsonNode n;
    try {
      n = ApiErrors.JSON.readTree(body);
    } catch (Exception e) {
      return bad("bad_json", "the body is not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
    }
    if (n == null || !n.isObject()) {
      return bad("bad_json", "the body must be a JSON object like {\"builder\":..,\"repo\":..,\"rev\":..}");
    }
    for (var it = n.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!SUBMIT_FIELDS.contains(f)) {
        return bad("unknown_field", "unknown field \"" + f + "\" (allowed: builder, repo, rev, priority, user)");
      }
    }
    String builderName = text(n, "builder");
    String repo = text(n, "repo");
    String rev = text(n, "rev");
    if (builderName == null || repo == null || rev == null) {
      return bad("missing_field", "builder, repo and rev are required strings");
    }
    BuilderSpec builder = farm.builder(builderName).orElse(null);
    if (builder == null) {
      return bad("unknown_builder", "unknown builder \"" + builderName + "\" (known: " + String.join(", ", farm.builders().keySet()) + ")");
    }
    PriorityClass priority;
    try {
      priority = n.has("priority") ? PriorityClass.valueOf(n.get("priority").asText().toUpperCase(Locale.ROOT).replace('-', '_')) : PriorityClass.TRY;
    } catch (IllegalArgumentException e) {
      return bad("bad_priority", "priority must be one of release, interactive, try, post-submit");
    }
    String user = n.has("user") ? n.get("user").asText() : "anonymous";
    CompletionStage<HttpResponse> r = CompletableFuture
        .supplyAsync(() -> {
          try {
            return sources.resolve(repo, rev);
          } catch (SourceException e) {
            throw new CompletionException(e);
          }
        }, blocking)
        .thenCompose(commit -> {
          String id = newBuildId();
          BuildSpec spec = new BuildSpec(id, builder.name(), builder.hostType(), builder.steps(), repo, commit.sha(), rev,
              commit.commitTimeMs(), commit.subject(), rev.equals(commit.sha()) ? "" : rev, priority, user, System.currentTimeMillis(),
              commit.author());
          return sharding.entityRefFor(BuildRun.ENTITY_KEY, id)
              .<StatusReply<org.apache.pekko.Done>>ask(rt -> new BuildRun.Start(spec, rt, spec.submittedAtMs() + ask.toMillis()), ask)
              .exceptionally(t -> {
                throw new NotConfirmed(id, t);
              })
              .thenApply(reply -> {
                if (reply.isError()) {
                  return ApiErrors.response(StatusCodes.SERVICE_UNAVAILABLE, "not_accepted", reply.getError().getMessage());
                }
                ObjectNode o = ApiErrors.JSON.createObjectNode();
                o.put("id", id);
                o.put("state", "queued");
                o.put("rev", commit.sha());
                o.put("url", "/api/v1/builds/" + id);
                o.put("log", "/api/v1/builds/" + id + "/log");
                return json(StatusCodes.ACCEPTED, o);
              });
        })
        .exceptionally(t -> sourceError(t));
    return onSuccess(r, this::complete);
  }

  /** A submission whose {@code Start} was sent but not answered: the build may yet be queued. */
  private static final class NotConfirmed extends RuntimeException {
    final String id;

    NotConfirmed(String id, Throwable cause) {
      super(cause);
      this.id = id;
    }
  }

  private HttpResponse sourceError(Throwable t) {
    Throwable c = unwrap(t);
    if (c instanceof NotConfirmed nc) {
      if (unwrap(nc.getCause()) instanceof java.util.concurrent.TimeoutException) {
        // Not refused, not confirmed: the write may have reached the store though its answer did
        // not (StoreOutageIT saw such a build run), so say so and name the build.
        boolean down = health.down();
        return ApiErrors.unavailable(down ? "store_unavailable" : "timeout", "build " + nc.id + " was not confirmed within "
            + ask.toSeconds() + " s (" + (down ? "the build store (Cassandra) is unavailable " + health.status().describe()
                : "the build store may be slow or recovering")
            + "); it may or may not be queued: GET /api/v1/builds/" + nc.id + " tells (404: not queued) before you try again");
      }
      c = unwrap(nc.getCause());
    }
    if (c instanceof SourceException se) {
      switch (se.kind()) {
        case UNKNOWN_REV:
          return ApiErrors.response(StatusCodes.NOT_FOUND, "unknown_rev", se.getMessage());
        case REPO_UNREACHABLE:
          return ApiErrors.response(StatusCodes.BAD_GATEWAY, "repo_unreachable", se.getMessage());
        case BAD_REV:
          return ApiErrors.response(StatusCodes.BAD_REQUEST, "bad_rev", se.getMessage());
        default:
          return ApiErrors.response(StatusCodes.BAD_REQUEST, "bad_repo", se.getMessage());
      }
    }
    log.warn("Build submission failed", c);
    return ApiErrors.response(StatusCodes.SERVICE_UNAVAILABLE, "unavailable", "could not accept the build: " + c.getMessage());
  }

  private String newBuildId() {
    byte[] b = new byte[5];
    random.nextBytes(b);
    return Long.toString(System.currentTimeMillis(), 36) + "-" + HexFormat.of().formatHex(b);
  }

  // ---- builds ----

  private CompletionStage<StatusReply<BuildRunState>> getBuild(String id) {
    if (!validId(id)) {
      return CompletableFuture.completedFuture(StatusReply.error("no build " + id));
    }
    return sharding.entityRefFor(BuildRun.ENTITY_KEY, id).ask(BuildRun.Get::new, ask);
  }

  private Route buildResponse(StatusReply<BuildRunState> r) {
    return complete(r.isError()
        ? ApiErrors.response(StatusCodes.NOT_FOUND, "unknown_build", r.getError().getMessage())
        : json(StatusCodes.OK, BuildJson.build(r.getValue().spec().buildId(), r.getValue())));
  }

  private CompletionStage<HttpResponse> cancel(String id) {
    if (!validId(id)) {
      return CompletableFuture.completedFuture(ApiErrors.response(StatusCodes.NOT_FOUND, "unknown_build", "no build " + id));
    }
    return sharding.entityRefFor(BuildRun.ENTITY_KEY, id)
        .<StatusReply<org.apache.pekko.Done>>ask(BuildRun.Cancel::new, ask)
        .thenApply(r -> {
          if (r.isSuccess()) {
            ObjectNode o = ApiErrors.JSON.createObjectNode();
            o.put("id", id);
            o.put("state", "cancelled");
            return json(StatusCodes.ACCEPTED, o);
          }
          String msg = r.getError().getMessage();
          return msg.startsWith("no build")
              ? ApiErrors.response(StatusCodes.NOT_FOUND, "unknown_build", msg)
              : ApiErrors.response(StatusCodes.CONFLICT, "already_over", msg);
        });
  }

  private Route followLog(String id, String fromParam, String attemptParam) {
    long from;
    int attempt;
    try {
      from = Long.parseLong(fromParam);
      attempt = Integer.parseInt(attemptParam);
      if (from < 0 || attempt < 0) {
        throw new NumberFormatException();
      }
    } catch (NumberFormatException e) {
      return bad("bad_parameter", "from and attempt must be non-negative integers");
    }
    return onSuccess(getBuild(id), r -> {
      if (r.isError()) {
        return complete(ApiErrors.response(StatusCodes.NOT_FOUND, "unknown_build", r.getError().getMessage()));
      }
      var source = logs.follow(id, attempt, from, () -> getBuild(id).thenApply(StatusReply::getValue));
      return complete(HttpResponse.create().withEntity(
          HttpEntities.createChunked(ContentTypes.APPLICATION_OCTET_STREAM, source)));
    });
  }

  // ---- pools ----

  private CompletionStage<List<HostPool.PoolView>> poolViews() {
    List<CompletableFuture<HostPool.PoolView>> all = new ArrayList<>();
    for (String hostType : farm.hosts().keySet()) {
      all.add(sharding.entityRefFor(HostPool.ENTITY_KEY, hostType).ask(HostPool.GetView::new, ask).toCompletableFuture());
    }
    return CompletableFuture.allOf(all.toArray(new CompletableFuture[0]))
        .thenApply(v -> all.stream().map(CompletableFuture::join).toList());
  }

  private CompletionStage<HttpResponse> pools() {
    long now = System.currentTimeMillis();
    return poolViews().thenApply(views -> {
      ArrayNode a = ApiErrors.JSON.createArrayNode();
      views.forEach(v -> a.add(dev.grange.node.live.LiveJson.pool(v, now)));
      return json(StatusCodes.OK, a);
    });
  }

  /** Each cloud pool kind in use: quota and use, instances with their phase, deletions by reason, waits and errors. */
  private CompletionStage<HttpResponse> cloudPools() {
    List<CompletableFuture<dev.grange.node.pool.cloud.CloudPool.View>> all = new ArrayList<>();
    for (dev.grange.protocol.model.PoolKind k : dev.grange.node.pool.cloud.CloudPools.kinds(farm).keySet()) {
      all.add(sharding.entityRefFor(dev.grange.node.pool.cloud.CloudPool.ENTITY_KEY, k.configName())
          .ask(dev.grange.node.pool.cloud.CloudPool.GetView::new, ask).toCompletableFuture());
    }
    return CompletableFuture.allOf(all.toArray(new CompletableFuture[0])).thenApply(v -> {
      ArrayNode a = ApiErrors.JSON.createArrayNode();
      all.forEach(f -> a.add(ApiErrors.JSON.valueToTree(f.join())));
      return json(StatusCodes.OK, a);
    });
  }

  private CompletionStage<HttpResponse> buildlets() {
    return poolViews().thenApply(views -> {
      ArrayNode a = ApiErrors.JSON.createArrayNode();
      views.forEach(v -> v.machines().forEach(m -> a.add(dev.grange.node.live.LiveJson.machine(v, m))));
      return json(StatusCodes.OK, a);
    });
  }

  private CompletionStage<HttpResponse> queues() {
    long now = System.currentTimeMillis();
    return poolViews().thenApply(views -> {
      ArrayNode a = ApiErrors.JSON.createArrayNode();
      views.forEach(v -> a.add(dev.grange.node.live.LiveJson.queue(v, now)));
      return json(StatusCodes.OK, a);
    });
  }

  private ArrayNode builders() {
    ArrayNode a = ApiErrors.JSON.createArrayNode();
    farm.builders().values().forEach(b -> {
      ObjectNode o = a.addObject();
      o.put("name", b.name());
      o.put("hostType", b.hostType());
      o.put("notes", b.notes());
      ArrayNode steps = o.putArray("steps");
      b.steps().forEach(s -> steps.add(s.name()));
    });
    return a;
  }

  // ---- the store ----

  /** Refuses at once, without asking anyone, while the store is known to be down. */
  private Route needsStore(java.util.function.Supplier<Route> inner) {
    return health.down() ? complete(ApiErrors.storeUnavailable(health.status().describe())) : inner.get();
  }

  private ObjectNode store() {
    StoreHealth.Status s = health.status();
    ObjectNode o = ApiErrors.JSON.createObjectNode();
    o.put("state", s.up() ? "up" : "down");
    o.put("sinceMs", s.sinceMs());
    o.put("since", java.time.Instant.ofEpochMilli(s.sinceMs()).toString());
    if (s.lastError() != null) {
      o.put("lastError", s.lastError());
    }
    o.put("probedAtMs", s.probedAtMs());
    o.put("failedProbesInARow", s.failuresInARow());
    return o;
  }

  /**
   * The 503 for a failure that means "not now" (an ask that timed out; the store down), or null
   * for any other failure. {@code who} names what did not answer.
   */
  private HttpResponse unavailable(Throwable t, String who) {
    Throwable c = unwrap(t);
    if (!(c instanceof java.util.concurrent.TimeoutException)) {
      return null;
    }
    if (health.down()) {
      return ApiErrors.storeUnavailable(health.status().describe());
    }
    return ApiErrors.unavailable("timeout", who + " did not answer within " + ask.toSeconds()
        + " s (an entity may be recovering from the build store); try again");
  }

  private static Throwable unwrap(Throwable t) {
    while ((t instanceof CompletionException || t instanceof java.util.concurrent.ExecutionException) && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  // ---- helpers ----

  private static boolean validId(String id) {
    return id.matches("[a-z0-9-]{1,64}");
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n.get(field);
    return v != null && v.isTextual() && !v.asText().isBlank() ? v.asText() : null;
  }

  private Route bad(String code, String message) {
    return complete(ApiErrors.response(StatusCodes.BAD_REQUEST, code, message));
  }

  static HttpResponse json(org.apache.pekko.http.javadsl.model.StatusCode status, JsonNode body) {
    return HttpResponse.create().withStatus(status).withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, body.toString()));
  }
}
