package dev.grange.node.pool.gce;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the startup script of {@code env/} does on a real VM, for {@link FakeCompute}: starts a
 * real agent process ({@code dev.grange.agent.Main}) with the key, node URLs, host type and
 * instance of the VM's metadata, and stops it (SIGTERM, then a kill) when the VM goes away. Each
 * agent works under {@code <dir>/<instance>/} (key, work, spool, agent.log).
 *
 * @param java the java binary
 * @param classpath a classpath holding the agent (the test classpath of cluster-node does)
 * @param dir where each instance's files go
 * @param stopGrace how long a SIGTERM may take before the agent is killed
 */
public record FakeAgents(String java, String classpath, Path dir, Duration stopGrace) {
  private static final Logger log = LoggerFactory.getLogger(FakeAgents.class);

  /** The agent of this test JVM's classpath (cluster-node's tests depend on buildlet-agent). */
  public static FakeAgents fromTestClasspath(Path dir) {
    return new FakeAgents(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        System.getProperty("java.class.path"), dir, Duration.ofSeconds(10));
  }

  /** The agent's command line for a VM with this metadata. */
  List<String> command(String name, Map<String, String> metadata, Path keyFile) {
    Path home = dir.resolve(name).toAbsolutePath();
    List<String> cmd = new ArrayList<>(List.of(java, "-Xms16m", "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-cp", classpath, "dev.grange.agent.Main",
        "--host-type", metadata.getOrDefault(GceMetadata.HOST_TYPE, ""),
        "--key-file", keyFile.toString(),
        "--instance", metadata.getOrDefault(GceMetadata.INSTANCE, ""),
        "--hostname", name,
        "--workdir", home.resolve("work").toString(),
        "--spool-dir", home.resolve("spool").toString()));
    for (String url : metadata.getOrDefault(GceMetadata.NODE_URLS, "").split("\n")) {
      if (!url.isBlank()) {
        cmd.add("--node");
        cmd.add(url.strip());
      }
    }
    return cmd;
  }

  /** Starts the agent of VM {@code name}: the key goes to a file only its owner reads, as the startup script does. */
  Process start(String name, Map<String, String> metadata) throws IOException {
    Path home = dir.resolve(name).toAbsolutePath();
    Files.createDirectories(home);
    Path keyFile = home.resolve("key");
    Files.deleteIfExists(keyFile);
    Files.createFile(keyFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(keyFile, metadata.getOrDefault(GceMetadata.KEY, "") + "\n", StandardCharsets.US_ASCII);
    Process p = new ProcessBuilder(command(name, metadata, keyFile)).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(home.resolve("agent.log").toFile())).start();
    log.info("Fake VM [{}]: agent started, pid {}", name, p.pid());
    return p;
  }

  /** SIGTERM (the agent drains), a kill after {@link #stopGrace}; completes when the process is gone. */
  CompletableFuture<Void> stop(Process p) {
    if (!p.isAlive()) {
      return CompletableFuture.completedFuture(null);
    }
    p.destroy();
    CompletableFuture<Process> exit = p.onExit();
    exit.copy().orTimeout(stopGrace.toMillis(), TimeUnit.MILLISECONDS).exceptionally(timeout -> {
      log.warn("Fake agent pid {} ignored SIGTERM for {}: killing it", p.pid(), stopGrace);
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      return null;
    });
    return exit.thenApply(x -> null);
  }
}
