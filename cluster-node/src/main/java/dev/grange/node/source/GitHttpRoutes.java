package dev.grange.node.source;

import dev.grange.node.api.ApiErrors;
import dev.grange.mirror.MirrorsHere;
import dev.grange.protocol.model.FarmConfig;
import dev.grange.protocol.model.RepoSpec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.zip.GZIPInputStream;
import org.apache.pekko.NotUsed;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.apache.pekko.stream.javadsl.StreamConverters;
import org.apache.pekko.util.ByteString;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.eclipse.jgit.transport.PacketLineOut;
import org.eclipse.jgit.transport.RefAdvertiser;
import org.eclipse.jgit.transport.UploadPack;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Read-only git over HTTP for the mirrored repositories ({@code git clone
 * http://host:port/git/{repo}}): the smart protocol's two requests, {@code GET
 * .../info/refs?service=git-upload-pack} (the refs) and {@code POST .../git-upload-pack} (the
 * pack, streamed as JGit's {@link UploadPack} writes it, on the blocking executor), served from
 * the repository's bare mirror on this node ({@code var/mirrors/<repo>.git}). Pushing ({@code
 * git-receive-pack}) and the dumb protocol are refused with 403; an unknown repository is 404; a
 * repository whose {@code RepoMirror} does not run here (or has not fetched yet) is served from
 * this node's source cache ({@link Sources#openToServe}: fetched from upstream, 502 when that
 * fails and nothing is cached). Everything runs on the serving executor ({@link ServeLimit}): 503
 * when too many requests are in hand. A request body is at most 16 MiB, and as much again gzip'd
 * or not once inflated.
 */
public final class GitHttpRoutes extends AllDirectives {
  private static final Logger log = LoggerFactory.getLogger(GitHttpRoutes.class);
  private static final long MAX_REQUEST = 16L * 1024 * 1024;
  /** A pack response not sent by then never will be. */
  private static final java.time.Duration UNSENT_AFTER = java.time.Duration.ofMinutes(1);
  private static final ContentType ADVERTISEMENT = ContentTypes.parse("application/x-git-upload-pack-advertisement");
  private static final ContentType RESULT = ContentTypes.parse("application/x-git-upload-pack-result");

  private final FarmConfig farm;
  private final MirrorsHere here;
  private final Sources sources;
  private final ServeLimit serving;
  private final Executor blocking;

  public GitHttpRoutes(FarmConfig farm, MirrorsHere here, Sources sources, ServeLimit serving) {
    this.farm = farm;
    this.here = here;
    this.sources = sources;
    this.serving = serving;
    this.blocking = serving.executor();
  }

  public Route route() {
    return pathPrefix(PathMatchers.segment("git").slash(PathMatchers.segment()), raw -> {
      String name = raw.endsWith(".git") ? raw.substring(0, raw.length() - 4) : raw;
      return concat(
          path(PathMatchers.segment("info").slash("refs"), () -> get(() -> advertise(name))),
          path("git-upload-pack", () -> post(() -> withSizeLimit(MAX_REQUEST,
              () -> optionalHeaderValueByName("Content-Encoding", enc -> upload(name, enc.orElse("")))))),
          path("git-receive-pack", () -> complete(refused("git-receive-pack"))),
          complete(ApiErrors.response(StatusCodes.NOT_FOUND, "not_found", "git over HTTP serves info/refs and git-upload-pack only")));
    });
  }

  private Route advertise(String name) {
    return parameterOptional("service", service -> service.orElse("").equals("git-upload-pack")
        ? onSuccess(refs(name), this::complete)
        : complete(refused(service.orElse(""))));
  }

  private static HttpResponse refused(String service) {
    return ApiErrors.response(StatusCodes.FORBIDDEN, "read_only", service.equals("git-receive-pack")
        ? "the mirrors are read-only: push to the upstream"
        : "only the smart protocol (service=git-upload-pack) is served");
  }

  /** Blocking: the repository to serve, opened, or an error response. */
  private Object repository(String name) {
    RepoSpec spec = farm.repo(name).orElse(null);
    if (spec == null) {
      return ApiErrors.response(StatusCodes.NOT_FOUND, "unknown_repo", "no repository " + name);
    }
    Path live = here.dir(name).orElse(null);
    try {
      return live != null
          ? new FileRepositoryBuilder().setGitDir(live.toFile()).setBare().setMustExist(true).build()
          : sources.openToServe(spec.url());
    } catch (IOException e) {
      return ApiErrors.response(StatusCodes.INTERNAL_SERVER_ERROR, "bad_mirror", "the mirror of " + name + " cannot be read: " + e.getMessage());
    } catch (SourceException e) {
      return e.kind() == SourceException.Kind.REPO_UNREACHABLE
          ? ApiErrors.response(StatusCodes.BAD_GATEWAY, "upstream_unreachable", e.getMessage())
          : ApiErrors.response(StatusCodes.INTERNAL_SERVER_ERROR, "bad_repo", e.getMessage());
    }
  }

  /** Only what a clone of upstream would see: branches, tags and HEAD (a local repository has more). */
  private static UploadPack uploadPack(Repository repo) {
    UploadPack up = new UploadPack(repo);
    up.setBiDirectionalPipe(false);
    up.setRefFilter(refs -> {
      Map<String, Ref> shown = new HashMap<>();
      refs.forEach((n, r) -> {
        if (n.equals("HEAD") || n.startsWith("refs/heads/") || n.startsWith("refs/tags/")) {
          shown.put(n, r);
        }
      });
      return shown;
    });
    return up;
  }

  private CompletionStage<HttpResponse> refs(String name) {
    return serving.run("the refs of " + name, () -> {
      Object r = repository(name);
      if (r instanceof HttpResponse refusal) {
        return refusal;
      }
      try (Repository repo = (Repository) r) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PacketLineOut pck = new PacketLineOut(buf);
        pck.writeString("# service=git-upload-pack\n");
        pck.end();
        UploadPack up = uploadPack(repo);
        up.sendAdvertisedRefs(new RefAdvertiser.PacketLineOutRefAdvertiser(pck));
        return HttpResponse.create().withEntity(HttpEntities.create(ADVERTISEMENT, buf.toByteArray()))
            .addHeader(RawHeader.create("Cache-Control", "no-cache"));
      } catch (IOException e) {
        return ApiErrors.response(StatusCodes.INTERNAL_SERVER_ERROR, "internal", "refs of " + name + ": " + e.getMessage());
      }
    });
  }

  private Route upload(String name, String encoding) {
    return entity(Unmarshaller.entityToByteString(), body -> {
      if (!serving.tryAdmit()) {
        return complete(serving.busy("the fetch of " + name));
      }
      // Admitted until the pack is written (or the request refused).
      CompletableFuture<Object> opened;
      try {
        opened = CompletableFuture.supplyAsync(() -> repository(name), blocking);
      } catch (RuntimeException rejected) {
        serving.release();
        throw rejected;
      }
      return onSuccess(opened.whenComplete((r, err) -> {
        if (err != null || r instanceof HttpResponse) {
          serving.release();
        }
      }), r -> upload(name, encoding, body, r));
    });
  }

  private Route upload(String name, String encoding, ByteString body, Object r) {
    if (r instanceof HttpResponse refusal) {
      return complete(refusal);
    }
    Repository repo = (Repository) r;
    // The pack is written once the response's stream starts; a response never sent (the client
    // gone first) never starts it: then the repository and the admission are let go here.
    java.util.concurrent.atomic.AtomicBoolean claimed = new java.util.concurrent.atomic.AtomicBoolean();
    CompletableFuture.delayedExecutor(UNSENT_AFTER.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS, blocking).execute(() -> {
      if (claimed.compareAndSet(false, true)) {
        repo.close();
        serving.release();
      }
    });
    var source = StreamConverters.asOutputStream().mapMaterializedValue(out -> {
      if (!claimed.compareAndSet(false, true)) {
        out.close();
        return NotUsed.getInstance();
      }
      blocking.execute(() -> {
        try {
          serve(repo, name, body, encoding, out);
        } finally {
          serving.release();
        }
      });
      return NotUsed.getInstance();
    });
    return complete(HttpResponse.create().withEntity(HttpEntities.createChunked(RESULT, source))
        .addHeader(RawHeader.create("Cache-Control", "no-cache")));
  }

  /**
   * The request's bytes, inflated when gzip'd: at most {@code max} of them either way (a small
   * gzip'd body may inflate to anything); reading past that fails.
   */
  static InputStream requestBody(ByteString body, String encoding, long max) throws IOException {
    InputStream in = body.iterator().asInputStream();
    if (!encoding.equalsIgnoreCase("gzip")) {
      return in;
    }
    return new org.eclipse.jgit.util.io.LimitedInputStream(new GZIPInputStream(in), max) {
      @Override
      protected void limitExceeded() throws IOException {
        throw new IOException("the inflated request is over " + max + " bytes");
      }
    };
  }

  /** Blocking: the pack for the client's wants and haves, written as it is made. */
  private static void serve(Repository repo, String name, ByteString body, String encoding, OutputStream out) {
    try (repo; out) {
      uploadPack(repo).upload(requestBody(body, encoding, MAX_REQUEST), out, null);
    } catch (Exception e) {
      // The client sees the stream end early; git reports the broken pack.
      log.warn("git-upload-pack of [{}] failed: {}", name, e.toString());
    }
  }
}
