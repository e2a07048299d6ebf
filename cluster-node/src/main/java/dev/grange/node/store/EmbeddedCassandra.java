package dev.grange.node.store;

import dev.grange.node.ChildSession;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.RandomAccessFile;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Cassandra 5.0 server, run as a child process: the embedded default of a single node and
 * the store of the integration tests.
 *
 * <p>Lifetime: {@link #start} blocks until the CQL port accepts connections; {@link #stop} sends
 * SIGTERM (Cassandra drains and flushes), waits up to 20 s, then kills. Data stays under
 * {@code Settings.dir}, so {@link #restart} (same directory, same ports) finds it again, which is
 * what outage tests need. A JVM shutdown hook stops the child when its owner forgets to.
 *
 * <p>Cassandra runs in its own JVM because {@code cassandra-all} on the application classpath would
 * downgrade libraries Pekko needs; its classpath comes from the file the {@code cassandra-runtime}
 * module writes. Plain blocking Java: it is called from {@code Main} before the actor system
 * exists, and from tests, never from an actor.
 */
public final class EmbeddedCassandra implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(EmbeddedCassandra.class);

  /** System property that names the classpath file when {@code Settings.classpathFile} is null. */
  public static final String CLASSPATH_FILE_PROPERTY = "grange.cassandra.classpath-file";

  private static final Duration POLL_INTERVAL = Duration.ofMillis(200);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(20);
  private static final int LOG_TAIL_LINES = 40;

  /**
   * How to run the server.
   *
   * @param dir everything lives here: {@code conf/}, {@code data/}, {@code logs/}
   * @param cqlPort native transport (CQL) port on 127.0.0.1
   * @param storagePort inter-node port on 127.0.0.1 (a single node still binds it)
   * @param heap JVM heap, {@code -Xms} and {@code -Xmx}, e.g. {@code "512m"}
   * @param startTimeout how long {@link #start} waits for the CQL port
   * @param classpathFile the server's classpath file; null: {@value #CLASSPATH_FILE_PROPERTY},
   *     else {@code cassandra-runtime/target/cassandra.classpath} above the working directory
   * @param javaHome a Java 17..23 home; null: this JVM if it fits, else a 17 under /usr/lib/jvm
   */
  public record Settings(
      Path dir,
      int cqlPort,
      int storagePort,
      String heap,
      Duration startTimeout,
      Path classpathFile,
      Path javaHome) {

    private static final Pattern HEAP = Pattern.compile("[1-9][0-9]*[kKmMgG]");

    public Settings {
      Objects.requireNonNull(dir, "dir");
      Objects.requireNonNull(heap, "heap");
      Objects.requireNonNull(startTimeout, "startTimeout");
      dir = dir.toAbsolutePath().normalize();
      checkPort("cqlPort", cqlPort);
      checkPort("storagePort", storagePort);
      if (cqlPort == storagePort) {
        throw new IllegalArgumentException(
            "cqlPort and storagePort must differ, both are " + cqlPort);
      }
      if (!HEAP.matcher(heap).matches()) {
        throw new IllegalArgumentException(
            "heap must look like 512m or 1g (a JVM -Xmx size), was [" + heap + "]");
      }
      if (startTimeout.isNegative() || startTimeout.isZero()) {
        throw new IllegalArgumentException("startTimeout must be positive, was " + startTimeout);
      }
    }

    /** Cassandra's usual ports 9042 and 7000, a 512m heap, 90 s to start. */
    public static Settings defaults(Path dir) {
      return new Settings(dir, 9042, 7000, "512m", Duration.ofSeconds(90), null, null);
    }

    public Settings withPorts(int cqlPort, int storagePort) {
      return new Settings(dir, cqlPort, storagePort, heap, startTimeout, classpathFile, javaHome);
    }

    public Settings withHeap(String heap) {
      return new Settings(dir, cqlPort, storagePort, heap, startTimeout, classpathFile, javaHome);
    }

    public Settings withClasspathFile(Path classpathFile) {
      return new Settings(dir, cqlPort, storagePort, heap, startTimeout, classpathFile, javaHome);
    }

    public Settings withJavaHome(Path javaHome) {
      return new Settings(dir, cqlPort, storagePort, heap, startTimeout, classpathFile, javaHome);
    }

    private static void checkPort(String name, int port) {
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException(name + " must be in 1..65535, was " + port);
      }
    }
  }

  private final Settings settings;
  private final Path java;
  private final String classpath;
  private final Thread shutdownHook;
  // Volatile: read without the lock, which start and stop hold for seconds.
  private volatile Process process;

  private EmbeddedCassandra(Settings settings, Path java, String classpath) {
    this.settings = settings;
    this.java = java;
    this.classpath = classpath;
    this.shutdownHook = new Thread(this::stopOnJvmExit, "embedded-cassandra-shutdown");
  }

  /**
   * Writes the configuration, starts the server and returns once a TCP connect to its CQL port
   * succeeds.
   *
   * @throws IOException when a port is taken, no classpath file or suitable Java is found, the
   *     process exits during start-up (the message carries the last lines of its log), or the CQL
   *     port does not open within {@code startTimeout}
   */
  public static EmbeddedCassandra start(Settings settings) throws IOException {
    Objects.requireNonNull(settings, "settings");
    String classpath = CassandraJvm.readClasspath(CassandraJvm.locateClasspathFile(settings));
    Path java = CassandraJvm.locateJava(settings.javaHome());
    EmbeddedCassandra cassandra = new EmbeddedCassandra(settings, java, classpath);
    cassandra.launch();
    return cassandra;
  }

  public int cqlPort() {
    return settings.cqlPort();
  }

  /** Host and port for a driver's contact points, e.g. {@code 127.0.0.1:9042}. */
  public String contactPoint() {
    return "127.0.0.1:" + settings.cqlPort();
  }

  public Settings settings() {
    return settings;
  }

  public boolean isRunning() {
    Process p = process;
    return p != null && p.isAlive();
  }

  /** Process id of the current server process (the last one after a stop). */
  public long pid() {
    Process p = process;
    if (p == null) {
      throw new IllegalStateException("Cassandra was never started");
    }
    return p.pid();
  }

  /**
   * Stops the server: SIGTERM (Cassandra drains memtables and the commit log), up to 20 s, then a
   * forced kill. Data is kept. Does nothing when the server is not running.
   */
  public synchronized void stop() {
    if (process == null) {
      return;
    }
    removeShutdownHook();
    if (!process.isAlive()) {
      return;
    }
    long started = System.nanoTime();
    long pid = process.pid();
    log.info("Stopping Cassandra [{}] on [{}]", pid, contactPoint());
    process.destroy();
    boolean interrupted = false;
    try {
      if (!waitForExit(STOP_TIMEOUT)) {
        log.warn(
            "Cassandra [{}] did not stop within [{}] s after SIGTERM, killing it",
            pid,
            STOP_TIMEOUT.toSeconds());
        process.destroyForcibly();
        waitForExit(Duration.ofSeconds(10));
      }
    } catch (InterruptedException e) {
      interrupted = true;
      process.destroyForcibly();
    }
    log.info(
        "Cassandra [{}] stopped after [{}] ms", pid, (System.nanoTime() - started) / 1_000_000);
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** Stops the server if it runs, then starts it again on the same directory and ports. */
  public synchronized void restart() throws IOException {
    stop();
    launch();
  }

  /** Same as {@link #stop}. */
  @Override
  public void close() {
    stop();
  }

  @Override
  public String toString() {
    return "EmbeddedCassandra[" + contactPoint() + ", " + settings.dir() + "]";
  }

  private synchronized void launch() throws IOException {
    if (isRunning()) {
      throw new IllegalStateException("Cassandra is already running as process " + process.pid());
    }
    refuseTakenPort("CQL", "cqlPort", settings.cqlPort());
    refuseTakenPort("storage", "storagePort", settings.storagePort());

    Path conf = settings.dir().resolve("conf");
    Path logs = settings.dir().resolve("logs");
    Files.createDirectories(conf);
    Files.createDirectories(logs);
    Files.createDirectories(settings.dir().resolve("data"));
    Path yaml = conf.resolve("cassandra.yaml");
    Path logback = conf.resolve("logback.xml");
    Files.writeString(yaml, CassandraConfig.yaml(settings), StandardCharsets.UTF_8);
    Files.writeString(logback, CassandraConfig.LOGBACK_XML, StandardCharsets.UTF_8);

    Path stdout = logs.resolve("stdout.log");
    // The log is appended across restarts; failures show only what this run wrote.
    long logOffset = Files.exists(stdout) ? Files.size(stdout) : 0;

    List<String> command = new ArrayList<>();
    command.add(java.toString());
    command.add("-Xms" + settings.heap());
    command.add("-Xmx" + settings.heap());
    command.add("-Xss256k");
    command.add("-XX:+UseG1GC");
    command.add("-XX:+ExitOnOutOfMemoryError");
    command.add("-Djava.net.preferIPv4Stack=true");
    // Cassandra installs a security manager; explicit so that Java 18..23 still allow it.
    command.add("-Djava.security.manager=allow");
    command.addAll(CassandraJvm.JVM17_SERVER_OPTIONS);
    command.add("-Dcassandra.config=" + yaml.toUri());
    command.add("-Dcassandra-foreground=yes");
    command.add("-Dcassandra.storagedir=" + settings.dir().resolve("data"));
    command.add("-Dcassandra.logdir=" + logs);
    command.add("-Dlogback.configurationFile=" + logback);
    // A single node has no peers to wait for: skip the gossip settle wait (seconds per start).
    command.add("-Dcassandra.skip_wait_for_gossip_to_settle=0");
    command.add("-cp");
    command.add(classpath);
    command.add("org.apache.cassandra.service.CassandraDaemon");

    ProcessBuilder builder =
        new ProcessBuilder(ChildSession.detached(command))
            .directory(settings.dir().toFile())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(stdout.toFile()));
    long started = System.nanoTime();
    process = builder.start();
    Runtime.getRuntime().addShutdownHook(shutdownHook);
    log.info(
        "Started Cassandra [{}] on [{}] in [{}] with [{}], waiting for CQL",
        process.pid(),
        contactPoint(),
        settings.dir(),
        java);
    awaitCql(stdout, logOffset, started);
  }

  private void awaitCql(Path stdout, long logOffset, long started) throws IOException {
    long deadline = started + settings.startTimeout().toNanos();
    InetSocketAddress address =
        new InetSocketAddress(InetAddress.getLoopbackAddress(), settings.cqlPort());
    try {
      while (true) {
        if (!process.isAlive()) {
          removeShutdownHook();
          throw new IOException(
              "Cassandra exited with code "
                  + process.exitValue()
                  + " during start-up. Last lines of "
                  + stdout
                  + ":\n"
                  + tail(stdout, logOffset));
        }
        if (canConnect(address)) {
          log.info(
              "Cassandra [{}] accepts CQL on [{}] after [{}] ms",
              process.pid(),
              contactPoint(),
              (System.nanoTime() - started) / 1_000_000);
          return;
        }
        if (System.nanoTime() > deadline) {
          stop();
          throw new IOException(
              "Cassandra did not accept CQL connections on "
                  + contactPoint()
                  + " within "
                  + settings.startTimeout().toSeconds()
                  + " s (Settings.startTimeout); it was stopped. Last lines of "
                  + stdout
                  + ":\n"
                  + tail(stdout, logOffset));
        }
        Thread.sleep(POLL_INTERVAL.toMillis());
      }
    } catch (InterruptedException e) {
      stop();
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("Interrupted while waiting for Cassandra to start");
    }
  }

  private static boolean canConnect(InetSocketAddress address) {
    try (Socket socket = new Socket()) {
      socket.connect(address, (int) POLL_INTERVAL.toMillis());
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static void refuseTakenPort(String what, String setting, int port) throws IOException {
    if (!FreePorts.isFree(port)) {
      throw new IOException(
          "Cannot start Cassandra: its "
              + what
              + " port "
              + port
              + " on 127.0.0.1 is already in use (another Cassandra?). Stop that process or set"
              + " Settings."
              + setting
              + " to a free port.");
    }
  }

  private boolean waitForExit(Duration timeout) throws InterruptedException {
    return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void stopOnJvmExit() {
    Process p = process;
    if (p == null || !p.isAlive()) {
      return;
    }
    // No lock here: an exiting JVM may have stopped inside start() while it held it.
    p.destroy();
    try {
      if (!p.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
    }
  }

  /**
   * Hands the stop at JVM exit to the caller, whose own shutdown hook must call {@link #stop()}
   * once whatever uses this server has stopped: JVM shutdown hooks run concurrently, so this
   * server's own hook would stop it under a node that is still writing.
   */
  public void stopOnlyWhenAsked() {
    removeShutdownHook();
  }

  private void removeShutdownHook() {
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException e) {
      // The JVM is already exiting: the hook runs anyway and finds the process gone.
    }
  }

  /** The last lines Cassandra wrote since {@code offset}. */
  private static String tail(Path file, long offset) {
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
      long length = raf.length();
      // Enough for the last lines even with long stack-trace lines.
      long from = Math.max(offset, length - 64 * 1024);
      byte[] bytes = new byte[(int) (length - from)];
      raf.seek(from);
      raf.readFully(bytes);
      List<String> lines = new String(bytes, StandardCharsets.UTF_8).lines().toList();
      int first = Math.max(0, lines.size() - LOG_TAIL_LINES);
      return String.join("\n", lines.subList(first, lines.size()));
    } catch (IOException e) {
      return "(could not read " + file + ": " + e.getMessage() + ")";
    }
  }

}
