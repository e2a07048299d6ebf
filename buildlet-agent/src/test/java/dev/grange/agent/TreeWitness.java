package dev.grange.agent;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

/**
 * Tells when every process of a command's tree has exited, without polling. The command opens
 * the write end of a FIFO as fd 3 ({@link #prefix()}), which each child and grandchild inherits;
 * this side reads the FIFO, and end-of-file comes only once no process holds fd 3 any more. An
 * exited process closes its files at once, even while it stays a zombie (this machine's init
 * does not reap orphans), so EOF means "the whole tree is gone or going".
 */
final class TreeWitness implements AutoCloseable {
  private final Path fifo;
  private final CompletableFuture<Void> eof;

  private TreeWitness(Path fifo) {
    this.fifo = fifo;
    this.eof = CompletableFuture.runAsync(this::readToEnd, runnable -> {
      Thread t = new Thread(runnable, "tree-witness");
      t.setDaemon(true);
      t.start();
    });
  }

  static TreeWitness create(Path dir) {
    Path fifo = dir.resolve("tree-" + System.nanoTime() + ".fifo");
    try {
      Files.createDirectories(dir);
      Process p = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
      if (p.waitFor() != 0) {
        throw new IllegalStateException("mkfifo " + fifo + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    return new TreeWitness(fifo);
  }

  /** Shell text to put first in the command: every process started after it holds fd 3. */
  String prefix() {
    return "exec 3>'" + fifo + "'; ";
  }

  boolean allExited() {
    return eof.isDone();
  }

  /** Waits until every process of the tree has exited. */
  void awaitAllExited() {
    try {
      eof.get(FakeNode.WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      fail("a process of the command's tree was still running after " + FakeNode.WAIT);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Waits as {@link #awaitAllExited()}, then for each of {@code pids} to be gone or a zombie. A
   * dying process closes its files a moment before the kernel marks it a zombie, so /proc may
   * still show it running just after the end-of-file; that moment is waited out, with a deadline.
   */
  void awaitAllExited(List<Long> pids) {
    awaitAllExited();
    long deadline = System.nanoTime() + FakeNode.WAIT.toNanos();
    for (long pid : pids) {
      while (running(pid)) {
        if (System.nanoTime() > deadline) {
          fail("process " + pid + " of the tree still runs " + FakeNode.WAIT + " after its tree closed fd 3");
        }
        LockSupport.parkNanos(1_000_000);
      }
    }
  }

  /** True while {@code pid} exists and is not a zombie. */
  static boolean running(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      // "pid (comm) S ...": the state follows the last ')'.
      char state = stat.substring(stat.lastIndexOf(')') + 2).charAt(0);
      return state != 'Z' && state != 'X';
    } catch (IOException e) {
      return false;
    }
  }

  private void readToEnd() {
    try (InputStream in = new FileInputStream(fifo.toFile())) {
      byte[] buf = new byte[256];
      while (in.read(buf) >= 0) {
        // The command writes nothing to fd 3; only the end matters.
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Unblocks the reader if no command ever opened the FIFO (a test that failed early). The
   * unblocking open runs on its own daemon thread: it would wait if the reader had just gone.
   */
  @Override
  public void close() {
    if (eof.isDone()) {
      return;
    }
    Thread t = new Thread(() -> {
      try (FileOutputStream unblock = new FileOutputStream(fifo.toFile())) {
        unblock.flush();
      } catch (IOException ignored) {
        // The reader is gone already.
      }
    }, "tree-witness-close");
    t.setDaemon(true);
    t.start();
  }
}
