package dev.grange.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.function.IntConsumer;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's entry point ({@code bin/grange agent ...}): parses the command line ({@link
 * AgentOptions}), reads the key, lays out the directories, starts an {@link Agent} and waits for
 * it. A bad command line prints the usage on stderr and exits with status 2. SIGTERM drains:
 * the node is told, running commands get {@code --grace-ms} to finish, then the agent exits
 * (status 143, as for any JVM ended by SIGTERM). A halt from the node exits with status 0.
 */
public final class Main {
  private static final Logger log = LoggerFactory.getLogger(Main.class);
  private static final Pattern HEX = Pattern.compile("[0-9a-fA-F]+");

  private Main() {}

  public static void main(String[] args) {
    Agent agent;
    AgentOptions options;
    try {
      options = AgentOptions.parse(args);
      // The agent's exit action must not be System.exit: after SIGTERM the agent stops inside
      // a shutdown hook, and System.exit there blocks for ever (the JVM waits for the hook).
      // The main thread exits instead, once the agent has stopped; during a SIGTERM shutdown
      // that call simply waits for the hook, and the JVM ends with the signal's status, 143.
      agent = launch(options, status -> {});
    } catch (AgentOptions.UsageException e) {
      System.err.println("grange agent: " + e.getMessage());
      System.err.println(AgentOptions.USAGE);
      System.exit(2);
      return;
    } catch (IOException e) {
      System.err.println("grange agent: cannot start: " + e);
      System.exit(1);
      return;
    }
    long grace = options.graceMs();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> agent.drain(grace), "grange-drain"));
    agent.start();
    int status = agent.stopped().join();
    System.exit(status);
  }

  /**
   * Builds an agent from a command line without starting it: for {@link #main} and for tests,
   * which run several agents in one JVM and pass their own {@code exit}.
   */
  public static Agent launch(String[] args, IntConsumer exit) throws AgentOptions.UsageException, IOException {
    return launch(AgentOptions.parse(args), exit);
  }

  static Agent launch(AgentOptions options, IntConsumer exit) throws AgentOptions.UsageException, IOException {
    String key = readKey(options.keyFile());
    Agent.Dirs dirs = layout(options);
    return new Agent(options, key, dirs, exit);
  }

  /** The key: the file's content without surrounding whitespace, which must be hex. */
  static String readKey(Path file) throws AgentOptions.UsageException {
    String key;
    try {
      key = Files.readString(file).strip();
    } catch (NoSuchFileException e) {
      throw new AgentOptions.UsageException("--key-file " + file + " does not exist");
    } catch (IOException e) {
      throw new AgentOptions.UsageException("--key-file " + file + " cannot be read: " + e.getMessage());
    }
    if (key.isEmpty()) {
      throw new AgentOptions.UsageException("--key-file " + file + " is empty");
    }
    if (!HEX.matcher(key).matches()) {
      throw new AgentOptions.UsageException("--key-file " + file + " does not hold a hex key");
    }
    return key;
  }

  /**
   * Where the agent works. With no --workdir: a new temporary directory holding workdir/,
   * staging/ and spool/. With one: the staging area and (by default) the spool are its siblings
   * named {@code <workdir>.staging} and {@code <workdir>.spool}. Neither may be inside the
   * workdir: a build may empty the workdir at any time.
   */
  static Agent.Dirs layout(AgentOptions o) throws AgentOptions.UsageException, IOException {
    Path workdir;
    Path staging;
    Path spool;
    if (o.workdir() == null) {
      Path base = Files.createTempDirectory("grange-agent-");
      workdir = base.resolve("workdir");
      staging = base.resolve("staging");
      spool = o.spoolDir() != null ? o.spoolDir() : base.resolve("spool");
    } else {
      workdir = o.workdir().toAbsolutePath().normalize();
      if (workdir.getParent() == null) {
        throw new AgentOptions.UsageException("--workdir " + workdir + " cannot be a filesystem root");
      }
      String name = workdir.getFileName().toString();
      staging = workdir.resolveSibling(name + ".staging");
      spool = o.spoolDir() != null ? o.spoolDir() : workdir.resolveSibling(name + ".spool");
    }
    Files.createDirectories(workdir);
    Files.createDirectories(spool);
    Path realWork = workdir.toRealPath();
    Path realSpool = spool.toRealPath();
    if (realSpool.startsWith(realWork) || realWork.startsWith(realSpool)) {
      throw new AgentOptions.UsageException(
          "--spool-dir " + spool + " must be outside the workdir " + realWork);
    }
    log.debug("Workdir [{}], staging [{}], spool [{}]", realWork, staging, realSpool);
    return new Agent.Dirs(realWork, staging, realSpool);
  }
}
