package dev.grange.node.source;

import dev.grange.node.api.ApiErrors;
import dev.grange.protocol.model.FarmConfig;
import dev.grange.protocol.model.RepoSpec;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.regex.Pattern;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.ContentDisposition;
import org.apache.pekko.http.javadsl.model.headers.ContentDispositionTypes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code GET /src/{repo}.tar.gz?rev={sha}}: the gzip'd tar of the tree of a mirrored repository
 * at a commit, the same bytes every time ({@link Sources#archive}: built once per commit on this
 * node, from its source cache, fetching upstream when the commit is new to it), streamed from the
 * file. Unknown repository 404; rev missing or not a full hex sha 400; a commit the repository
 * does not have 404; upstream unreachable for a commit not cached 502; too many requests in hand
 * 503 ({@link ServeLimit}: the archives are made on the serving executor, not the mirrors').
 */
public final class SourceRoutes extends AllDirectives {
  private static final java.time.Duration ARCHIVE_TIMEOUT = java.time.Duration.ofMinutes(10);

  private final FarmConfig farm;
  private final Sources sources;
  private final ServeLimit serving;

  public SourceRoutes(FarmConfig farm, Sources sources, ServeLimit serving) {
    this.farm = farm;
    this.sources = sources;
    this.serving = serving;
  }

  /** Where this route serves {@code repo} (a configured name) at {@code sha}. */
  public static String path(String repo, String sha) {
    return "/src/" + repo + ".tar.gz?rev=" + sha;
  }

  public Route route() {
    return get(() -> path(PathMatchers.segment("src").slash(PathMatchers.segment(Pattern.compile("(.+)\\.tar\\.gz"))), name ->
        // The first archive of a large tree takes a while to make: more than the server's default.
        withRequestTimeout(ARCHIVE_TIMEOUT, () -> parameterOptional("rev", rev -> onSuccess(archive(name, rev.orElse("")), this::complete)))));
  }

  private CompletionStage<HttpResponse> archive(String name, String rev) {
    RepoSpec repo = farm.repo(name).orElse(null);
    if (repo == null) {
      return done(ApiErrors.response(StatusCodes.NOT_FOUND, "unknown_repo", "no repository " + name + " (see GET /api/v1/mirrors)"));
    }
    if (!Revs.isFullSha(rev)) {
      return done(ApiErrors.response(StatusCodes.BAD_REQUEST, "bad_rev", "rev must be a full 40-character hex sha"));
    }
    return serving.run("the archive of " + name, () -> {
      try {
        return ok(name, rev, sources.archive(repo.url(), rev));
      } catch (SourceException | RuntimeException e) {
        return refused(name, rev, e);
      }
    });
  }

  private static HttpResponse ok(String name, String rev, Path file) {
    return HttpResponse.create()
        .withEntity(HttpEntities.create(ContentTypes.create(MediaTypes.APPLICATION_X_GZIP), file))
        .addHeader(ContentDisposition.create(ContentDispositionTypes.ATTACHMENT,
            java.util.Map.of("filename", name + "-" + rev.substring(0, 12) + ".tar.gz")))
        // A commit's tree never changes.
        .addHeader(RawHeader.create("Cache-Control", "public, max-age=31536000, immutable"));
  }

  private static HttpResponse refused(String name, String rev, Throwable err) {
    Throwable e = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
    if (e instanceof SourceException s) {
      return switch (s.kind()) {
        case UNKNOWN_REV -> ApiErrors.response(StatusCodes.NOT_FOUND, "unknown_rev", "repository " + name + " has no commit " + rev);
        case BAD_REV -> ApiErrors.response(StatusCodes.BAD_REQUEST, "bad_rev", s.getMessage());
        case REPO_UNREACHABLE -> ApiErrors.response(StatusCodes.BAD_GATEWAY, "upstream_unreachable", s.getMessage());
        case BAD_REPO -> ApiErrors.response(StatusCodes.INTERNAL_SERVER_ERROR, "bad_repo", s.getMessage());
      };
    }
    return ApiErrors.response(StatusCodes.INTERNAL_SERVER_ERROR, "internal", "the archive could not be made: " + e.getMessage());
  }

  private static CompletionStage<HttpResponse> done(HttpResponse r) {
    return CompletableFuture.completedFuture(r);
  }
}
