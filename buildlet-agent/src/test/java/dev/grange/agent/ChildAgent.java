package dev.grange.agent;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real agent process: {@code java -cp <this test's classpath> dev.grange.agent.Main ARGS},
 * as a pool or an operator starts it, with stdout and stderr kept in files under {@code dir}.
 * {@link #close()} kills it if a test left it running.
 */
final class ChildAgent implements AutoCloseable {
  private final Process process;
  private final Path stderr;

  private ChildAgent(Process process, Path stderr) {
    this.process = process;
    this.stderr = stderr;
  }

  static ChildAgent start(Path dir, List<String> args) {
    try {
      Files.createDirectories(dir);
      List<String> cmd = new ArrayList<>(List.of(
          Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-Xmx128m", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
          "-cp", System.getProperty("java.class.path"),
          "dev.grange.agent.Main"));
      cmd.addAll(args);
      Path err = dir.resolve("agent-" + System.nanoTime() + ".stderr");
      Process p = new ProcessBuilder(cmd)
          .redirectOutput(dir.resolve("agent.stdout").toFile())
          .redirectError(err.toFile())
          .start();
      return new ChildAgent(p, err);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  long pid() {
    return process.pid();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** SIGTERM, as systemd, Kubernetes or a pool sends it. */
  void terminate() {
    process.destroy();
  }

  /** Waits for the process to end and returns its exit status. */
  int awaitExit() {
    try {
      if (!process.waitFor(FakeNode.WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
        fail("the agent process did not exit within " + FakeNode.WAIT + "; its stderr:\n" + stderr());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
    return process.exitValue();
  }

  String stderr() {
    try {
      return Files.readString(stderr);
    } catch (IOException e) {
      return "(cannot read " + stderr + ": " + e + ")";
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.destroyForcibly();
      process.waitFor(FakeNode.WAIT.toMillis(), TimeUnit.MILLISECONDS);
    }
  }
}
