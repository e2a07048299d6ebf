package dev.grange.node.source;

import dev.grange.node.api.ApiErrors;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RetryAfter;

/**
 * What the node serves to anyone (source archives, git over HTTP) runs on an executor of its own
 * ({@code grange.serve-dispatcher}), never on the one the mirrors fetch and push on: requests for
 * commits nobody has (each may fetch upstream and wait out its fetch interval) or many slow clones
 * then slow down serving only, not the mirrors, webhooks and builds. At most {@code maxAdmitted}
 * requests are in hand at once, running or waiting for a thread; beyond that a request is
 * answered 503 {@code busy} with a Retry-After at once, so waiting work cannot pile up without
 * bound. Thread-safe.
 */
public final class ServeLimit {
  static final long RETRY_AFTER_SECONDS = 2;

  private final Executor executor;
  private final int maxAdmitted;
  private final AtomicInteger admitted = new AtomicInteger();

  public ServeLimit(Executor executor, int maxAdmitted) {
    if (maxAdmitted < 1) {
      throw new IllegalArgumentException("grange.serve.max-admitted must be at least 1");
    }
    this.executor = executor;
    this.maxAdmitted = maxAdmitted;
  }

  /** Requests in hand now. */
  public int admitted() {
    return admitted.get();
  }

  /**
   * Runs {@code work} (blocking: it makes the whole answer) on the serving executor, or answers 503
   * busy without running it when {@code maxAdmitted} requests are in hand already.
   */
  public CompletionStage<HttpResponse> run(String what, Supplier<HttpResponse> work) {
    if (!tryAdmit()) {
      return CompletableFuture.completedFuture(busy(what));
    }
    try {
      return CompletableFuture.supplyAsync(work, executor).whenComplete((r, err) -> release());
    } catch (RuntimeException rejected) {
      release();
      throw rejected;
    }
  }

  /** The executor that admitted work runs on. */
  public Executor executor() {
    return executor;
  }

  boolean tryAdmit() {
    if (admitted.incrementAndGet() > maxAdmitted) {
      admitted.decrementAndGet();
      return false;
    }
    return true;
  }

  /** Ends one admission taken with {@link #tryAdmit}. */
  void release() {
    admitted.decrementAndGet();
  }

  HttpResponse busy(String what) {
    return ApiErrors.response(StatusCodes.SERVICE_UNAVAILABLE, "busy",
        "this node is serving " + maxAdmitted + " requests for sources and git already; try " + what + " again shortly")
        .addHeader(RetryAfter.create(RETRY_AFTER_SECONDS));
  }
}
