package dev.grange.agent.files;

import dev.grange.agent.channel.CreditGate;
import dev.grange.agent.channel.InboundStream;
import dev.grange.agent.channel.OpException;
import dev.grange.agent.channel.OutboundStream;
import dev.grange.agent.channel.SessionLink;
import dev.grange.protocol.wire.AgentFrame;
import dev.grange.protocol.wire.ErrorCode;
import dev.grange.protocol.wire.NodeFrame;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The file operations of PROTOCOL.md section 3: put_tar, put_tar_url, get_tar, write_file, ls,
 * remove_all. Each entry point is called on the socket's listener thread, opens the stream its
 * request names there (so the binary frames and credit that follow find it), and does the
 * work on a worker thread, which sends the answer. Every path goes through {@link WorkDir};
 * every refusal leaves the workdir as it was.
 *
 * <p>Requests run concurrently, as the Go buildlet's HTTP handlers did: a node that needs one
 * operation to finish before the next waits for its answer.
 */
public final class FileOps {
  private static final Logger log = LoggerFactory.getLogger(FileOps.class);
  private static final long CREDIT_WAIT_MS = 5 * 60_000;
  /** How long a put_tar_url keeps asking a server that answers 503 (busy), Retry-After apart. */
  private static final long BUSY_PATIENCE_MS = 2 * 60_000;
  private static final long BUSY_WAIT_MAX_MS = 10_000;

  private final WorkDir workDir;
  private final TarExtractor extractor;
  private final HttpClient http;
  private final String key;
  private final Executor workers;
  private final long maxFileBytes;

  /**
   * @param key sent as a bearer token to put_tar_url fetches from the node this socket is on
   * @param maxFileBytes the largest file write_file accepts
   */
  public FileOps(WorkDir workDir, TarExtractor extractor, HttpClient http, String key, Executor workers, long maxFileBytes) {
    this.workDir = workDir;
    this.extractor = extractor;
    this.http = http;
    this.key = key;
    this.workers = workers;
    this.maxFileBytes = maxFileBytes;
  }

  /** A unit of work that answers its request, or throws the refusal to answer with. */
  private interface Work {
    void run() throws OpException, IOException;
  }

  private void submit(SessionLink link, long id, Work work, Runnable onFailure) {
    workers.execute(() -> {
      try {
        work.run();
      } catch (OpException e) {
        log.info("Request [{}] refused: {} {}", id, e.code().wire(), e.getMessage());
        link.send(e.toFrame(id));
        onFailure.run();
      } catch (IOException e) {
        log.warn("Request [{}] failed: {}", id, e.toString());
        link.send(new AgentFrame.Error(id, ErrorCode.IO_ERROR, e.getMessage() == null ? e.toString() : e.getMessage()));
        onFailure.run();
      } catch (RuntimeException e) {
        log.error("Request [{}] failed", id, e);
        link.send(new AgentFrame.Error(id, ErrorCode.INTERNAL, "agent bug: " + e));
        onFailure.run();
      }
    });
  }

  private static void refuseNow(SessionLink link, long id, OpException e) {
    log.info("Request [{}] refused: {} {}", id, e.code().wire(), e.getMessage());
    link.send(e.toFrame(id));
  }

  public void putTar(SessionLink link, NodeFrame.PutTar req) {
    InboundStream in;
    try {
      in = link.openInbound(req.stream());
    } catch (OpException e) {
      refuseNow(link, req.id(), e);
      return;
    }
    submit(link, req.id(), () -> {
      Path target = workDir.resolve(req.dir());
      try (TarExtractor.Staged staged = extractor.stage(target, in, req.gzip())) {
        in.skipToEnd(); // tar padding after the end-of-archive marker
        in.verifyEnd();
        staged.place();
        log.info("Extracted {} files ({} bytes) into [{}]", staged.files(), staged.bytes(), req.dir());
        link.send(new AgentFrame.Ok(req.id(), staged.files(), staged.bytes()));
      }
    }, () -> drain(in));
  }

  public void putTarUrl(SessionLink link, NodeFrame.PutTarUrl req) {
    submit(link, req.id(), () -> {
      URI uri;
      try {
        uri = URI.create(req.url());
      } catch (IllegalArgumentException e) {
        throw OpException.badRequest("url \"" + req.url() + "\" is not a URL: " + e.getMessage());
      }
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null) {
        throw OpException.badRequest("url \"" + req.url() + "\" must be an http or https URL");
      }
      Path target = workDir.resolve(req.dir());
      HttpRequest.Builder get = HttpRequest.newBuilder(uri).GET();
      // The key goes only back to the node this socket is on, never to a third party.
      if (sameServer(uri, link.node())) {
        get.header("Authorization", "Bearer " + key);
      }
      HttpResponse<InputStream> resp = fetchPatiently(get.build(), uri);
      try (InputStream body = resp.body()) {
        if (resp.statusCode() == 404) {
          throw OpException.notFound("fetching " + uri + ": HTTP 404");
        }
        if (resp.statusCode() != 200) {
          throw OpException.io("fetching " + uri + ": HTTP " + resp.statusCode(), null);
        }
        try (TarExtractor.Staged staged = extractor.stage(target, body, true)) {
          staged.place();
          log.info("Extracted {} files ({} bytes) from [{}] into [{}]", staged.files(), staged.bytes(), uri, req.dir());
          link.send(new AgentFrame.Ok(req.id(), staged.files(), staged.bytes()));
        }
      }
    }, () -> {});
  }

  /**
   * GETs {@code request}; a 503 (the node serving as much as it will at once) is asked again after
   * its Retry-After (1 s when it says none, at most 10 s) for up to 2 minutes, then answered as is.
   */
  private HttpResponse<InputStream> fetchPatiently(HttpRequest request, URI uri) throws IOException {
    long deadline = System.nanoTime() + BUSY_PATIENCE_MS * 1_000_000;
    try {
      while (true) {
        HttpResponse<InputStream> resp = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        if (resp.statusCode() != 503 || System.nanoTime() > deadline) {
          return resp;
        }
        resp.body().close();
        long waitMs = resp.headers().firstValue("Retry-After").map(FileOps::seconds).orElse(1L) * 1000;
        waitMs = Math.min(BUSY_WAIT_MAX_MS, waitMs);
        log.info("[{}] is busy (HTTP 503): asking again in {} ms", uri, waitMs);
        Thread.sleep(waitMs);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while fetching " + uri);
    }
  }

  private static long seconds(String retryAfter) {
    try {
      return Math.max(0, Long.parseLong(retryAfter.trim()));
    } catch (NumberFormatException e) {
      return 1; // an HTTP date: not worth parsing for a wait this short
    }
  }

  public void getTar(SessionLink link, NodeFrame.GetTar req) {
    CreditGate gate;
    try {
      gate = link.openOutbound(req.stream());
    } catch (OpException e) {
      refuseNow(link, req.id(), e);
      return;
    }
    OutboundStream out = new OutboundStream(link, gate, CREDIT_WAIT_MS);
    submit(link, req.id(), () -> {
      Path dir = existingDirectory(req.dir());
      TarPacker.pack(dir, out);
      out.finish();
      log.debug("Sent a tar of [{}]: {} bytes", req.dir(), out.sent());
    }, out::abandon);
  }

  public void writeFile(SessionLink link, NodeFrame.WriteFile req) {
    InboundStream in;
    try {
      in = link.openInbound(req.stream());
    } catch (OpException e) {
      refuseNow(link, req.id(), e);
      return;
    }
    submit(link, req.id(), () -> {
      Path dest = fileDestination(req.path());
      Path tmp = workDir.staging().resolve(UUID.randomUUID() + ".part");
      try {
        receive(in, tmp);
        in.verifyEnd();
        Trees.setMode(tmp, req.modeBits());
        dest = fileDestination(req.path());
        Files.createDirectories(dest.getParent());
        moveInto(tmp, dest);
      } finally {
        Files.deleteIfExists(tmp);
      }
      log.debug("Wrote [{}]: {} bytes", req.path(), in.consumed());
      link.send(AgentFrame.Ok.of(req.id()));
    }, () -> drain(in));
  }

  public void ls(SessionLink link, NodeFrame.Ls req) {
    submit(link, req.id(), () -> {
      Path dir = existingDirectory(req.dir());
      Lister.list(dir, req.recursive(), req.digest(), req.skip(), page -> link.send(new AgentFrame.LsPage(req.id(), page)));
      link.send(AgentFrame.Ok.of(req.id()));
    }, () -> {});
  }

  public void removeAll(SessionLink link, NodeFrame.RemoveAll req) {
    submit(link, req.id(), () -> {
      // Every path is checked before anything is removed: one bad path refuses the lot.
      List<Path> targets = new ArrayList<>();
      for (String p : req.paths()) {
        targets.add(workDir.locate(p));
      }
      for (Path t : targets) {
        Trees.delete(t, t.equals(workDir.root()));
      }
      log.info("Removed {}", req.paths());
      link.send(AgentFrame.Ok.of(req.id()));
    }, () -> {});
  }

  private Path existingDirectory(String rel) throws OpException {
    Path dir = workDir.resolve(rel);
    if (!Files.exists(dir)) {
      throw OpException.notFound("directory \"" + rel + "\" does not exist");
    }
    if (!Files.isDirectory(dir)) {
      throw OpException.badRequest("\"" + rel + "\" is not a directory");
    }
    return dir;
  }

  private Path fileDestination(String rel) throws OpException {
    Path dest = workDir.locate(rel);
    if (dest.equals(workDir.root()) || WorkDir.isRealDirectory(dest)) {
      throw OpException.badRequest("\"" + rel + "\" is a directory");
    }
    return dest;
  }

  private void receive(InboundStream in, Path tmp) throws IOException, OpException {
    byte[] buf = new byte[64 << 10];
    long total = 0;
    try (OutputStream out = Files.newOutputStream(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      int n;
      while ((n = in.read(buf, 0, buf.length)) >= 0) {
        total += n;
        if (total > maxFileBytes) {
          throw OpException.tooLarge("the file is over " + maxFileBytes + " bytes (the agent's --max-archive-bytes)");
        }
        out.write(buf, 0, n);
      }
    }
  }

  private static void moveInto(Path tmp, Path dest) throws IOException {
    try {
      Files.move(tmp, dest, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Path near = dest.resolveSibling(".grange-" + UUID.randomUUID() + ".tmp");
      try {
        Files.copy(tmp, near, StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
        Files.move(near, dest, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } finally {
        Files.deleteIfExists(near);
      }
    }
  }

  /** After a refusal the node may still be sending: take the rest so the stream ends cleanly. */
  private static void drain(InboundStream in) {
    try {
      in.skipToEnd();
    } catch (IOException ignored) {
      // The socket is gone; so is the stream.
    }
  }

  static boolean sameServer(URI a, URI node) {
    if (a.getHost() == null || node.getHost() == null || !a.getHost().equalsIgnoreCase(node.getHost())) {
      return false;
    }
    return port(a) == port(node);
  }

  private static int port(URI u) {
    if (u.getPort() >= 0) {
      return u.getPort();
    }
    String s = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
    return s.equals("https") || s.equals("wss") ? 443 : 80;
  }
}
