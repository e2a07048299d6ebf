package dev.grange.bench.dispatch;

import com.fasterxml.jackson.databind.JsonNode;
import dev.grange.bench.farm.FarmApi;
import dev.grange.bench.farm.Poll;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A closed-loop load driver: {@code concurrency} client threads, each submitting one build,
 * polling {@code GET /api/v1/builds/{id}} until it is over, then submitting the next, until
 * {@code count} builds are done. So at most {@code concurrency} builds are ever in flight, and
 * the offered load follows what the farm completes. Bounded in count and time: every build has
 * {@link #BUILD_DEADLINE}, the first error stops every thread.
 */
final class ClosedLoop {
  static final Duration BUILD_DEADLINE = Duration.ofMinutes(2);

  /** What one run of the loop measured. {@code wallNs}: first submit to last build seen over. */
  record Result(List<BuildTiming> builds, long wallNs, long polls) {
    long failures() {
      return builds.stream().filter(b -> !b.ok()).count();
    }

    /** Builds completed per second: count / (first 202 -> last finish, by the node's clock). */
    double buildsPerSecond() {
      double first = builds.stream().mapToDouble(BuildTiming::acceptedMs).min().orElseThrow();
      double last = builds.stream().mapToLong(BuildTiming::finishedAtMs).max().orElseThrow();
      return builds.size() / ((last - first) / 1000.0);
    }
  }

  private ClosedLoop() {}

  /**
   * @param firstPoll how long after the 202 the first look is
   * @param pollEvery how often a thread looks again
   */
  static Result run(FarmApi api, String builder, int count, int concurrency, Duration firstPoll, Duration pollEvery)
      throws Exception {
    AtomicInteger tickets = new AtomicInteger(count);
    AtomicReference<Exception> failure = new AtomicReference<>();
    ConcurrentLinkedQueue<BuildTiming> done = new ConcurrentLinkedQueue<>();
    AtomicInteger polls = new AtomicInteger();
    List<Thread> threads = new ArrayList<>();
    long t0 = System.nanoTime();
    for (int i = 0; i < concurrency; i++) {
      Thread t = new Thread(() -> {
        try {
          while (failure.get() == null && tickets.getAndDecrement() > 0) {
            done.add(one(api, builder, firstPoll, pollEvery, polls));
          }
        } catch (Exception e) {
          failure.compareAndSet(null, e);
        }
      }, "bench-client-" + i);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
    for (Thread t : threads) {
      t.join();
    }
    if (failure.get() != null) {
      throw failure.get();
    }
    return new Result(List.copyOf(done), System.nanoTime() - t0, polls.get());
  }

  private static BuildTiming one(FarmApi api, String builder, Duration firstPoll, Duration pollEvery, AtomicInteger polls)
      throws Exception {
    FarmApi.Accepted a = api.submit(builder);
    java.util.concurrent.locks.LockSupport.parkNanos(firstPoll.toNanos());
    int[] looks = {0};
    JsonNode over = Poll.until("build " + a.id() + " to finish", BUILD_DEADLINE, pollEvery, () -> {
      looks[0]++;
      JsonNode b = api.build(a.id());
      return FarmApi.isOver(b) ? b : null;
    });
    polls.addAndGet(looks[0]);
    return BuildTiming.of(over, a.acceptedEpochNanos(), looks[0]);
  }
}
