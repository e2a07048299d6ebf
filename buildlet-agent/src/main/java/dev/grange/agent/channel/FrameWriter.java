package dev.grange.agent.channel;

import java.io.IOException;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one writer of a socket. The JDK WebSocket allows a single outstanding send at a time and
 * throws on a second one, so every frame (text, binary, close) goes through this queue and the
 * next send starts only when the previous one completed: frames never interleave and never race,
 * whichever thread queued them. Queue order is wire order, which is what makes "exit after all
 * output" and "end after all data" hold.
 *
 * <p>The queue itself is not bounded here; its producers are: output and archive senders stay
 * within the node's credit, answers are one per request.
 */
final class FrameWriter {
  private record Pending(Object message, CompletableFuture<Void> done) {}

  private record Close(int code, String reason) {}

  private final WebSocket ws;
  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  private final AtomicInteger wip = new AtomicInteger();
  private boolean inFlight;
  private long inFlightSince;
  private boolean closing;
  private IOException failure;

  FrameWriter(WebSocket ws) {
    this.ws = ws;
  }

  CompletableFuture<Void> text(String json) {
    return enqueue(json);
  }

  CompletableFuture<Void> binary(byte[] bytes) {
    return enqueue(ByteBuffer.wrap(bytes));
  }

  /**
   * Sends a close frame next: frames still queued are dropped (their futures fail), the one in
   * flight finishes first. Later sends fail.
   */
  CompletableFuture<Void> close(int code, String reason) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    List<Pending> dropped;
    synchronized (this) {
      if (closing || failure != null) {
        done.completeExceptionally(new IOException("socket already closing"));
        return done;
      }
      closing = true;
      dropped = new ArrayList<>(queue);
      queue.clear();
      queue.add(new Pending(new Close(code, reason), done));
    }
    IOException e = new IOException("socket closing (" + code + " " + reason + ")");
    dropped.forEach(p -> p.done().completeExceptionally(e));
    drain();
    return done;
  }

  /** The socket is gone: fails everything queued and every later send. */
  void fail(IOException cause) {
    List<Pending> dropped;
    synchronized (this) {
      if (failure == null) {
        failure = cause;
      }
      dropped = new ArrayList<>(queue);
      queue.clear();
    }
    dropped.forEach(p -> p.done().completeExceptionally(cause));
  }

  /** How long the send in flight has been waiting, 0 when none: the write deadline's input. */
  synchronized long inFlightMillis() {
    return inFlight ? TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - inFlightSince) : 0;
  }

  private CompletableFuture<Void> enqueue(Object message) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    synchronized (this) {
      if (failure != null || closing) {
        done.completeExceptionally(failure != null ? failure : new IOException("socket closing"));
        return done;
      }
      queue.add(new Pending(message, done));
    }
    drain();
    return done;
  }

  /**
   * Starts the next send when none is in flight. The work-in-progress counter turns a
   * completion that runs synchronously inside {@code send} into another turn of this loop
   * instead of a recursive call, so a long queue cannot overflow the stack.
   */
  private void drain() {
    if (wip.getAndIncrement() != 0) {
      return;
    }
    do {
      Pending next;
      synchronized (this) {
        next = inFlight || failure != null ? null : queue.poll();
        if (next != null) {
          inFlight = true;
          inFlightSince = System.nanoTime();
        }
      }
      if (next != null) {
        Pending p = next;
        CompletionStage<WebSocket> sent;
        try {
          sent = start(p.message());
        } catch (RuntimeException e) {
          sent = CompletableFuture.failedFuture(e);
        }
        sent.whenComplete((w, e) -> {
          synchronized (this) {
            inFlight = false;
          }
          if (e == null) {
            p.done().complete(null);
          } else {
            IOException io = e instanceof IOException ioe ? ioe : new IOException(e.getMessage(), e);
            p.done().completeExceptionally(io);
            fail(io);
          }
          drain();
        });
      }
    } while (wip.decrementAndGet() != 0);
  }

  private CompletionStage<WebSocket> start(Object message) {
    if (message instanceof String s) {
      return ws.sendText(s, true);
    }
    if (message instanceof ByteBuffer b) {
      return ws.sendBinary(b, true);
    }
    Close c = (Close) message;
    return ws.sendClose(c.code(), c.reason());
  }
}
