package dev.grange.node.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ServeLimitTest {
  private final ExecutorService pool = Executors.newFixedThreadPool(2);

  @AfterEach
  void stop() {
    pool.shutdownNow();
  }

  @Test
  void beyondItsAdmittedRequestsItAnswersBusyAtOnceWithoutRunningTheWorkAndAdmitsAgainOnceOneEnds() throws Exception {
    ServeLimit limit = new ServeLimit(pool, 3);
    CountDownLatch hold = new CountDownLatch(1);
    AtomicInteger ran = new AtomicInteger();
    List<CompletableFuture<HttpResponse>> held = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      // Two run, one waits for a thread: all three are in hand.
      held.add(limit.run("x", () -> {
        ran.incrementAndGet();
        try {
          hold.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return HttpResponse.create();
      }).toCompletableFuture());
    }
    assertEquals(3, limit.admitted());
    HttpResponse busy = limit.run("the archive of r", () -> {
      ran.incrementAndGet();
      return HttpResponse.create();
    }).toCompletableFuture().get(5, TimeUnit.SECONDS);
    assertEquals(StatusCodes.SERVICE_UNAVAILABLE, busy.status());
    assertTrue(busy.getHeader("Retry-After").isPresent(), "says when to try again");
    hold.countDown();
    for (CompletableFuture<HttpResponse> f : held) {
      assertEquals(StatusCodes.OK, f.get(5, TimeUnit.SECONDS).status());
    }
    assertEquals(3, ran.get(), "the refused one never ran");
    assertEquals(StatusCodes.OK, limit.run("x", HttpResponse::create).toCompletableFuture().get(5, TimeUnit.SECONDS).status());
    assertEquals(0, limit.admitted(), "every admission was given back");
  }

  @Test
  void workThatThrowsGivesItsAdmissionBack() throws Exception {
    ServeLimit limit = new ServeLimit(pool, 1);
    CompletableFuture<HttpResponse> failed = limit.run("x", () -> {
      throw new IllegalStateException("boom");
    }).toCompletableFuture();
    assertThrows(java.util.concurrent.ExecutionException.class, () -> failed.get(5, TimeUnit.SECONDS));
    assertEquals(0, limit.admitted());
    assertThrows(IllegalArgumentException.class, () -> new ServeLimit(pool, 0));
  }
}
