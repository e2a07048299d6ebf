package dev.grange.bench.mirrors;

import com.fasterxml.jackson.databind.JsonNode;
import dev.grange.bench.farm.FarmApi;
import dev.grange.bench.farm.Poll;
import dev.grange.bench.report.Percentiles;
import dev.grange.node.postsubmit.PostSubmitBuilds;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.IntStream;

/**
 * Upstream commit -> post-submit build queued, one commit at a time: {@code git commit} in the
 * upstream returns (the driver's wall clock, t0), then either a signed push webhook is sent at once
 * or nothing is (the mirror's next poll finds it), and the driver asks for the build ({@code GET
 * /api/v1/builds/ps-...}, its id derived from builder and commit) every {@link #LOOK_EVERY} until
 * it is there: the figure includes up to that much polling granularity. The build's own {@code
 * submittedAtMs} (the node's clock, when the mirror handed the landed commit over) splits it in
 * two: fetch and land, then queue. Before the next commit the build is left to finish, so each
 * sample starts on a quiet farm.
 */
final class Landings {
  /** How often the driver asks whether the build is there. */
  static final Duration LOOK_EVERY = Duration.ofMillis(10);
  private static final Duration FINISH_DEADLINE = Duration.ofMinutes(2);

  /** One commit: commit -> build seen queued, and commit -> handed over by the mirror (node clock), ms. */
  record Sample(String sha, double queuedMs, double landedMs) {}

  /** The samples of one path and their order statistics. */
  record Result(String path, List<Sample> samples) {
    Percentiles queued() {
      return Percentiles.of(samples.stream().map(Sample::queuedMs).toList());
    }

    Percentiles landed() {
      return Percentiles.of(samples.stream().map(Sample::landedMs).toList());
    }
  }

  private final NodeClient node;
  private final PrintStream out;

  Landings(NodeClient node, PrintStream out) {
    this.node = node;
    this.out = out;
  }

  /** {@code n} commits to {@code up}, each followed at once by the signed push webhook for {@code repo}. */
  Result byWebhook(Upstream up, String repo, String builder, byte[] payload, String secret, int n) throws Exception {
    List<Sample> samples = new ArrayList<>();
    for (int i = 1; i <= n; i++) {
      up.commit("README");
      long t0 = FarmApi.epochNanos();
      node.push(repo, payload, secret);
      String sha = up.head();
      samples.add(awaitQueued("webhook " + i + "/" + n, builder, sha, t0, Duration.ofSeconds(60)));
    }
    return new Result("webhook", samples);
  }

  /**
   * {@code n} commits to {@code up} with no webhook, each after a wait of (k + 1/2) / n of the poll
   * interval, every k from 0 to n - 1 once in a seeded shuffled order: the commits fall at evenly
   * spread points of the mirror's poll cycle (not just after the fetch that found the last one),
   * so that even a few samples average about half the interval.
   */
  Result byPolling(Upstream up, String builder, Duration poll, int n, long seed) throws Exception {
    List<Duration> waits = waits(poll, n, seed);
    List<Sample> samples = new ArrayList<>();
    for (int i = 1; i <= n; i++) {
      LockSupport.parkNanos(waits.get(i - 1).toNanos());
      up.commit("README");
      long t0 = FarmApi.epochNanos();
      String sha = up.head();
      samples.add(awaitQueued("poll " + i + "/" + n, builder, sha, t0, poll.multipliedBy(3).plusSeconds(60)));
    }
    return new Result("polling", samples);
  }

  /** The waits before each of {@code n} polled commits: (k + 1/2) / n of {@code poll} for each k, shuffled. */
  static List<Duration> waits(Duration poll, int n, long seed) {
    List<Integer> slots = new ArrayList<>(IntStream.range(0, n).boxed().toList());
    Collections.shuffle(slots, new Random(seed));
    return slots.stream().map(k -> Duration.ofNanos((long) ((k + 0.5) / n * poll.toNanos()))).toList();
  }

  private Sample awaitQueued(String what, String builder, String sha, long t0, Duration deadline) throws Exception {
    String id = PostSubmitBuilds.buildId(builder, sha);
    JsonNode build = Poll.until(what + ": post-submit build " + id + " of " + sha + " queued", deadline, LOOK_EVERY,
        () -> node.buildOrNull(id));
    long seen = FarmApi.epochNanos();
    Sample s = new Sample(sha, (seen - t0) / 1e6, build.get("submittedAtMs").asLong() - t0 / 1e6);
    out.printf("  %s: %s queued after %.0f ms (handed over by the mirror after %.0f ms)%n", what, sha.substring(0, 12),
        s.queuedMs(), s.landedMs());
    Poll.until(what + ": build " + id + " over", FINISH_DEADLINE, Duration.ofMillis(100), () -> {
      JsonNode b = node.buildOrNull(id);
      return b != null && FarmApi.isOver(b) ? b : null;
    });
    return s;
  }
}
