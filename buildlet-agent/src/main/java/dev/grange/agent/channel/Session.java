package dev.grange.agent.channel;

import dev.grange.protocol.wire.AgentFrame;
import dev.grange.protocol.wire.DataFrame;
import dev.grange.protocol.wire.ErrorCode;
import dev.grange.protocol.wire.Frame;
import dev.grange.protocol.wire.FrameCodec;
import dev.grange.protocol.wire.Limits;
import dev.grange.protocol.wire.NodeFrame;
import dev.grange.protocol.wire.ProtocolException;
import java.io.IOException;
import java.net.URI;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connected socket to a node, from the upgrade to its close: the JDK WebSocket listener,
 * the frames of the channel itself (PROTOCOL.md section 2: ping/pong, credit, end, binary data,
 * fragment reassembly, the 1008 close on a violation, the node's {@code closing} notice) and the
 * heartbeat. Operations go to the
 * {@link FrameHandler}. Made by the {@link Connector} for each dial; dead once {@link #closed()}
 * completes, and never reused: the next dial gets a new session.
 *
 * <p>The listener is called by the JDK one message part at a time; the next part is requested
 * only after the previous one was handled, so frames are seen in wire order.
 */
public final class Session implements WebSocket.Listener, SessionLink {
  private static final Logger log = LoggerFactory.getLogger(Session.class);
  private static final long HELLO_DEADLINE_MS = 30_000;
  private static final long CLOSE_WAIT_MS = 5_000;
  private static final int MISSED_PONGS = 3;
  /** Heartbeats without any frame from the node after which it counts as gone. */
  private static final int SILENT_HEARTBEATS = 3;

  private final URI node;
  private final FrameHandler handler;
  private final ScheduledExecutorService timers;
  private final MessageAssembler assembler = new MessageAssembler();
  private final Map<Integer, InboundStream> inbound = new ConcurrentHashMap<>();
  private final Map<Integer, CreditGate> outbound = new ConcurrentHashMap<>();
  private final CompletableFuture<String> closed = new CompletableFuture<>();
  private final AtomicBoolean ended = new AtomicBoolean();
  private final AtomicInteger pingsUnanswered = new AtomicInteger();
  private volatile WebSocket ws;
  private volatile FrameWriter writer;
  private volatile boolean closing;
  private volatile boolean greeted;
  private volatile String sessionId = "";
  private volatile long lastHeardNanos = System.nanoTime();
  private volatile ScheduledFuture<?> heartbeat;
  private volatile ScheduledFuture<?> helloDeadline;
  private volatile NodeFrame.Closing announcedClose;

  public Session(URI node, FrameHandler handler, ScheduledExecutorService timers) {
    this.node = node;
    this.handler = handler;
    this.timers = timers;
  }

  /** Completes with the reason once the socket is gone. */
  public CompletableFuture<String> closed() {
    return closed;
  }

  /** True once the node said hello: the dial counts as a success for the backoff. */
  public boolean greeted() {
    return greeted;
  }

  // ---- WebSocket.Listener

  @Override
  public void onOpen(WebSocket webSocket) {
    ws = webSocket;
    writer = new FrameWriter(webSocket);
    helloDeadline =
        timers.schedule(
            () -> terminate("no hello within " + HELLO_DEADLINE_MS + " ms"),
            HELLO_DEADLINE_MS,
            TimeUnit.MILLISECONDS);
    webSocket.request(1);
  }

  @Override
  public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
    lastHeardNanos = System.nanoTime();
    try {
      if (!closing) {
        String json = assembler.text(data, last);
        if (json != null) {
          handleText(json);
        }
      }
    } catch (ProtocolException e) {
      violation(e.getMessage());
    } finally {
      webSocket.request(1);
    }
    return null;
  }

  @Override
  public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
    lastHeardNanos = System.nanoTime();
    try {
      if (!closing) {
        ByteBuffer whole = assembler.binary(data, last);
        if (whole != null) {
          DataFrame frame = DataFrame.decode(whole);
          InboundStream in = inbound.get(frame.stream());
          if (in == null) {
            throw new ProtocolException("binary frame on unknown stream " + frame.stream());
          }
          in.offer(frame);
        }
      }
    } catch (ProtocolException e) {
      violation(e.getMessage());
    } finally {
      webSocket.request(1);
    }
    return null;
  }

  @Override
  public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
    // The node's server can only close with 1000; a closing frame said what it meant.
    NodeFrame.Closing announced = announcedClose;
    int code = announced != null ? announced.code() : statusCode;
    String why = announced != null ? announced.reason() : reason;
    terminate("closed by the node: " + code + (why.isEmpty() ? "" : " " + why));
    return null;
  }

  @Override
  public void onError(WebSocket webSocket, Throwable error) {
    terminate("socket error: " + error);
  }

  // ---- SessionLink

  @Override
  public URI node() {
    return node;
  }

  @Override
  public String sessionId() {
    return sessionId;
  }

  @Override
  public CompletableFuture<Void> send(AgentFrame frame) {
    FrameWriter w = writer;
    if (w == null) {
      return CompletableFuture.failedFuture(new IOException("socket not open"));
    }
    return w.text(FrameCodec.encode(frame));
  }

  @Override
  public CompletableFuture<Void> send(DataFrame frame) {
    FrameWriter w = writer;
    if (w == null) {
      return CompletableFuture.failedFuture(new IOException("socket not open"));
    }
    return w.binary(frame.encode());
  }

  @Override
  public InboundStream openInbound(int stream) throws OpException {
    InboundStream in = new InboundStream(stream, n -> send(new Frame.Credit(stream, n)));
    if (outbound.containsKey(stream) || inbound.putIfAbsent(stream, in) != null) {
      throw OpException.badRequest("stream " + stream + " is already open in this session");
    }
    if (ended.get()) {
      in.abort("socket closed");
    }
    return in;
  }

  @Override
  public CreditGate openOutbound(int stream) throws OpException {
    CreditGate gate = new CreditGate(stream);
    if (inbound.containsKey(stream) || outbound.putIfAbsent(stream, gate) != null) {
      throw OpException.badRequest("stream " + stream + " is already open in this session");
    }
    if (ended.get()) {
      gate.close();
    }
    return gate;
  }

  @Override
  public void closeOutbound(CreditGate gate) {
    outbound.remove(gate.stream(), gate);
    gate.close();
  }

  @Override
  public boolean isOpen() {
    return !ended.get() && !closing;
  }

  @Override
  public void close(int code, String reason) {
    closing = true;
    FrameWriter w = writer;
    if (w == null) {
      terminate(reason);
      return;
    }
    w.close(code, truncate(reason));
    // The node answers our close with its own; if it does not, stop waiting.
    timers.schedule(() -> terminate("closed by the agent: " + code + " " + reason), CLOSE_WAIT_MS, TimeUnit.MILLISECONDS);
  }

  // ---- frames

  private void handleText(String json) {
    NodeFrame frame;
    try {
      frame = FrameCodec.decodeFromNode(json);
    } catch (FrameCodec.UnsupportedOpException e) {
      log.warn("Node [{}] sent unknown op [{}]; answering unsupported", node, e.op());
      send(new AgentFrame.Error(e.id(), ErrorCode.UNSUPPORTED,
          "this agent (protocol version " + Limits.VERSION + ") does not know op \"" + e.op() + "\""));
      return;
    }
    if (frame instanceof NodeFrame.Hello hello) {
      onHello(hello);
    } else if (frame instanceof Frame.Ping ping) {
      send(new Frame.Pong(ping.t()));
    } else if (frame instanceof Frame.Pong) {
      pingsUnanswered.set(0);
    } else if (frame instanceof Frame.Credit credit) {
      CreditGate gate = outbound.get(credit.stream());
      // Credit for a stream that just ended crosses its end on the wire: not an error.
      if (gate != null) {
        gate.grant(credit.bytes());
      }
    } else if (frame instanceof Frame.End end) {
      InboundStream in = inbound.remove(end.stream());
      if (in == null) {
        throw new ProtocolException("end for unknown stream " + end.stream());
      }
      in.end(end);
    } else if (frame instanceof NodeFrame.Closing notice) {
      announcedClose = notice;
      log.info("Node [{}] is closing the socket: {} {}", node, notice.code(), notice.reason());
    } else {
      try {
        handler.onRequest(this, frame);
      } catch (RuntimeException e) {
        log.error("Handling [{}] failed", frame, e);
        if (frame instanceof NodeFrame.Request r) {
          send(new AgentFrame.Error(r.id(), ErrorCode.INTERNAL, "agent bug: " + e));
        }
      }
    }
  }

  private void onHello(NodeFrame.Hello hello) {
    ScheduledFuture<?> deadline = helloDeadline;
    if (deadline != null) {
      deadline.cancel(false);
    }
    sessionId = hello.session();
    greeted = true;
    if (heartbeat == null) {
      long every = hello.heartbeatMs();
      long writeDeadline = Math.max(30_000, 3 * every);
      heartbeat = timers.scheduleAtFixedRate(() -> beat(every, writeDeadline), every, every, TimeUnit.MILLISECONDS);
    }
    handler.onHello(this, hello);
  }

  /**
   * Every {@code heartbeatMs}: leaves a node that is gone without closing (PROTOCOL.md section
   * 6): a write stuck past its deadline, three pings without a pong, or nothing at all heard for
   * three heartbeats. The connector then dials the next node; executions keep their grace.
   */
  private void beat(long everyMs, long writeDeadlineMs) {
    if (ended.get()) {
      return;
    }
    long silentMs = (System.nanoTime() - lastHeardNanos) / 1_000_000;
    if (silentMs > SILENT_HEARTBEATS * everyMs) {
      terminate("nothing from the node for " + silentMs + " ms (" + SILENT_HEARTBEATS + " heartbeats)");
      return;
    }
    long pending = writer.inFlightMillis();
    if (pending > writeDeadlineMs) {
      terminate("a write has been pending for " + pending + " ms");
      return;
    }
    if (pingsUnanswered.get() >= MISSED_PONGS) {
      terminate(MISSED_PONGS + " pings without a pong");
      return;
    }
    pingsUnanswered.incrementAndGet();
    send(new Frame.Ping(System.currentTimeMillis()));
  }

  private void violation(String reason) {
    if (closing || ended.get()) {
      return;
    }
    log.warn("Closing the socket to [{}] with 1008: {}", node, reason);
    close(Limits.CLOSE_POLICY_VIOLATION, reason);
  }

  /** Ends the session once: stops timers, aborts the socket, fails its streams, tells the handler. */
  void terminate(String reason) {
    if (!ended.compareAndSet(false, true)) {
      return;
    }
    if (heartbeat != null) {
      heartbeat.cancel(false);
    }
    if (helloDeadline != null) {
      helloDeadline.cancel(false);
    }
    if (writer != null) {
      writer.fail(new IOException("socket closed: " + reason));
    }
    if (ws != null) {
      ws.abort();
    }
    inbound.values().forEach(in -> in.abort("socket closed: " + reason));
    inbound.clear();
    outbound.values().forEach(CreditGate::close);
    outbound.clear();
    try {
      handler.onClosed(this);
    } catch (RuntimeException e) {
      log.error("Cleaning up after the socket to [{}] failed", node, e);
    }
    closed.complete(reason);
  }

  /** A close reason is at most 123 UTF-8 bytes; the JDK refuses longer ones. */
  private static String truncate(String reason) {
    byte[] b = reason.getBytes(StandardCharsets.UTF_8);
    if (b.length <= 123) {
      return reason;
    }
    String s = reason;
    while (s.getBytes(StandardCharsets.UTF_8).length > 120) {
      s = s.substring(0, s.length() - 1);
    }
    return s + "...";
  }
}
