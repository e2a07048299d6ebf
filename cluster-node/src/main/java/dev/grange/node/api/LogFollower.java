package dev.grange.node.api;

import dev.grange.node.buildrun.BuildRunState;
import dev.grange.node.store.LogStore;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.pattern.Patterns;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A build's log as one byte stream from any offset, followed live: the outputs of its steps, in
 * order, of one attempt, read from the {@link LogStore}. While the build runs, a reader that has
 * caught up waits and looks again; the stream ends when the build is over and every stored
 * byte was sent. A reader that reconnects with {@code from} = bytes it already has loses and
 * repeats nothing: offsets are the agent's, and chunks stored twice or overlapping (after a
 * resume) are assembled by {@link LogStore#read} into each byte once.
 *
 * <p>A store outage (a read, or the build's state, fails) pauses the stream where it is: it tries
 * again every second and goes on from the same byte when the store answers, so the client loses
 * and repeats nothing. Only after {@code log-outage-deadline} of failures in a row does it fail,
 * which aborts the response: the client sees a truncated body, never a clean end of a partial log.
 */
final class LogFollower {
  private static final Logger log = LoggerFactory.getLogger(LogFollower.class);
  private static final int BYTES_PER_READ = 16 * dev.grange.protocol.wire.Limits.MAX_PAYLOAD_BYTES;
  private static final Duration OUTAGE_RETRY = Duration.ofSeconds(1);

  private final ActorSystem<?> system;
  private final LogStore logs;
  private final Duration pollInterval;
  private final Duration outageDeadline;

  LogFollower(ActorSystem<?> system, LogStore logs, Duration pollInterval, Duration outageDeadline) {
    this.system = system;
    this.logs = logs;
    this.pollInterval = pollInterval;
    this.outageDeadline = outageDeadline;
  }

  /**
   * Where the reader is: step and offset within it; {@code step == -1} until mapped from
   * {@code from}. {@code failingSince}: System.nanoTime() of the first failure in a row, 0 while fine.
   */
  private record Cursor(int step, long offset, long global, boolean done, long failingSince) {
    Cursor(int step, long offset, long global, boolean done) {
      this(step, offset, global, done, 0);
    }
  }

  /**
   * @param state the build as it is now (asked again whenever the reader has caught up)
   * @param attempt which attempt's log; 0 for the latest
   */
  Source<ByteString, NotUsed> follow(String buildId, int attempt, long from, Supplier<CompletionStage<BuildRunState>> state) {
    return Source.lazySource(() -> {
          // "The latest" is pinned to one attempt once it exists: after an infrastructure retry the
          // stream ends with what that attempt stored, and never goes on with another attempt's
          // bytes at the same offsets. Ask again (attempt 0) for the next one.
          java.util.concurrent.atomic.AtomicInteger pinned = new java.util.concurrent.atomic.AtomicInteger(attempt);
          return Source.unfoldAsync(
              new Cursor(-1, 0, from, false),
              cur -> cur.done() ? CompletableFuture.completedFuture(Optional.empty()) : nextOrWait(buildId, pinned, cur, state));
        })
        .mapMaterializedValue(f -> NotUsed.getInstance())
        .filter(bs -> !bs.isEmpty());
  }

  /** The attempt a follower reads: the one asked for, or the latest, pinned once it has started. */
  private static int attemptOf(java.util.concurrent.atomic.AtomicInteger pinned, BuildRunState s) {
    int a = pinned.get();
    if (a > 0) {
      return a;
    }
    // Queued again after a lost attempt: the one to wait for is the next.
    a = s.status() == BuildRunState.Status.QUEUED && s.currentAttempt() > 0 ? s.currentAttempt() + 1 : Math.max(1, s.currentAttempt());
    if (a <= s.currentAttempt()) {
      pinned.set(a);
    }
    return a;
  }

  /** {@link #next}, or (when the store fails) the same cursor again a second later, up to the deadline. */
  private CompletionStage<Optional<Pair<Cursor, ByteString>>> nextOrWait(
      String buildId, java.util.concurrent.atomic.AtomicInteger attempt, Cursor cur, Supplier<CompletionStage<BuildRunState>> state) {
    CompletionStage<Optional<Pair<Cursor, ByteString>>> step;
    try {
      step = next(buildId, attempt, cur, state);
    } catch (RuntimeException e) {
      step = CompletableFuture.failedFuture(e);
    }
    return step
        .thenApply(o -> {
          if (cur.failingSince() != 0 && o.isPresent()) {
            log.info("Log follower of build [{}] goes on at byte [{}]: the store answers again", buildId, cur.global());
            Cursor n = o.get().first();
            return Optional.of(Pair.create(
                new Cursor(n.step(), n.offset(), n.global(), n.done(), 0), o.get().second()));
          }
          return o;
        })
        .exceptionallyCompose(err -> {
          long now = System.nanoTime();
          long since = cur.failingSince() == 0 ? now : cur.failingSince();
          if (cur.failingSince() == 0) {
            log.warn("Log follower of build [{}] waits at byte [{}] for the store: {}", buildId, cur.global(), err.toString());
          }
          if (now - since >= outageDeadline.toNanos()) {
            log.warn("Log follower of build [{}] gives up at byte [{}] after [{}] s without the store",
                buildId, cur.global(), outageDeadline.toSeconds());
            return CompletableFuture.failedFuture(new IllegalStateException("the log of build " + buildId + " could not be read for "
                + outageDeadline.toSeconds() + " s (build store unavailable); stopped at byte " + cur.global(), err));
          }
          Cursor same = new Cursor(cur.step(), cur.offset(), cur.global(), cur.done(), since);
          return Patterns.after(OUTAGE_RETRY, system.classicSystem().scheduler(), system.executionContext(),
              () -> CompletableFuture.completedFuture(Optional.of(Pair.create(same, ByteString.emptyByteString()))));
        });
  }

  private CompletionStage<Optional<Pair<Cursor, ByteString>>> next(
      String buildId, java.util.concurrent.atomic.AtomicInteger pinned, Cursor cur, Supplier<CompletionStage<BuildRunState>> state) {
    return state.get().thenCompose(s -> {
      int attempt = attemptOf(pinned, s);
      if (attempt > s.currentAttempt()) {
        // Not started yet (queued, or queued again): its steps' states are another attempt's.
        return s.status() == BuildRunState.Status.DONE ? done(cur)
            : Patterns.after(pollInterval, system.classicSystem().scheduler(), system.executionContext(),
                () -> CompletableFuture.completedFuture(Optional.of(Pair.create(cur, ByteString.emptyByteString()))));
      }
      // A build still queued has no attempt yet: its first attempt is the one to wait for.
      boolean latest = attempt >= s.currentAttempt();
      List<BuildRunState.StepResult> steps = s.steps();
      Cursor c = cur;
      if (c.step() == -1) {
        c = locate(steps, c.global());
        if (c.done()) {
          return done(c);
        }
      }
      if (c.step() >= steps.size()) {
        return done(c);
      }
      Cursor at = c;
      BuildRunState.StepResult step = steps.get(at.step());
      boolean over = s.status() == BuildRunState.Status.DONE || !latest;
      return logs.read(buildId, attempt, at.step(), at.offset(), BYTES_PER_READ).thenCompose(chunks -> {
        // Contiguous from at.offset(), each byte once (LogAssembly).
        ByteString out = ByteString.emptyByteString();
        long pos = at.offset();
        for (LogStore.LogChunk ch : chunks) {
          out = out.concat(ByteString.fromArrayUnsafe(ch.data()));
          pos = ch.end();
        }
        if (!out.isEmpty()) {
          Cursor n = new Cursor(at.step(), pos, at.global() + out.size(), false);
          return CompletableFuture.completedFuture(Optional.of(Pair.create(n, out)));
        }
        boolean stepOver = latest && step.finished() && pos >= step.outputBytes();
        if (stepOver || (over && !step.state().equals("pending"))) {
          // On to the next step; a pending step after a finished build means the build stopped early.
          // A reader that asked for a byte beyond what this step wrote (it asked while the step ran)
          // still wants that byte of the whole log: carry the excess into the next step.
          int nextStep = at.step() + 1;
          boolean end = nextStep >= steps.size() || (over && steps.get(nextStep).state().equals("pending"));
          long carry = step.finished() ? Math.max(0, at.offset() - step.outputBytes()) : 0;
          return CompletableFuture.completedFuture(
              Optional.of(Pair.create(new Cursor(nextStep, carry, at.global(), end), ByteString.emptyByteString())));
        }
        if (over) {
          return done(at);
        }
        return Patterns.after(pollInterval, system.classicSystem().scheduler(), system.executionContext(),
            () -> CompletableFuture.completedFuture(Optional.of(Pair.create(at, ByteString.emptyByteString()))));
      });
    });
  }

  private static CompletionStage<Optional<Pair<Cursor, ByteString>>> done(Cursor c) {
    return CompletableFuture.completedFuture(
        Optional.of(Pair.create(new Cursor(c.step(), c.offset(), c.global(), true), ByteString.emptyByteString())));
  }

  /** Maps a whole-log offset to a step and an offset within it, using finished steps' sizes. */
  private static Cursor locate(List<BuildRunState.StepResult> steps, long global) {
    long rest = global;
    for (int i = 0; i < steps.size(); i++) {
      BuildRunState.StepResult r = steps.get(i);
      if (r.finished() && rest >= r.outputBytes() && i + 1 < steps.size() && !steps.get(i + 1).state().equals("pending")) {
        rest -= r.outputBytes();
        continue;
      }
      if (r.finished() && rest > r.outputBytes()) {
        return new Cursor(i, r.outputBytes(), global, true);
      }
      return new Cursor(i, rest, global, false);
    }
    return new Cursor(steps.size(), 0, global, true);
  }
}
