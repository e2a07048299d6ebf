package dev.grange.node.live;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
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

/**
 * {@code GET /ui/v1/live}: the WebSocket the pages read live updates from. The server speaks,
 * the browser listens: a {@code snapshot} first, then {@code patch} messages (see {@link
 * LiveHub}), and a {@code {"type":"ping"}} every {@code keepAlive} so a page notices a dead socket
 * and reconnects. What the browser sends is read and ignored. Anonymous and read-only, like the
 * rest of the pages.
 */
public final class LiveRoute extends AllDirectives {
  /** Patches a browser may be behind before its socket is failed (it reconnects and gets a snapshot). */
  static final int BUFFER = 512;

  private final ActorRef<LiveHub.Command> hub;
  private final Materializer mat;
  private final Duration keepAlive;
  private final AtomicLong ids = new AtomicLong();
  private final org.apache.pekko.actor.typed.Scheduler scheduler;

  public LiveRoute(ActorSystem<?> system, ActorRef<LiveHub.Command> hub, Duration keepAlive) {
    this.hub = hub;
    this.mat = Materializer.matFromSystem(system);
    this.keepAlive = keepAlive;
    this.scheduler = system.scheduler();
  }

  public Route route() {
    return concat(
        path(PathMatchers.segment("ui").slash("v1").slash("live"), () -> get(() -> handleWebSocketMessages(flow()))),
        path(PathMatchers.segment("api").slash("v1").slash("pools").slash("history"), () -> get(() -> onSuccess(
            org.apache.pekko.actor.typed.javadsl.AskPattern.<LiveHub.Command, String>ask(hub, LiveHub.GetHistory::new, Duration.ofSeconds(5), scheduler),
            json -> complete(org.apache.pekko.http.javadsl.model.HttpResponse.create().withEntity(
                org.apache.pekko.http.javadsl.model.HttpEntities.create(org.apache.pekko.http.javadsl.model.ContentTypes.APPLICATION_JSON, json)))))));
  }

  private Flow<Message, Message, NotUsed> flow() {
    long id = ids.incrementAndGet();
    Pair<BoundedSourceQueue<String>, Source<String, NotUsed>> q = Source.<String>queue(BUFFER).preMaterialize(mat);
    hub.tell(new LiveHub.Subscribe(id, q.first()));
    Source<Message, NotUsed> out = q.second()
        .merge(Source.tick(keepAlive, keepAlive, "{\"type\":\"ping\"}"))
        .<Message>map(TextMessage::create)
        .watchTermination((m, done) -> {
          done.whenComplete((d, t) -> hub.tell(new LiveHub.Unsubscribe(id)));
          return m;
        });
    Sink<Message, NotUsed> in = Flow.<Message>create()
        .mapAsync(1, m -> m.isText()
            ? m.asTextMessage().getStreamedText().runWith(Sink.ignore(), mat)
            : m.asBinaryMessage().getStreamedData().runWith(Sink.ignore(), mat))
        .to(Sink.ignore());
    return Flow.fromSinkAndSourceCoupled(in, out);
  }
}
