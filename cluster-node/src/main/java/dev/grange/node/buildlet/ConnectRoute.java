package dev.grange.node.buildlet;

import dev.grange.node.api.ApiErrors;
import dev.grange.protocol.model.FarmConfig;
import dev.grange.protocol.model.HostTypeSpec;
import dev.grange.protocol.model.PoolKind;
import dev.grange.protocol.wire.Handshake;
import dev.grange.protocol.wire.Limits;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.ws.BinaryMessage;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.http.javadsl.model.ws.TextMessage;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.typed.javadsl.ActorSink;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /buildlet/v1/connect}: the handshake of PROTOCOL.md section 1, then the WebSocket
 * handed to a new {@link BuildletSession}. Refusals come before the upgrade, each with a JSON body
 * that says what was wrong: 400 (missing or bad header, unsupported version), 404 (unknown host
 * type), 401 (missing or wrong key, compared in constant time). Keys are never logged.
 */
public final class ConnectRoute extends AllDirectives {
  private static final Logger log = LoggerFactory.getLogger(ConnectRoute.class);
  /** Frames queued for one agent; credit bounds data, so only a stalled agent fills this. */
  private static final int OUT_QUEUE = 1024;

  private final ActorSystem<?> system;
  private final FarmConfig farm;
  private final byte[] masterKey;
  private final int minVersion;
  private final BuildletSession.Deps deps;
  private final Materializer mat;

  public ConnectRoute(ActorSystem<?> system, FarmConfig farm, byte[] masterKey, int minVersion, BuildletSession.Deps deps) {
    this.system = system;
    this.farm = farm;
    this.masterKey = masterKey.clone();
    this.minVersion = minVersion;
    this.deps = deps;
    this.mat = Materializer.matFromSystem(system);
  }

  public Route route() {
    return path(
        PathMatchers.segment("buildlet").slash("v1").slash("connect"),
        () -> get(() -> extractRequest(this::handshake)));
  }

  private Route handshake(HttpRequest req) {
    String version = header(req, Handshake.AGENT_VERSION);
    String hostType = header(req, Handshake.HOST_TYPE);
    String agentId = header(req, Handshake.AGENT_ID);
    String hostname = header(req, Handshake.HOSTNAME);
    String instance = header(req, Handshake.INSTANCE);
    String key = Handshake.bearer(header(req, Handshake.AUTHORIZATION));
    if (version == null) {
      return refuse(StatusCodes.BAD_REQUEST, "missing_header", "missing header " + Handshake.AGENT_VERSION);
    }
    int v;
    try {
      v = Integer.parseInt(version.trim());
    } catch (NumberFormatException e) {
      return refuse(StatusCodes.BAD_REQUEST, "bad_header", Handshake.AGENT_VERSION + " must be an integer, got \"" + version + "\"");
    }
    if (v < minVersion || v > Limits.VERSION) {
      return refuse(StatusCodes.BAD_REQUEST, "unsupported_version",
          "agent version " + v + " is not supported: this node speaks versions " + minVersion + " to " + Limits.VERSION);
    }
    if (hostType == null) {
      return refuse(StatusCodes.BAD_REQUEST, "missing_header", "missing header " + Handshake.HOST_TYPE);
    }
    if (!Handshake.validAgentId(agentId)) {
      return refuse(StatusCodes.BAD_REQUEST, agentId == null ? "missing_header" : "bad_header",
          agentId == null ? "missing header " + Handshake.AGENT_ID : Handshake.AGENT_ID + " must be 32 lowercase hex digits");
    }
    Optional<HostTypeSpec> spec = farm.host(hostType);
    if (spec.isEmpty()) {
      return refuse(StatusCodes.NOT_FOUND, "unknown_host_type", "unknown host type \"" + hostType + "\"");
    }
    if (key == null) {
      return refuse(StatusCodes.UNAUTHORIZED, "missing_key", "missing Authorization: Bearer <key>");
    }
    boolean ok;
    if (instance != null && !instance.isEmpty()) {
      ok = Handshake.keyMatches(Handshake.instanceKey(masterKey, instance), key);
    } else if (spec.get().pool() == PoolKind.REVERSE) {
      ok = Handshake.keyMatches(Handshake.hostKey(masterKey, hostType), key);
    } else {
      return refuse(StatusCodes.UNAUTHORIZED, "instance_required",
          "host type \"" + hostType + "\" is a " + spec.get().pool().name().toLowerCase() + " pool: its machines connect with the key of their instance");
    }
    if (!ok) {
      log.warn("Refused buildlet [{}] of [{}]: bad key", agentId, hostType);
      return refuse(StatusCodes.UNAUTHORIZED, "bad_key", "the key does not match this host type or instance");
    }
    BuildletSession.Handshaken who =
        new BuildletSession.Handshaken(agentId, hostType, hostname == null ? "" : hostname, v, instance, nodeUrl(req));
    return handleWebSocketMessages(sessionFlow(who));
  }

  private Flow<Message, Message, NotUsed> sessionFlow(BuildletSession.Handshaken who) {
    Pair<BoundedSourceQueue<Message>, Source<Message, NotUsed>> out =
        Source.<Message>queue(OUT_QUEUE).preMaterialize(mat);
    ActorRef<BuildletSession.Command> session =
        system.systemActorOf(
            BuildletSession.create(who, deps, out.first()),
            "buildlet-" + who.agentId() + "-" + UUID.randomUUID(),
            Props.empty());
    Sink<Message, NotUsed> in =
        Flow.<Message>create()
            .mapAsync(1, m -> strict(m))
            .to(
                ActorSink.actorRefWithBackpressure(
                    session,
                    BuildletSession::inFrame,
                    BuildletSession::inStarted,
                    BuildletSession.Ack.INSTANCE,
                    BuildletSession.inClosed(),
                    BuildletSession::inFailed));
    return Flow.fromSinkAndSourceCoupled(in, out.second());
  }

  /** The whole message, collected with the frame size limits of PROTOCOL.md section 2. */
  private CompletionStage<Message> strict(Message m) {
    if (m.isText()) {
      TextMessage t = m.asTextMessage();
      if (t.isStrict()) {
        return CompletableFuture.completedFuture(m);
      }
      return t.getStreamedText()
          .limitWeighted(Limits.MAX_TEXT_FRAME_BYTES, s -> (long) s.length())
          .runFold(new StringBuilder(), StringBuilder::append, mat)
          .thenApply(sb -> (Message) TextMessage.create(sb.toString()));
    }
    BinaryMessage b = m.asBinaryMessage();
    if (b.isStrict()) {
      return CompletableFuture.completedFuture(m);
    }
    return b.getStreamedData()
        .limitWeighted(Limits.MAX_PAYLOAD_BYTES + Limits.BINARY_HEADER_BYTES, bs -> (long) bs.size())
        .runFold(ByteString.emptyByteString(), ByteString::concat, mat)
        .thenApply(bs -> (Message) BinaryMessage.create(bs));
  }

  private Route refuse(org.apache.pekko.http.javadsl.model.StatusCode status, String code, String message) {
    return complete(ApiErrors.response(status, code, message));
  }

  /** The scheme and authority the agent reached this node at (the effective request URI: its Host). */
  private static String nodeUrl(HttpRequest req) {
    org.apache.pekko.http.javadsl.model.Uri uri = req.getUri();
    String scheme = uri.scheme().equals("https") || uri.scheme().equals("wss") ? "https" : "http";
    return scheme + "://" + uri.host().address() + (uri.port() > 0 ? ":" + uri.port() : "");
  }

  private static String header(HttpRequest req, String name) {
    return req.getHeader(name).map(HttpHeader::value).orElse(null);
  }

}
