package dev.grange.agent;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Per test: a {@link FakeNode}, a {@link TestAgent} connected to it and the greeted socket
 * between them, and on request {@link Surroundings} and {@link TreeWitness}es. After the test
 * the agent is stopped, the node is checked for protocol
 * violations (credit, framing) and closed, and the directory is deleted.
 *
 * <pre>{@code @RegisterExtension final AgentFixture f = new AgentFixture("--max-archive-entries", "50");}</pre>
 */
final class AgentFixture implements BeforeEachCallback, AfterEachCallback {
  private final String[] extraArgs;
  private Path base;
  private FakeNode node;
  private TestAgent agent;
  private NodeSocket socket;
  private Surroundings surroundings;
  private final List<TreeWitness> witnesses = new ArrayList<>();

  AgentFixture(String... extraArgs) {
    this.extraArgs = extraArgs;
  }

  @Override
  public void beforeEach(ExtensionContext context) throws IOException {
    base = Files.createTempDirectory("agent-test-");
    node = FakeNode.start(TestAgent.HOST_TYPE, TestAgent.KEY);
    agent = TestAgent.start(base.resolve("agent"), List.of(node.url()), extraArgs);
    socket = node.awaitSocket();
    socket.greet();
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    witnesses.forEach(TreeWitness::close);
    try {
      if (agent != null) {
        agent.close();
      }
      if (node != null) {
        node.assertNoViolations();
      }
    } finally {
      if (node != null) {
        node.close();
      }
      deleteTree(base);
    }
  }

  FakeNode node() {
    return node;
  }

  TestAgent agent() {
    return agent;
  }

  /** The greeted socket of this test's agent. */
  NodeSocket socket() {
    return socket;
  }

  /** After a reconnect: the socket the test now talks on. */
  void use(NodeSocket s) {
    socket = s;
  }

  Path workdir() {
    return agent.workdir();
  }

  /** A fresh {@link TreeWitness}, closed after the test. */
  TreeWitness witness() {
    TreeWitness w = TreeWitness.create(base);
    witnesses.add(w);
    return w;
  }

  /** The workdir's {@link Surroundings}, laid out on first use. */
  Surroundings surroundings() throws IOException {
    if (surroundings == null) {
      surroundings = Surroundings.of(this);
    }
    return surroundings;
  }

  /** A directory of this test outside the agent's workdir. */
  Path base() {
    return base;
  }

  /**
   * Deletes a tree, read-only directories included (a test may leave some). Entries that vanish
   * meanwhile are fine: an agent that was stopped mid put_tar may still be discarding its staging
   * directory.
   */
  static void deleteTree(Path root) throws IOException {
    if (root == null || !Files.exists(root)) {
      return;
    }
    Files.walkFileTree(root, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
        dir.toFile().setWritable(true);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
        file.toFile().delete();
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
        if (e instanceof NoSuchFileException) {
          return FileVisitResult.CONTINUE;
        }
        throw e;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path dir, IOException e) {
        dir.toFile().delete();
        return FileVisitResult.CONTINUE;
      }
    });
  }
}
