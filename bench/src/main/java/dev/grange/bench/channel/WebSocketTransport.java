package dev.grange.bench.channel;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ws.BinaryMessage;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.http.javadsl.model.ws.TextMessage;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * The WebSocket transport alone, no Grange code: the agent's WebSocket client (the JDK's {@code
 * java.net.http.WebSocket}, one send in flight at a time as the agent's FrameWriter does) sends
 * binary frames of 13 + 256 KiB to a Pekko HTTP WebSocket server in this JVM (the node's server
 * library and version), which collects each message whole (as the node's ConnectRoute does) and
 * counts it; TCP back-pressure is the only flow control. The server answers "done" once it has
 * every byte. This is the ceiling the real channel could reach with its libraries.
 */
final class WebSocketTransport {
  private WebSocketTransport() {}

  /** Sends {@code bytes} payload bytes; MB/s of payload. */
  static double run(ActorSystem<?> system, long bytes) throws Exception {
    Materializer mat = Materializer.matFromSystem(system);
    long frames = bytes / Payload.CHUNK;
    long wire = frames * (13 + Payload.CHUNK);
    AtomicLong received = new AtomicLong();
    CompletableFuture<Long> all = new CompletableFuture<>();
    Sink<Message, NotUsed> in = Flow.<Message>create()
        .mapAsync(1, m -> size(m, mat))
        .to(Sink.foreach(n -> {
          if (received.addAndGet(n) >= wire) {
            all.complete(received.get());
          }
        }));
    Source<Message, NotUsed> out = Source.completionStage(all)
        .map(n -> (Message) TextMessage.create("done " + n))
        .concat(Source.<Message>maybe().mapMaterializedValue(p -> NotUsed.getInstance()));
    Flow<Message, Message, NotUsed> flow = Flow.fromSinkAndSourceCoupled(in, out);
    ServerBinding binding = Http.get(system).newServerAt("127.0.0.1", 0)
        .bind(Directives.path("ws", () -> Directives.handleWebSocketMessages(flow)))
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
    try {
      CompletableFuture<String> done = new CompletableFuture<>();
      WebSocket ws = HttpClient.newHttpClient().newWebSocketBuilder()
          .buildAsync(URI.create("ws://127.0.0.1:" + binding.localAddress().getPort() + "/ws"), new WebSocket.Listener() {
            @Override
            public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
              done.complete(data.toString());
              return null;
            }
          })
          .get(30, TimeUnit.SECONDS);
      byte[] frame = new byte[13 + Payload.CHUNK];
      System.arraycopy(Payload.chunk(), 0, frame, 13, Payload.CHUNK);
      long t0 = System.nanoTime();
      for (long i = 0; i < frames; i++) {
        ws.sendBinary(ByteBuffer.wrap(frame), true).get(60, TimeUnit.SECONDS);
      }
      done.get(10, TimeUnit.MINUTES);
      long t1 = System.nanoTime();
      ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get(10, TimeUnit.SECONDS);
      return Payload.mbPerSecond(frames * Payload.CHUNK, t1 - t0);
    } finally {
      binding.unbind().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  private static CompletionStage<Integer> size(Message m, Materializer mat) {
    BinaryMessage b = m.asBinaryMessage();
    if (b.isStrict()) {
      return CompletableFuture.completedFuture(b.getStrictData().size());
    }
    return b.toStrict(60_000, mat).thenApply(s -> s.data().size());
  }
}
