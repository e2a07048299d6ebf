package dev.grange.node.store;

import dev.grange.node.ChildSession;
import java.io.File;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
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

  /** Where the {@code cassandra-runtime} module writes the server's classpath, from the root. */
  private static final Path CLASSPATH_FILE_IN_REPO =
      Path.of("cassandra-runtime", "target", "cassandra.classpath");

  /** Oldest and newest Java that Cassandra 5.0 starts on (24 removed the security manager). */
  private static final int MIN_JAVA = 17;

  private static final int MAX_JAVA = 23;

  private static final Path JVM_DIR = Path.of("/usr/lib/jvm");
  private static final Duration POLL_INTERVAL = Duration.ofMillis(200);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(20);
  private static final int LOG_TAIL_LINES = 40;

  /**
   * JDK 17 module flags from Cassandra 5.0's {@code conf/jvm17-server.options} (JPMS section and
   * Netty options). Without them start-up dies in {@code FileUtils}.
   */
  private static final List<String> JVM17_SERVER_OPTIONS =
      List.of(
          "-Djdk.attach.allowAttachSelf=true",
          "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
          "--add-exports", "java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED",
          "--add-exports", "java.rmi/sun.rmi.registry=ALL-UNNAMED",
          "--add-exports", "java.rmi/sun.rmi.server=ALL-UNNAMED",
          "--add-exports", "java.sql/java.sql=ALL-UNNAMED",
          "--add-exports", "java.base/java.lang.ref=ALL-UNNAMED",
          "--add-exports", "jdk.unsupported/sun.misc=ALL-UNNAMED",
          "--add-exports", "jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
          "--add-exports", "jdk.attach/sun.tools.attach=ALL-UNNAMED",
          "--add-opens", "java.base/java.lang.module=ALL-UNNAMED",
          "--add-opens", "java.base/jdk.internal.loader=ALL-UNNAMED",
          "--add-opens", "java.base/jdk.internal.ref=ALL-UNNAMED",
          "--add-opens", "java.base/jdk.internal.reflect=ALL-UNNAMED",
          "--add-opens", "java.base/jdk.internal.math=ALL-UNNAMED",
          "--add-opens", "java.base/jdk.internal.module=ALL-UNNAMED",
          "--add-opens", "java.base/jdk.internal.util.jar=ALL-UNNAMED",
          "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED",
          "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
          "--add-opens", "java.base/java.io=ALL-UNNAMED",
          "--add-opens", "java.base/java.lang.reflect=ALL-UNNAMED",
          "--add-opens", "jdk.compiler/com.sun.tools.javac=ALL-UNNAMED",
          "--add-opens", "java.base/java.lang=ALL-UNNAMED",
          "--add-opens", "java.base/java.util=ALL-UNNAMED",
          "-Dio.netty.tryReflectionSetAccessible=true",
          "-Dio.netty.allocator.useCacheForAllThreads=true",
          "-Dio.netty.allocator.maxOrder=11");

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
    String classpath = readClasspath(locateClasspathFile(settings));
    Path java = locateJava(settings.javaHome());
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
    Files.writeString(yaml, CassandraYaml.render(settings), StandardCharsets.UTF_8);
    Files.writeString(logback, LOGBACK_XML, StandardCharsets.UTF_8);

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
    command.addAll(JVM17_SERVER_OPTIONS);
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

  // ---- classpath -------------------------------------------------------------------------

  private static Path locateClasspathFile(Settings settings) throws IOException {
    if (settings.classpathFile() != null) {
      return requireClasspathFile(settings.classpathFile(), "Settings.classpathFile");
    }
    String property = System.getProperty(CLASSPATH_FILE_PROPERTY);
    if (property != null && !property.isBlank()) {
      return requireClasspathFile(Path.of(property), "system property " + CLASSPATH_FILE_PROPERTY);
    }
    Path cwd = Path.of("").toAbsolutePath();
    for (Path dir = cwd; dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve(CLASSPATH_FILE_IN_REPO);
      if (Files.isRegularFile(candidate)) {
        return candidate;
      }
    }
    throw new IOException(
        "Cannot start Cassandra: no "
            + CLASSPATH_FILE_IN_REPO
            + " found in "
            + cwd
            + " or any directory above it. Run `mvn -B -DskipTests install` in the repository"
            + " root to build it, or point system property "
            + CLASSPATH_FILE_PROPERTY
            + " at the file.");
  }

  private static Path requireClasspathFile(Path file, String source) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IOException(
          "Cannot start Cassandra: the classpath file "
              + file.toAbsolutePath()
              + " (from "
              + source
              + ") does not exist. Run `mvn -B -DskipTests install` in the repository root:"
              + " the cassandra-runtime module writes it to "
              + CLASSPATH_FILE_IN_REPO
              + ".");
    }
    return file;
  }

  private static String readClasspath(Path file) throws IOException {
    String classpath = Files.readString(file, StandardCharsets.UTF_8).strip();
    Optional<String> server =
        Stream.of(classpath.split(File.pathSeparator))
            .filter(entry -> entry.contains("cassandra-all"))
            .findFirst();
    if (server.isEmpty()) {
      throw new IOException(
          "Cannot start Cassandra: the classpath file "
              + file
              + " does not name cassandra-all. Rebuild it with `mvn -B -DskipTests install`.");
    }
    if (!Files.isRegularFile(Path.of(server.get()))) {
      throw new IOException(
          "Cannot start Cassandra: "
              + server.get()
              + " (named in "
              + file
              + ") is missing. Run `mvn -B -DskipTests install` to download it again.");
    }
    return classpath;
  }

  // ---- Java ------------------------------------------------------------------------------

  private static Path locateJava(Path javaHome) throws IOException {
    if (javaHome != null) {
      int version = javaVersion(javaHome);
      if (version < MIN_JAVA || version > MAX_JAVA) {
        throw new IOException(
            "Cannot start Cassandra with Settings.javaHome "
                + javaHome
                + ": it is Java "
                + (version < 0 ? "of unknown version" : version)
                + ", Cassandra 5.0 needs Java "
                + MIN_JAVA
                + ".."
                + MAX_JAVA
                + ".");
      }
      return javaBinary(javaHome);
    }
    int current = Runtime.version().feature();
    Path currentHome = Path.of(System.getProperty("java.home"));
    if (current >= MIN_JAVA && current <= MAX_JAVA && Files.isExecutable(javaBinary(currentHome))) {
      return javaBinary(currentHome);
    }
    Optional<Path> installed = installedJava();
    if (installed.isPresent()) {
      return javaBinary(installed.get());
    }
    throw new IOException(
        "Cannot start Cassandra: it needs Java "
            + MIN_JAVA
            + ".."
            + MAX_JAVA
            + " (5.0 does not start on 24+), but this JVM is Java "
            + current
            + " ("
            + currentHome
            + ") and "
            + JVM_DIR
            + " holds no Java "
            + MIN_JAVA
            + ". Install a JDK 17 (e.g. apt-get install openjdk-17-jdk-headless) or set"
            + " Settings.javaHome.");
  }

  /** A Java 17 under /usr/lib/jvm, else the oldest one in range. */
  private static Optional<Path> installedJava() {
    if (!Files.isDirectory(JVM_DIR)) {
      return Optional.empty();
    }
    record Installed(Path home, int version) {}
    try (Stream<Path> homes = Files.list(JVM_DIR)) {
      return homes
          .filter(home -> !Files.isSymbolicLink(home) && Files.isExecutable(javaBinary(home)))
          .map(home -> new Installed(home, javaVersion(home)))
          .filter(i -> i.version() >= MIN_JAVA && i.version() <= MAX_JAVA)
          .min(
              Comparator.comparingInt(Installed::version)
                  .thenComparing(i -> i.home().toString()))
          .map(Installed::home);
    } catch (IOException e) {
      throw new UncheckedIOException("Could not list " + JVM_DIR, e);
    }
  }

  private static Path javaBinary(Path home) {
    return home.resolve("bin").resolve("java");
  }

  private static final Pattern RELEASE_VERSION =
      Pattern.compile("^JAVA_VERSION=\"(?:1\\.)?(\\d+)", Pattern.MULTILINE);
  private static final Pattern VERSION_OUTPUT = Pattern.compile("version \"(?:1\\.)?(\\d+)");

  /** The feature version (17, 21...) of a Java home, or -1 when it cannot be told. */
  static int javaVersion(Path home) {
    Path release = home.resolve("release");
    try {
      if (Files.isRegularFile(release)) {
        Matcher m = RELEASE_VERSION.matcher(Files.readString(release, StandardCharsets.UTF_8));
        if (m.find()) {
          return Integer.parseInt(m.group(1));
        }
      }
      if (!Files.isExecutable(javaBinary(home))) {
        return -1;
      }
      Process p =
          new ProcessBuilder(javaBinary(home).toString(), "-version")
              .redirectErrorStream(true)
              .start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      p.waitFor(10, TimeUnit.SECONDS);
      Matcher m = VERSION_OUTPUT.matcher(out);
      return m.find() ? Integer.parseInt(m.group(1)) : -1;
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  // ---- configuration ---------------------------------------------------------------------

  /** Console only: the child's stdout is the log file, and INFO keeps it readable. */
  private static final String LOGBACK_XML =
      """
      <configuration scan="false">
        <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
          <encoder>
            <pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern>
          </encoder>
        </appender>
        <root level="INFO">
          <appender-ref ref="STDOUT"/>
        </root>
      </configuration>
      """;

  /** The minimal single-node cassandra.yaml, Cassandra 5.0 key names with units. */
  static final class CassandraYaml {
    private CassandraYaml() {}

    static String render(Settings s) {
      Path data = s.dir().resolve("data");
      return """
          # Written by Grange's EmbeddedCassandra on every start: edits are lost.
          cluster_name: 'grange'
          num_tokens: 1
          initial_token: 0
          partitioner: org.apache.cassandra.dht.Murmur3Partitioner
          endpoint_snitch: SimpleSnitch
          seed_provider:
            - class_name: org.apache.cassandra.locator.SimpleSeedProvider
              parameters:
                - seeds: "127.0.0.1:%2$d"
          listen_address: 127.0.0.1
          rpc_address: 127.0.0.1
          storage_port: %2$d
          native_transport_port: %1$d
          start_native_transport: true
          data_file_directories:
            - %3$s
          commitlog_directory: %4$s
          saved_caches_directory: %5$s
          hints_directory: %6$s
          cdc_raw_directory: %7$s
          commitlog_sync: periodic
          commitlog_sync_period: 10000ms
          commitlog_segment_size: 8MiB
          concurrent_reads: 8
          concurrent_writes: 8
          concurrent_counter_writes: 8
          memtable_heap_space: 64MiB
          memtable_offheap_space: 64MiB
          key_cache_size: 8MiB
          disk_access_mode: mmap_index_only
          """
          .formatted(
              s.cqlPort(),
              s.storagePort(),
              quote(data.resolve("data")),
              quote(data.resolve("commitlog")),
              quote(data.resolve("saved_caches")),
              quote(data.resolve("hints")),
              quote(data.resolve("cdc_raw")));
    }

    /** A YAML single-quoted scalar: safe for any path. */
    private static String quote(Path path) {
      return "'" + path.toString().replace("'", "''") + "'";
    }
  }
}
