package dev.grange.agent;

import dev.grange.protocol.wire.Handshake;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A real agent in this JVM, built from a command line with {@link Main#launch(String[],
 * java.util.function.IntConsumer)} exactly as {@code bin/grange agent} builds it, with its own
 * key file and workdir under {@code base}. {@link #close()} stops it and waits for the stop.
 */
final class TestAgent implements AutoCloseable {
  static final String HOST_TYPE = "linux-amd64-test";
  static final String HOSTNAME = "test-host";
  /** The key of a dedicated machine of {@link #HOST_TYPE}, as a node would derive it. */
  static final String KEY =
      Handshake.hostKey("test master key".getBytes(StandardCharsets.UTF_8), HOST_TYPE);

  final Agent agent;
  final CompletableFuture<Integer> exitStatus = new CompletableFuture<>();

  private TestAgent(String[] args) throws Exception {
    this.agent = Main.launch(args, exitStatus::complete);
    agent.start();
  }

  /** Starts an agent dialling {@code nodes} in turn; {@code extra} flags are added at the end. */
  static TestAgent start(Path base, List<String> nodes, String... extra) {
    try {
      return new TestAgent(args(base, nodes, extra).toArray(String[]::new));
    } catch (Exception e) {
      throw new IllegalStateException("the agent did not start", e);
    }
  }

  /**
   * The command line of an agent under {@code base}: its key file (written here, with the
   * whitespace an editor leaves around it), its workdir, the nodes, then {@code extra}.
   */
  static List<String> args(Path base, List<String> nodes, String... extra) {
    Path keyFile = base.resolve("agent.key");
    try {
      Files.createDirectories(base);
      Files.writeString(keyFile, "  " + KEY + "\n");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<String> args = new ArrayList<>();
    for (String n : nodes) {
      args.add("--node");
      args.add(n);
    }
    args.addAll(List.of(
        "--host-type", HOST_TYPE,
        "--key-file", keyFile.toString(),
        "--hostname", HOSTNAME,
        "--workdir", base.resolve("work").toString()));
    args.addAll(List.of(extra));
    return args;
  }

  Path workdir() {
    return agent.workdir();
  }

  @Override
  public void close() throws Exception {
    agent.stop();
    agent.stopped().get(FakeNode.WAIT.toMillis(), TimeUnit.MILLISECONDS);
  }
}
