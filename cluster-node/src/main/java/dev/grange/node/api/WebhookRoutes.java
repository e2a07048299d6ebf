package dev.grange.node.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.grange.mirror.RepoMirror;
import dev.grange.protocol.model.FarmConfig;
import dev.grange.protocol.model.RepoSpec;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.apache.pekko.util.ByteString;

/**
 * Webhooks that make a mirror fetch at once.
 *
 * <p>GitHub: {@code POST /webhooks/github} (the repository found by the payload's {@code
 * repository} URLs) and {@code POST /webhooks/github/{repo}} (named in the hook's URL). The body's
 * {@code X-Hub-Signature-256} must be the HMAC-SHA256 of the exact bytes with the secret of a
 * configured repository (compared in constant time). A {@code push} makes each repository it names
 * fetch; {@code ping} answers; other events are acknowledged and ignored.
 *
 * <p>Gerrit (the webhooks plugin's JSON events): {@code POST /webhooks/gerrit} (the repository
 * whose upstream URL ends in the event's {@code refUpdate.project}) and {@code POST
 * /webhooks/gerrit/{repo}}. Gerrit does not sign its events, so the hook carries the secret
 * either as {@code Authorization: Bearer <secret>} or as an {@code X-Hub-Signature-256} HMAC like
 * GitHub's (from a relay that signs). A {@code ref-updated} of a branch or tag makes the
 * repository fetch; other events and refs (changes, meta refs) are acknowledged and ignored.
 *
 * <p>A repository without a secret takes no webhook. Refusals: body over 1 MiB 413, no or a bad
 * signature or token 401 (before anything else is said, so a stranger learns nothing of the
 * config), not JSON 400, authenticated but for no repository here 404. Nothing is told to any
 * mirror on a refusal.
 */
public final class WebhookRoutes extends AllDirectives {
  public static final long MAX_BODY = 1024 * 1024;

  private final ClusterSharding sharding;
  private final FarmConfig farm;

  public WebhookRoutes(ClusterSharding sharding, FarmConfig farm) {
    this.sharding = sharding;
    this.farm = farm;
  }

  public Route route() {
    return pathPrefix("webhooks", () -> concat(
        pathPrefix("github", () -> concat(
            pathEnd(() -> hook(() -> github(null))),
            path(PathMatchers.segment(), named -> hook(() -> github(named))))),
        pathPrefix("gerrit", () -> concat(
            pathEnd(() -> hook(() -> gerrit(null))),
            path(PathMatchers.segment(), named -> hook(() -> gerrit(named)))))));
  }

  private Route hook(Supplier<Route> inner) {
    return post(() -> extractRequest(req -> {
      if (req.entity().getContentLengthOption().orElse(0) > MAX_BODY) {
        return complete(tooLarge());
      }
      return withSizeLimit(MAX_BODY, () -> handleExceptions(tooLargeWhileStreaming, inner));
    }));
  }

  private Route github(String named) {
    return entity(Unmarshaller.entityToByteString(), body ->
        optionalHeaderValueByName("X-Hub-Signature-256", sig ->
            optionalHeaderValueByName("X-GitHub-Event", event ->
                complete(answer(named, body, sig.orElse(null), event.orElse(""))))));
  }

  private Route gerrit(String named) {
    return entity(Unmarshaller.entityToByteString(), body ->
        optionalHeaderValueByName("X-Hub-Signature-256", sig ->
            optionalHeaderValueByName("Authorization", auth ->
                complete(answerGerrit(named, body, sig.orElse(null), auth.orElse(null))))));
  }

  /** A chunked body that goes over the limit while it streams. */
  private final org.apache.pekko.http.javadsl.server.ExceptionHandler tooLargeWhileStreaming =
      org.apache.pekko.http.javadsl.server.ExceptionHandler.newBuilder()
          .match(org.apache.pekko.http.scaladsl.model.EntityStreamSizeException.class, e -> complete(tooLarge()))
          .build();

  private static HttpResponse tooLarge() {
    return ApiErrors.response(StatusCodes.PAYLOAD_TOO_LARGE, "too_large", "a webhook body may be at most 1 MiB");
  }

  HttpResponse answer(String named, ByteString body, String signature, String event) {
    byte[] bytes = body.toArray();
    Auth auth = signedFor(bytes, signature);
    if (auth.refusal() != null) {
      return auth.refusal();
    }
    JsonNode payload = jsonObject(bytes);
    if (payload == null) {
      return notAJsonObject();
    }
    List<RepoSpec> targets = auth.repos().stream()
        .filter(r -> named != null ? r.name().equals(named) : payloadNames(payload, r.url()))
        .toList();
    if (targets.isEmpty()) {
      return ApiErrors.response(StatusCodes.NOT_FOUND, "unknown_repo", named != null
          ? "no repository " + named + " with this secret"
          : "no repository here has the upstream of " + payload.path("repository").path("full_name").asText("this payload"));
    }
    ObjectNode o = ApiErrors.JSON.createObjectNode();
    o.put("event", event);
    if (event.equals("ping")) {
      o.put("pong", true);
      return ApiRoutes.json(StatusCodes.OK, o);
    }
    if (!event.equals("push")) {
      o.put("ignored", "only push events make a mirror fetch");
      return ApiRoutes.json(StatusCodes.OK, o);
    }
    return fetch(targets, o);
  }

  HttpResponse answerGerrit(String named, ByteString body, String signature, String authorization) {
    byte[] bytes = body.toArray();
    Auth auth = signature != null ? signedFor(bytes, signature) : bearerFor(authorization);
    if (auth.refusal() != null) {
      return auth.refusal();
    }
    JsonNode event = jsonObject(bytes);
    if (event == null) {
      return notAJsonObject();
    }
    String type = event.path("type").asText("");
    String project = event.path("refUpdate").path("project").asText("");
    String ref = event.path("refUpdate").path("refName").asText("");
    List<RepoSpec> targets = auth.repos().stream()
        .filter(r -> named != null ? r.name().equals(named) : gerritProjectIs(r.url(), project))
        .toList();
    if (targets.isEmpty()) {
      return ApiErrors.response(StatusCodes.NOT_FOUND, "unknown_repo", named != null
          ? "no repository " + named + " with this secret"
          : "no repository here has the upstream of Gerrit project " + (project.isEmpty() ? "(none named)" : project));
    }
    ObjectNode o = ApiErrors.JSON.createObjectNode();
    o.put("event", type);
    if (!type.equals("ref-updated")) {
      o.put("ignored", "only ref-updated events make a mirror fetch");
      return ApiRoutes.json(StatusCodes.OK, o);
    }
    if (!mirroredRef(ref)) {
      o.put("ignored", "only branches and tags are mirrored, not " + ref);
      return ApiRoutes.json(StatusCodes.OK, o);
    }
    return fetch(targets, o);
  }

  /** The body as a JSON object, or null when it is not one. */
  private static JsonNode jsonObject(byte[] bytes) {
    try {
      JsonNode n = ApiErrors.JSON.readTree(bytes);
      return n != null && n.isObject() ? n : null;
    } catch (java.io.IOException e) {
      return null;
    }
  }

  private static HttpResponse notAJsonObject() {
    return ApiErrors.response(StatusCodes.BAD_REQUEST, "bad_json", "the body is not a JSON object");
  }

  /** Tells each target to fetch now; 202 with their names. */
  private HttpResponse fetch(List<RepoSpec> targets, ObjectNode o) {
    var names = o.putArray("fetching");
    for (RepoSpec r : targets) {
      sharding.entityRefFor(RepoMirror.ENTITY_KEY, r.name()).tell(new RepoMirror.Fetch("webhook"));
      names.add(r.name());
    }
    return ApiRoutes.json(StatusCodes.ACCEPTED, o);
  }

  /** Who a webhook comes from: the repositories whose secret it carries (never empty), or the 401 to answer. */
  private record Auth(List<RepoSpec> repos, HttpResponse refusal) {
    static Auth refused(String message) {
      return new Auth(List.of(), ApiErrors.response(StatusCodes.UNAUTHORIZED, "bad_signature", message));
    }
  }

  /** The repositories whose secret signed {@code bytes}. */
  private Auth signedFor(byte[] bytes, String signature) {
    if (signature == null || !signature.startsWith("sha256=")) {
      return Auth.refused("X-Hub-Signature-256 (sha256=<hex>) is required");
    }
    byte[] given;
    try {
      given = HexFormat.of().parseHex(signature.substring("sha256=".length()).toLowerCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      return Auth.refused("X-Hub-Signature-256 is not sha256=<hex>");
    }
    List<RepoSpec> signed = new ArrayList<>();
    for (RepoSpec r : farm.repos().values()) {
      if (r.acceptsWebhooks() && MessageDigest.isEqual(hmac(r.webhookSecret(), bytes), given)) {
        signed.add(r);
      }
    }
    if (signed.isEmpty()) {
      return Auth.refused("the signature matches no repository's webhook secret");
    }
    return new Auth(signed, null);
  }

  /**
   * The repositories whose secret is the bearer token of {@code authorization}. Tokens are compared as SHA-256 digests, in constant time and without telling their length.
   */
  private Auth bearerFor(String authorization) {
    if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7) || authorization.length() == 7) {
      return Auth.refused("Authorization: Bearer <secret> or X-Hub-Signature-256 (sha256=<hex>) is required");
    }
    byte[] given = sha256(authorization.substring(7).strip());
    List<RepoSpec> matching = new ArrayList<>();
    for (RepoSpec r : farm.repos().values()) {
      if (r.acceptsWebhooks() && MessageDigest.isEqual(sha256(r.webhookSecret()), given)) {
        matching.add(r);
      }
    }
    if (matching.isEmpty()) {
      return Auth.refused("the token is no repository's webhook secret");
    }
    return new Auth(matching, null);
  }

  /** A ref the mirror keeps: a branch or a tag (Gerrit before 2.x wrote a branch's bare name). */
  static boolean mirroredRef(String ref) {
    if (ref.startsWith("refs/heads/") || ref.startsWith("refs/tags/")) {
      return true;
    }
    return !ref.isEmpty() && !ref.startsWith("refs/");
  }

  /**
   * Whether the Gerrit project {@code project} is the one at {@code url}: the URL's path, with
   * Gerrit's authenticated prefix {@code a/} and ".git" dropped ({@code
   * https://go.googlesource.com/go}, {@code ssh://u@review.example:29418/tools/x}).
   */
  static boolean gerritProjectIs(String url, String project) {
    if (project.isEmpty()) {
      return false;
    }
    String n = normal(url);
    int slash = n.indexOf('/');
    String path = slash < 0 ? "" : n.substring(slash + 1);
    if (path.startsWith("a/")) {
      path = path.substring(2);
    }
    return path.equals(project.replaceFirst("\\.git$", ""));
  }

  /** Whether one of the payload's repository URLs is {@code url} (scheme, user, ".git" and case of the host aside). */
  static boolean payloadNames(JsonNode payload, String url) {
    JsonNode repo = payload.path("repository");
    String want = normal(url);
    for (String f : List.of("clone_url", "git_url", "ssh_url", "html_url", "url", "svn_url")) {
      String u = repo.path(f).asText("");
      if (!u.isEmpty() && normal(u).equals(want)) {
        return true;
      }
    }
    return false;
  }

  /** "https://github.com/o/r.git", "git@github.com:o/r", "git://github.com/o/r" all to "github.com/o/r". */
  static String normal(String url) {
    String u = url.trim();
    u = u.replaceFirst("^[a-z+]+://", "");
    u = u.replaceFirst("^[^@/]+@", "");
    u = u.replaceFirst("^([^/:]+):(?!\\d+/)", "$1/");
    u = u.replaceFirst("\\.git/?$", "").replaceFirst("/+$", "");
    int slash = u.indexOf('/');
    return slash < 0 ? u.toLowerCase(Locale.ROOT) : u.substring(0, slash).toLowerCase(Locale.ROOT) + u.substring(slash);
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] hmac(String secret, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return mac.doFinal(body);
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
