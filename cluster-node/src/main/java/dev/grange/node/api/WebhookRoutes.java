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
 * GitHub webhooks: {@code POST /webhooks/github} (the repository found by the payload's
 * {@code repository} URLs) and {@code POST /webhooks/github/{repo}} (named in the hook's URL).
 * The body's {@code X-Hub-Signature-256} must be the HMAC-SHA256 of the exact bytes with the
 * secret of a configured repository (compared in constant time); a repository without a secret
 * takes no webhook. A {@code push} makes each repository it names fetch at once; {@code ping}
 * answers; other events are acknowledged and ignored. Refusals: body over 1 MiB 413, no or a bad
 * signature 401 (before anything else is said, so a stranger learns nothing of the config), not
 * JSON 400, signed but for no repository here 404.
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
    return pathPrefix(PathMatchers.segment("webhooks").slash("github"), () -> concat(
        pathEnd(() -> hook(null)),
        path(PathMatchers.segment(), this::hook)));
  }

  private Route hook(String named) {
    return post(() -> extractRequest(req -> {
      if (req.entity().getContentLengthOption().orElse(0) > MAX_BODY) {
        return complete(tooLarge());
      }
      return withSizeLimit(MAX_BODY, () -> handleExceptions(tooLargeWhileStreaming, () -> signed(named)));
    }));
  }

  private Route signed(String named) {
    return entity(Unmarshaller.entityToByteString(), body ->
        optionalHeaderValueByName("X-Hub-Signature-256", sig ->
            optionalHeaderValueByName("X-GitHub-Event", event ->
                complete(answer(named, body, sig.orElse(null), event.orElse(""))))));
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
    if (signature == null || !signature.startsWith("sha256=")) {
      return ApiErrors.response(StatusCodes.UNAUTHORIZED, "bad_signature", "X-Hub-Signature-256 (sha256=<hex>) is required");
    }
    byte[] given;
    try {
      given = HexFormat.of().parseHex(signature.substring("sha256=".length()).toLowerCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      return ApiErrors.response(StatusCodes.UNAUTHORIZED, "bad_signature", "X-Hub-Signature-256 is not sha256=<hex>");
    }
    byte[] bytes = body.toArray();
    List<RepoSpec> signedFor = new ArrayList<>();
    for (RepoSpec r : farm.repos().values()) {
      if (r.acceptsWebhooks() && MessageDigest.isEqual(hmac(r.webhookSecret(), bytes), given)) {
        signedFor.add(r);
      }
    }
    if (signedFor.isEmpty()) {
      return ApiErrors.response(StatusCodes.UNAUTHORIZED, "bad_signature", "the signature matches no repository's webhook secret");
    }
    JsonNode payload;
    try {
      payload = ApiErrors.JSON.readTree(bytes);
    } catch (Exception e) {
      return ApiErrors.response(StatusCodes.BAD_REQUEST, "bad_json", "the body is not JSON");
    }
    List<RepoSpec> targets = signedFor.stream()
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
    var names = o.putArray("fetching");
    for (RepoSpec r : targets) {
      sharding.entityRefFor(RepoMirror.ENTITY_KEY, r.name()).tell(new RepoMirror.Fetch("webhook"));
      names.add(r.name());
    }
    return ApiRoutes.json(StatusCodes.ACCEPTED, o);
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
