package dev.grange.node.buildlet;

import dev.grange.protocol.wire.AgentFrame;
import dev.grange.protocol.wire.Frame;
import dev.grange.protocol.wire.NodeFrame;
import dev.grange.protocol.wire.ProtocolException;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.pattern.StatusReply;

/**
 * The source archives one {@link BuildletSession} ships. A repository this node serves at {@code
 * /src} ({@link BuildletSession.SourceUrls}) is fetched by the agent itself ({@code put_tar_url}
 * with the URL of this node as the agent reached it); any other is pushed ({@code put_tar}): the
 * archive made off the actor (blocking dispatcher), sent in data frames within the credit the
 * agent grants, then {@code end} with its size and digest. The agent's {@code ok} or {@code error}
 * answers the build. Runs inside the session's actor, through {@link SessionExecs.Io}.
 */
final class SessionSources {
  private final SessionExecs.Io io;
  private final BuildletSession.Deps deps;
  private final Map<Integer, OutgoingArchive> outStreams = new HashMap<>();

  private final String nodeUrl;

  SessionSources(SessionExecs.Io io, BuildletSession.Deps deps, String nodeUrl) {
    this.io = io;
    this.deps = deps;
    this.nodeUrl = nodeUrl;
  }

  /** Credit the agent granted on an archive's stream. */
  void onCredit(Frame.Credit c) {
    OutgoingArchive o = outStreams.get(c.stream());
    if (o == null) {
      throw new ProtocolException("credit for unknown stream " + c.stream());
    }
    o.credit(c.bytes());
    pump(o);
  }

  /** The session ended: the archives are closed. */
  void closeAll() {
    outStreams.values().forEach(OutgoingArchive::close);
  }


  void onPutSource(BuildletSession.PutSource m) {
    if (!io.open()) {
      m.replyTo().tell(StatusReply.error(BuildletSession.SESSION_ENDED + ": closed"));
      return;
    }
    String served = nodeUrl == null ? null : deps.sourceUrls().path(m.repo(), m.sha()).orElse(null);
    if (served != null) {
      String url = nodeUrl + served;
      long id = io.requests().add(System.nanoTime(), false, a -> answer(m, a, url), cause -> m.replyTo().tell(StatusReply.error(cause)));
      io.send(new NodeFrame.PutTarUrl(id, m.dir(), url));
      return;
    }
    io.pipe(
            CompletableFuture.supplyAsync(
                () -> {
                  try {
                    return deps.sources().archive(m.repo(), m.sha());
                  } catch (Exception e) {
                    throw new java.util.concurrent.CompletionException(e);
                  }
                },
                deps.blocking()),
            (path, err) -> new BuildletSession.ArchiveReady(m, path, err == null ? null : BuildletSession.unwrap(err)));
    return;
  }

  void onArchiveReady(BuildletSession.ArchiveReady m) {
    BuildletSession.PutSource req = m.request();
    if (m.failure() != null) {
      req.replyTo().tell(StatusReply.error("cannot make the source archive: " + m.failure().getMessage()));
      return;
    }
    if (!io.open()) {
      req.replyTo().tell(StatusReply.error(BuildletSession.SESSION_ENDED + ": closed"));
      return;
    }
    OutgoingArchive o;
    try {
      o = new OutgoingArchive(io.nextStream(), m.archive());
    } catch (Exception e) {
      req.replyTo().tell(StatusReply.error("cannot open the source archive: " + e.getMessage()));
      return;
    }
    outStreams.put(o.stream, o);
    long id =
        io.requests().add(
            System.nanoTime(),
            false,
            a -> {
              o.close();
              outStreams.remove(o.stream);
              answer(req, a, null);
            },
            cause -> req.replyTo().tell(StatusReply.error(cause)));
    io.send(new NodeFrame.PutTar(id, req.dir(), o.stream, true));
    pump(o);
    return;
  }

  /** The agent's answer to a put_tar or put_tar_url (of {@code url}, when not null). */
  private static void answer(BuildletSession.PutSource req, AgentFrame a, String url) {
    if (a instanceof AgentFrame.Ok ok) {
      req.replyTo().tell(StatusReply.success(new BuildletSession.SourcePut(url == null ? BuildletSession.SourcePut.PUSHED : url,
          ok.files() == null ? 0 : ok.files(), ok.bytes() == null ? 0 : ok.bytes())));
    } else if (a instanceof AgentFrame.Error e) {
      req.replyTo().tell(StatusReply.error("agent refused the source archive" + (url == null ? "" : " of " + url) + ": "
          + e.code().wire() + ": " + e.message()));
    }
  }

  private void pump(OutgoingArchive o) {
    int want = io.open() ? o.nextRead() : 0;
    if (want == 0) {
      return;
    }
    int stream = o.stream;
    io.pipe(
            CompletableFuture.supplyAsync(
                () -> {
                  try {
                    return o.read(want);
                  } catch (java.io.IOException e) {
                    throw new java.util.concurrent.CompletionException(e);
                  }
                },
                deps.blocking()),
            (bytes, err) -> new BuildletSession.ChunkRead(stream, bytes, err == null ? null : BuildletSession.unwrap(err)));
  }

  void onChunkRead(BuildletSession.ChunkRead m) {
    OutgoingArchive o = outStreams.get(m.stream());
    if (o == null || !io.open()) {
      return;
    }
    if (m.failure() != null) {
      o.failed();
      io.fail("reading the source archive failed: " + m.failure().getMessage());
      return;
    }
    if (m.bytes().length == 0) {
      io.send(o.end());
      return;
    }
    io.sendBinary(o.frame(m.bytes()));
    pump(o);
    return;
  }
}
