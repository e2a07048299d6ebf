package dev.grange.node.store;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What the Cassandra child process runs on: a Java 17..23 (5.0 does not start on 24+), the
 * server's classpath from the file the {@code cassandra-runtime} module writes, and the JDK 17
 * module flags. Each failure says what to install or build.
 */
final class CassandraJvm {
  /** Where the {@code cassandra-runtime} module writes the server's classpath, from the root. */
  private static final Path CLASSPATH_FILE_IN_REPO =
      Path.of("cassandra-runtime", "target", "cassandra.classpath");

  /** Oldest and newest Java that Cassandra 5.0 starts on (24 removed the security manager). */
  private static final int MIN_JAVA = 17;

  private static final int MAX_JAVA = 23;

  private static final Path JVM_DIR = Path.of("/usr/lib/jvm");

  /**
   * JDK 17 module flags from Cassandra 5.0's {@code conf/jvm17-server.options} (JPMS section and
   * Netty options). Without them start-up dies in {@code FileUtils}.
   */
  static final List<String> JVM17_SERVER_OPTIONS =
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

  private CassandraJvm() {}

  // ---- classpath -------------------------------------------------------------------------

  static Path locateClasspathFile(EmbeddedCassandra.Settings settings) throws IOException {
    if (settings.classpathFile() != null) {
      return requireClasspathFile(settings.classpathFile(), "Settings.classpathFile");
    }
    String property = System.getProperty(EmbeddedCassandra.CLASSPATH_FILE_PROPERTY);
    if (property != null && !property.isBlank()) {
      return requireClasspathFile(Path.of(property), "system property " + EmbeddedCassandra.CLASSPATH_FILE_PROPERTY);
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
            + EmbeddedCassandra.CLASSPATH_FILE_PROPERTY
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

  static String readClasspath(Path file) throws IOException {
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

  static Path locateJava(Path javaHome) throws IOException {
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
}
