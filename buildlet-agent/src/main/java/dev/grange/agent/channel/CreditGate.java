package dev.grange.agent.channel;

import dev.grange.protocol.wire.Limits;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The credit the node granted for one stream the agent sends on (exec output, get_tar): the
 * agent never has more bytes in flight than this (PROTOCOL.md section 2). Starts at {@link
 * Limits#INITIAL_CREDIT}; the node's {@code credit} frames add to it; each sent payload takes
 * from it. Closed when the stream is done or its socket is gone, which wakes every waiter.
 *
 * <p>Thread-safe: the socket's listener grants, a sender thread takes.
 */
public final class CreditGate {
  private final int stream;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private long available = Limits.INITIAL_CREDIT;
  private boolean closed;
  private volatile Runnable onChange = () -> {};

  public CreditGate(int stream) {
    this.stream = stream;
  }

  public int stream() {
    return stream;
  }

  /**
   * Runs {@code r} after every grant and on close; a sender that waits on its own monitor (an
   * exec's output pump waits for output, credit or its end at once) uses this to wake up.
   */
  public void onChange(Runnable r) {
    onChange = r;
  }

  /** Adds credit from a {@code credit} frame. */
  public void grant(long bytes) {
    lock.lock();
    try {
      // Saturate rather than overflow: a peer granting Long.MAX_VALUE means "unlimited".
      available = available + bytes < 0 ? Long.MAX_VALUE : available + bytes;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    onChange.run();
  }

  /** The credit left now. */
  public long available() {
    lock.lock();
    try {
      return available;
    } finally {
      lock.unlock();
    }
  }

  /** Takes up to {@code max} bytes of credit without waiting; 0 when there is none. */
  public long tryTake(long max) {
    lock.lock();
    try {
      long n = Math.min(max, available);
      available -= n;
      return n;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Waits until some credit is there and takes up to {@code max} of it.
   *
   * @throws IOException when the gate is closed (the socket is gone) before any credit came
   */
  public long take(long max, long timeoutMs) throws IOException, InterruptedException {
    lock.lock();
    try {
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
      while (available == 0 && !closed) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new IOException("no credit for stream " + stream + " within " + timeoutMs + " ms");
        }
        changed.awaitNanos(left);
      }
      if (closed) {
        throw new IOException("stream " + stream + " closed");
      }
      long n = Math.min(max, available);
      available -= n;
      return n;
    } finally {
      lock.unlock();
    }
  }

  public boolean isClosed() {
    lock.lock();
    try {
      return closed;
    } finally {
      lock.unlock();
    }
  }

  public void close() {
    lock.lock();
    try {
      closed = true;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    onChange.run();
  }
}
