package dev.grange.node.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.grange.node.buildrun.BuildRunState;
import dev.grange.webui.failure.Failure;
import dev.grange.webui.failure.FailureExtractor;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.util.ByteString;

/**
 * {@code GET /api/v1/builds/{id}/failure}: what failed in a failed build, found in its log by
 * {@link FailureExtractor} (Go's test and build verdicts, or the last lines before the end): per
 * failure a title, section, package, test, mode, a snippet, and the log lines of the snippet and
 * of the whole failure as 1-based {@code [from, to]} ranges, numbered as in the log the build page
 * shows (the latest attempt's, all steps in order). A build that is still queued or running is a
 * 409; one that passed, was cancelled or ended in an infrastructure error has no failures (its
 * {@code reason} says why it ended). A log longer than {@link #MAX_BYTES} is read to its end and
 * parsed from its last {@code MAX_BYTES} (line numbers stay those of the whole log; {@code
 * "whole": false} says so).
 */
final class FailureRoute {
  static final int MAX_BYTES = 32 * 1024 * 1024;

  private final ActorSystem<?> system;
  private final LogFollower logs;
  private final Function<String, CompletionStage<StatusReply<BuildRunState>>> builds;

  FailureRoute(ActorSystem<?> system, LogFollower logs, Function<String, CompletionStage<StatusReply<BuildRunState>>> builds) {
    this.system = system;
    this.logs = logs;
    this.builds = builds;
  }

  CompletionStage<HttpResponse> failure(String id) {
    return builds.apply(id).thenCompose(r -> {
      if (r.isError()) {
        return done(ApiErrors.response(StatusCodes.NOT_FOUND, "unknown_build", r.getError().getMessage()));
      }
      BuildRunState s = r.getValue();
      String state = BuildJson.state(s);
      if (s.status() != BuildRunState.Status.DONE) {
        return done(ApiErrors.response(StatusCodes.CONFLICT, "not_finished",
            "build " + id + " is " + state + ": what failed is known when it is over"));
      }
      ObjectNode o = ApiErrors.JSON.createObjectNode();
      o.put("id", id);
      o.put("state", state);
      if (s.reason() != null) {
        o.put("reason", s.reason());
      }
      if (!"failed".equals(state)) {
        o.put("whole", true);
        o.putArray("failures");
        return done(ApiRoutes.json(StatusCodes.OK, o));
      }
      return logs.follow(id, 0, 0, () -> builds.apply(id).thenApply(StatusReply::getValue))
          .runFold(new Tail(MAX_BYTES), Tail::add, system)
          .thenApply(tail -> {
            o.put("whole", tail.whole());
            ArrayNode a = o.putArray("failures");
            for (Failure f : FailureExtractor.extract(tail.text())) {
              a.add(json(f, tail.linesBefore()));
            }
            return ApiRoutes.json(StatusCodes.OK, o);
          });
    });
  }

  private static ObjectNode json(Failure f, int linesBefore) {
    ObjectNode n = ApiErrors.JSON.createObjectNode();
    n.put("title", f.title());
    n.put("section", f.section());
    n.put("pkg", f.pkg());
    n.put("test", f.test());
    n.put("mode", f.mode());
    n.put("snippet", f.snippet());
    ranges(n.putArray("snippetLines"), f.snippetLines(), linesBefore);
    ranges(n.putArray("lines"), f.outputLines(), linesBefore);
    return n;
  }

  private static void ranges(ArrayNode into, List<Integer> lines, int shift) {
    for (int[] r : Failure.ranges(lines)) {
      into.addArray().add(r[0] + shift).add(r[1] + shift);
    }
  }

  private static CompletionStage<HttpResponse> done(HttpResponse r) {
    return CompletableFuture.completedFuture(r);
  }

  /**
   * The last {@code max} bytes of a stream, starting at a line: whole chunks are dropped from
   * the front as more arrive, and the lines they held are counted so numbers stay the log's.
   */
  static final class Tail {
    private final int max;
    private final ArrayDeque<ByteString> chunks = new ArrayDeque<>();
    private long bytes;
    private int droppedLines;
    private boolean dropped;

    Tail(int max) {
      this.max = max;
    }

    Tail add(ByteString chunk) {
      chunks.addLast(chunk);
      bytes += chunk.size();
      while (bytes - chunks.peekFirst().size() >= max) {
        ByteString first = chunks.removeFirst();
        bytes -= first.size();
        droppedLines += newlines(first);
        dropped = true;
      }
      return this;
    }

    boolean whole() {
      return !dropped;
    }

    /** Lines of the log before {@link #text()}'s first line. */
    int linesBefore() {
      return dropped ? droppedLines + 1 : 0;
    }

    /** The kept bytes as text; after a drop, from the first whole line. */
    String text() {
      ByteString all = ByteString.emptyByteString();
      for (ByteString c : chunks) {
        all = all.concat(c);
      }
      if (dropped) {
        int nl = all.indexOf((byte) '\n');
        all = nl < 0 ? ByteString.emptyByteString() : all.drop(nl + 1);
      }
      return all.decodeString(StandardCharsets.UTF_8);
    }

    private static int newlines(ByteString b) {
      int n = 0;
      for (int i = 0; i < b.size(); i++) {
        if (b.apply(i) == '\n') {
          n++;
        }
      }
      return n;
    }
  }
}
