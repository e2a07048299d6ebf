package dev.grange.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.grange.protocol.wire.AgentFrame;
import dev.grange.protocol.wire.DataFrame;
import dev.grange.protocol.wire.Frame;
import dev.grange.protocol.wire.FrameCodec;
import dev.grange.protocol.wire.Handshake;
import dev.grange.protocol.wire.Limits;
import dev.grange.protocol.wire.NodeFrame;
import dev.grange.protocol.wire.ProtocolException;
import dev.grange.protocol.wire.StreamKind;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.HexFormat;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.http.javadsl.model.ws.BinaryMessage;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.http.javadsl.model.ws.PeerClosedConnectionException;
import org.apache.pekko.http.javadsl.model.ws.TextMessage;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * The node's end of one agent socket, for a test: sends {@link NodeFrame}s (encoded with
 * {@link FrameCodec}) and raw frames, and queues everything the agent sends, decoded, in arrival
 * order. {@code await...} methods take the first queued item that matches (leaving the others in
 * order for later awaits) and fail with what did arrive once the deadline passes or the socket
 * closes. The agent's pings are answered at once (until {@link #stopAnsweringPings()}).
 *
 * <p>Keeps the node's side of the credit rules for the streams the agent sends on (exec output,
 * resume, get_tar): it counts the credit it granted, and a byte beyond it, or a binary frame on a
 * stream it never opened, is recorded as a violation that {@link #assertNoViolations()} reports.
 */
final class NodeSocket {
  /** The socket closed; {@code code} is the agent's close code (1000 for a normal close). */
  record Closed(int code, String reason) {}

  /** An exec the test sent. */
  record ExecCall(long id, String execId, int stream) {}

  /** What one exec stream carried, in order, and the exit that followed it. */
  record Output(List<DataFrame> frames, AgentFrame.Exit exit) {
    byte[] bytes() {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      frames.forEach(f -> b.writeBytes(f.payload()));
      return b.toByteArray();
    }

    String text() {
      return new String(bytes(), StandardCharsets.UTF_8);
    }

    String text(StreamKind kind) {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      frames.stream().filter(f -> f.kind() == kind).forEach(f -> b.writeBytes(f.payload()));
      return b.toString(StandardCharsets.UTF_8);
    }
  }

  private final Map<String, String> headers;
  private final Materializer mat;
  private final LinkedBlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
  private final List<Object> held = new ArrayList<>();
  private final List<Object> history = new CopyOnWriteArrayList<>();
  private final List<String> violations = new CopyOnWriteArrayList<>();
  /** Streams the agent sends on: stream -> {granted, received}. */
  private final Map<Integer, long[]> agentStreams = new ConcurrentHashMap<>();
  private final AtomicLong nextId = new AtomicLong(1);
  private final AtomicInteger nextStream = new AtomicInteger(1);
  private volatile BoundedSourceQueue<Message> out;
  private volatile boolean answerPings = true;

  NodeSocket(Map<String, String> headers, Materializer mat) {
    this.headers = headers;
    this.mat = mat;
  }

  Flow<Message, Message, NotUsed> flow() {
    Pair<BoundedSourceQueue<Message>, Source<Message, NotUsed>> q = Source.<Message>queue(8192).preMaterialize(mat);
    out = q.first();
    Sink<Message, NotUsed> in =
        Flow.<Message>create()
            .mapAsync(1, m -> m.isText()
                ? m.asTextMessage().toStrict(10_000, mat).thenApply(t -> (Object) t.text())
                : m.asBinaryMessage().toStrict(10_000, mat).thenApply(b -> (Object) b.data()))
            .toMat(Sink.foreach(this::received), (l, r) -> r)
            .mapMaterializedValue(done -> {
              done.whenComplete(this::ended);
              return NotUsed.getInstance();
            });
    return Flow.fromSinkAndSourceCoupled(in, q.second());
  }

  String header(String name) {
    return headers.get(name);
  }

  String agentId() {
    return headers.get(Handshake.AGENT_ID);
  }

  long nextId() {
    return nextId.getAndIncrement();
  }

  int nextStream() {
    return nextStream.getAndIncrement();
  }

  // ---- sending

  void send(NodeFrame f) {
    if (f instanceof NodeFrame.Exec e) {
      openAgentStream(e.stream());
    } else if (f instanceof NodeFrame.Resume r) {
      openAgentStream(r.stream());
    } else if (f instanceof NodeFrame.GetTar g) {
      openAgentStream(g.stream());
    } else if (f instanceof Frame.Credit c) {
      countGrant(c.stream(), c.bytes());
    }
    sendText(FrameCodec.encode(f));
  }

  void sendText(String json) {
    mustOffer(TextMessage.create(json));
  }

  void sendBinary(byte[] bytes) {
    mustOffer(BinaryMessage.create(ByteString.fromArray(bytes)));
  }

  /** The node ends the socket normally (the agent sees a close with 1000). */
  void close() {
    if (out != null && !out.isCompleted()) {
      out.complete();
    }
  }

  /** Says hello with a 10 s heartbeat and a two-minute grace, and returns the agent's ready. */
  AgentFrame.Ready greet() {
    return greet(120_000);
  }

  AgentFrame.Ready greet(long graceMs) {
    return greet(graceMs, 10_000);
  }

  AgentFrame.Ready greet(long graceMs, long heartbeatMs) {
    send(new NodeFrame.Hello(UUID.randomUUID().toString(), heartbeatMs, graceMs));
    return await(AgentFrame.Ready.class, r -> true, "ready");
  }

  /** From now on the agent's pings go unanswered, as with a node that hangs. */
  void stopAnsweringPings() {
    answerPings = false;
  }

  /** Runs {@code script} with {@code sh -c} in the workdir. */
  ExecCall shell(String execId, String script) {
    return shell(execId, script, 0);
  }

  ExecCall shell(String execId, String script, long timeoutMs) {
    return exec(execId, "sh", List.of("-c", script), ".", true, timeoutMs);
  }

  ExecCall exec(String execId, String cmd, List<String> args, String dir, boolean sys, long timeoutMs) {
    return exec(new NodeFrame.Exec(nextId(), execId, cmd, args, List.of(), dir, List.of(), sys, timeoutMs, nextStream()));
  }

  /** Sends an exec built by the test (take its id and stream from {@link #nextId}, {@link #nextStream}). */
  ExecCall exec(NodeFrame.Exec e) {
    send(e);
    return new ExecCall(e.id(), e.execId(), e.stream());
  }

  /** Runs {@code script} to its end: waits for started, the whole output and the exit. */
  Output run(String execId, String script) {
    ExecCall call = shell(execId, script);
    reply(call.id(), AgentFrame.Started.class);
    return output(call.stream(), execId, 0);
  }

  /**
   * Takes the output on {@code stream} from offset {@code from} until the exit of {@code execId},
   * granting back the credit each frame used (as the node does once it stored the bytes), and
   * checks that the offsets leave no gap and no overlap.
   */
  Output output(int stream, String execId, long from) {
    List<DataFrame> frames = new ArrayList<>();
    long next = from;
    while (true) {
      Object x = awaitItem(
          o -> o instanceof DataFrame d && d.stream() == stream
              || o instanceof AgentFrame.Exit e && e.execId().equals(execId),
          FakeNode.WAIT,
          "output or exit of exec " + execId);
      if (x instanceof AgentFrame.Exit exit) {
        return new Output(frames, exit);
      }
      DataFrame d = (DataFrame) x;
      assertEquals(next, d.offset(), "output of " + execId + " has a gap or an overlap");
      next += d.payload().length;
      frames.add(d);
      if (d.payload().length > 0) {
        grantBack(stream, d.payload().length);
      }
    }
  }

  /** Resumes {@code execId} from offset {@code from} on a new stream; takes its output to the exit. */
  Output resume(String execId, long from) {
    long id = nextId();
    int stream = nextStream();
    send(new NodeFrame.Resume(id, execId, from, stream));
    return output(stream, execId, from);
  }

  /**
   * Sends {@code data} on a stream the node sends on (put_tar, write_file) within the credit the
   * agent grants, then its end with the count and SHA-256.
   */
  void upload(int stream, byte[] data) {
    upload(stream, data, new Frame.End(stream, data.length, sha256(data)));
  }

  /** As {@link #upload(int, byte[])}, ending with {@code end} (a test may make it lie). */
  void upload(int stream, byte[] data, Frame.End end) {
    long credit = Limits.INITIAL_CREDIT;
    int off = 0;
    while (off < data.length) {
      if (credit == 0) {
        credit += await(Frame.Credit.class, c -> c.stream() == stream, "credit for stream " + stream).bytes();
        continue;
      }
      int n = (int) Math.min(Math.min(Limits.MAX_PAYLOAD_BYTES, credit), data.length - off);
      sendBinary(DataFrame.encode(stream, StreamKind.DATA, off, data, off, n));
      off += n;
      credit -= n;
    }
    send(end);
  }

  /**
   * Takes a stream the agent sends (get_tar) to its end, granting credit back as it arrives,
   * and checks the end's count and SHA-256 against what arrived.
   */
  byte[] download(int stream) {
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    while (true) {
      Object x = awaitItem(
          o -> o instanceof DataFrame d && d.stream() == stream || o instanceof Frame.End e && e.stream() == stream,
          FakeNode.WAIT,
          "data or end on stream " + stream);
      if (x instanceof Frame.End end) {
        byte[] bytes = got.toByteArray();
        assertEquals(bytes.length, end.bytes(), "end's byte count");
        assertEquals(sha256(bytes), end.sha256(), "end's sha256");
        return bytes;
      }
      DataFrame d = (DataFrame) x;
      assertEquals(StreamKind.DATA, d.kind());
      assertEquals(got.size(), d.offset(), "stream " + stream + " has a gap or an overlap");
      got.writeBytes(d.payload());
      if (d.payload().length > 0) {
        grantBack(stream, d.payload().length);
      }
    }
  }

  /**
   * Grants {@code bytes} more on {@code stream}, as the node does once it stored them. A socket
   * the agent has closed meanwhile (it finished and stopped) is not an error here.
   */
  private void grantBack(int stream, long bytes) {
    countGrant(stream, bytes);
    offer(TextMessage.create(FrameCodec.encode(new Frame.Credit(stream, bytes))));
  }

  // ---- requests: each returns the request id to await the answer with

  long putTar(String dir, byte[] archive, boolean gzip) {
    long id = nextId();
    int stream = nextStream();
    send(new NodeFrame.PutTar(id, dir, stream, gzip));
    upload(stream, archive);
    return id;
  }

  long writeFile(String path, String mode, byte[] data) {
    long id = nextId();
    int stream = nextStream();
    send(new NodeFrame.WriteFile(id, path, mode, stream));
    upload(stream, data);
    return id;
  }

  long ls(String dir, boolean recursive, boolean digest, List<String> skip) {
    long id = nextId();
    send(new NodeFrame.Ls(id, dir, recursive, digest, skip));
    return id;
  }

  /** The entries of every ls_page answering {@code id}, up to its ok. */
  List<AgentFrame.LsEntry> lsEntries(long id) {
    List<AgentFrame.LsEntry> entries = new ArrayList<>();
    while (true) {
      Object x = awaitItem(o -> o instanceof AgentFrame.Answer a && a.id() == id, FakeNode.WAIT, "ls_page or ok for " + id);
      if (x instanceof AgentFrame.Ok) {
        return entries;
      }
      if (!(x instanceof AgentFrame.LsPage page)) {
        throw new AssertionError("ls " + id + " was answered with " + x);
      }
      entries.addAll(page.entries());
    }
  }

  /** Sends get_tar; returns its stream (the answer is the stream itself, then its end). */
  NodeFrame.GetTar getTar(String dir) {
    NodeFrame.GetTar g = new NodeFrame.GetTar(nextId(), dir, nextStream());
    send(g);
    return g;
  }

  long removeAll(String... paths) {
    long id = nextId();
    send(new NodeFrame.RemoveAll(id, List.of(paths)));
    return id;
  }

  long status() {
    long id = nextId();
    send(new NodeFrame.StatusRequest(id));
    return id;
  }

  // ---- awaiting

  /** The answer to request {@code id}; fails, showing it, if the answer is of another kind. */
  <T extends AgentFrame> T reply(long id, Class<T> type) {
    Object x = awaitItem(o -> o instanceof AgentFrame.Answer a && a.id() == id, FakeNode.WAIT, "an answer to request " + id);
    if (!type.isInstance(x)) {
      fail("request " + id + " was answered with " + x + ", expected " + type.getSimpleName());
    }
    return type.cast(x);
  }

  AgentFrame.Error error(long id) {
    return reply(id, AgentFrame.Error.class);
  }

  <T extends AgentFrame> T await(Class<T> type, Predicate<T> p, String what) {
    return type.cast(awaitItem(o -> type.isInstance(o) && p.test(type.cast(o)), FakeNode.WAIT, what));
  }

  DataFrame awaitData(int stream) {
    return (DataFrame) awaitItem(o -> o instanceof DataFrame d && d.stream() == stream, FakeNode.WAIT, "data on stream " + stream);
  }

  /** Waits for the socket to close and returns the agent's close code. */
  Closed awaitClose() {
    return (Closed) awaitItem(o -> o instanceof Closed, FakeNode.WAIT, "the socket to close");
  }

  /** Everything the agent sent on this socket, in arrival order. */
  List<Object> history() {
    return List.copyOf(history);
  }

  Object awaitItem(Predicate<Object> p, Duration within, String what) {
    for (Iterator<Object> it = held.iterator(); it.hasNext(); ) {
      Object x = it.next();
      if (p.test(x)) {
        it.remove();
        return x;
      }
    }
    long deadline = System.nanoTime() + within.toNanos();
    while (true) {
      Object closed = held.stream().filter(o -> o instanceof Closed).findFirst().orElse(null);
      if (closed != null) {
        fail("the socket closed (" + closed + ") while waiting for " + what + "; the agent sent " + recent());
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        fail("no " + what + " within " + within + "; the agent sent " + recent());
      }
      Object x;
      try {
        x = inbox.poll(left, TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for " + what, e);
      }
      if (x == null) {
        continue;
      }
      if (p.test(x)) {
        return x;
      }
      held.add(x);
    }
  }

  void assertNoViolations() {
    if (!violations.isEmpty()) {
      fail("the agent broke the protocol: " + violations);
    }
  }

  // ---- receiving (Pekko's thread)

  private void received(Object raw) {
    Object item;
    if (raw instanceof String json) {
      try {
        AgentFrame f = FrameCodec.decodeFromAgent(json);
        if (f instanceof Frame.Ping ping && answerPings) {
          offer(TextMessage.create(FrameCodec.encode(new Frame.Pong(ping.t()))));
        }
        item = f;
      } catch (ProtocolException e) {
        violations.add("undecodable text frame " + json + ": " + e.getMessage());
        item = json;
      }
    } else {
      try {
        DataFrame d = DataFrame.decode(((ByteString) raw).toArray());
        countReceived(d);
        item = d;
      } catch (ProtocolException e) {
        violations.add("undecodable binary frame: " + e.getMessage());
        item = raw;
      }
    }
    history.add(item);
    inbox.add(item);
  }

  private void ended(Done done, Throwable failure) {
    Closed c;
    if (failure == null) {
      c = new Closed(1000, "");
    } else if (failure instanceof PeerClosedConnectionException p) {
      c = new Closed(p.closeCode(), p.closeReason());
    } else {
      c = new Closed(-1, failure.toString());
    }
    history.add(c);
    inbox.add(c);
  }

  private void openAgentStream(int stream) {
    agentStreams.put(stream, new long[] {Limits.INITIAL_CREDIT, 0});
  }

  private void countGrant(int stream, long bytes) {
    long[] s = agentStreams.get(stream);
    if (s != null) {
      synchronized (s) {
        s[0] += bytes;
      }
    }
  }

  private void countReceived(DataFrame d) {
    long[] s = agentStreams.get(d.stream());
    if (s == null) {
      violations.add("binary frame on stream " + d.stream() + ", which the node never opened");
      return;
    }
    synchronized (s) {
      s[1] += d.payload().length;
      if (s[1] > s[0]) {
        violations.add("stream " + d.stream() + ": " + s[1] + " bytes received, only " + s[0] + " granted");
      }
    }
  }

  private boolean offer(Message m) {
    return out.offer(m).isEnqueued();
  }

  private void mustOffer(Message m) {
    if (!offer(m)) {
      fail("cannot send on a closed socket: " + m);
    }
  }

  private String recent() {
    List<Object> h = history();
    List<String> shown = new ArrayList<>();
    for (Object o : h.subList(Math.max(0, h.size() - 12), h.size())) {
      String s = String.valueOf(o);
      shown.add(s.length() > 300 ? s.substring(0, 300) + "..." : s);
    }
    return (h.size() > 12 ? "... " : "") + shown;
  }

  static String sha256(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
