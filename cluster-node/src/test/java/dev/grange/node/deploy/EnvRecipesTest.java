package dev.grange.node.deploy;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.grange.node.pool.gce.GceMetadata;
import dev.grange.node.pool.kube.KubeApiUse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The recipes under {@code env/} run for real: shellcheck on every script, systemd-analyze on the
 * dedicated machines' unit, the Kubernetes image's entrypoint and the GCE startup script with a
 * fake {@code java} on PATH (a shell script that records its command line) and, for the startup
 * script, a fake metadata server. The agent launcher between them and {@code java} is the real one
 * (env/dist/grange-agent), so the command lines checked are the agent's own.
 */
class EnvRecipesTest {
  private static final Path ROOT = HelmChartTest.repoRoot();
  private static final Path ENV = ROOT.resolve("env");
  private static final Duration DEADLINE = Duration.ofSeconds(30);
  private static final boolean ROOT_USER = "root".equals(System.getProperty("user.name"));

  @TempDir
  Path tmp;
  private Path fakeBin;
  private Path record;
  private HttpServer metadata;

  @BeforeEach
  void fakes() throws IOException {
    // Readable and writable by the agent's user (nobody, when the test runs as root).
    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
    fakeBin = Files.createDirectories(tmp.resolve("fakebin"));
    record = Files.createDirectories(tmp.resolve("record"));
    Files.setPosixFilePermissions(record, PosixFilePermissions.fromString("rwxrwxrwx"));
    executable(fakeBin.resolve("java"), """
        #!/bin/sh
        # A stand-in for java: records how it was run; exits as the line of exits for this run says.
        dir=${FAKE_JAVA_DIR:?}
        n=$(( $(cat "$dir/runs" 2>/dev/null || echo 0) + 1 ))
        echo "$n" > "$dir/runs"
        { echo "pid=$$"; echo "ppid=$PPID"; echo "uid=$(id -u)"; for a in "$@"; do printf 'arg=%s\\n' "$a"; done; } > "$dir/run-$n"
        prev=
        for a in "$@"; do
          if [ "$prev" = --key-file ]; then cat "$a" > "$dir/key-read-$n"; fi
          prev=$a
        done
        code=$(sed -n "${n}p" "$dir/exits" 2>/dev/null)
        if [ "$code" = wait ]; then
          trap 'echo TERM > "$dir/term-$n"; exit 143' TERM
          echo waiting > "$dir/waiting-$n"
          while :; do sleep 1 & wait $!; done
        fi
        exit "${code:-0}"
        """);
    executable(fakeBin.resolve("poweroff"), """
        #!/bin/sh
        echo "after run $(cat "$FAKE_JAVA_DIR/runs")" >> "$FAKE_JAVA_DIR/poweroff"
        """);
  }

  @AfterEach
  void stopServer() {
    if (metadata != null) {
      metadata.stop(0);
    }
  }

  // ---- helpers ----

  private static void executable(Path file, String text) throws IOException {
    Files.writeString(file, text, UTF_8);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  private record Run(int exit, String stdout, String stderr, long pid) {
    String output() {
      return "exit " + exit + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
    }
  }

  /** Starts {@code command}; {@code whileRunning} runs once it has started (it may signal it). */
  private Run run(List<String> command, Map<String, String> env, java.util.function.Consumer<Process> whileRunning)
      throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(command).directory(tmp.toFile());
    pb.environment().clear();
    pb.environment().put("PATH", fakeBin + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    pb.environment().put("FAKE_JAVA_DIR", record.toString());
    pb.environment().putAll(env);
    Path out = Files.createTempFile(tmp, "out", ".txt");
    Path err = Files.createTempFile(tmp, "err", ".txt");
    pb.redirectOutput(out.toFile()).redirectError(err.toFile());
    Process p = pb.start();
    try {
      whileRunning.accept(p);
      if (!p.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)) {
        fail(command + " did not finish within " + DEADLINE + ":\n" + Files.readString(err));
      }
    } finally {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
    return new Run(p.exitValue(), Files.readString(out), Files.readString(err), p.pid());
  }

  private Run run(List<String> command, Map<String, String> env) throws IOException, InterruptedException {
    return run(command, env, p -> { });
  }

  private int javaRuns() throws IOException {
    Path runs = record.resolve("runs");
    return Files.exists(runs) ? Integer.parseInt(Files.readString(runs).strip()) : 0;
  }

  /** The arguments fake java got in run {@code n}, and its pid and uid. */
  private Map<String, Object> javaRun(int n) throws IOException {
    Map<String, Object> r = new LinkedHashMap<>();
    List<String> args = new ArrayList<>();
    for (String line : Files.readAllLines(record.resolve("run-" + n))) {
      if (line.startsWith("arg=")) {
        args.add(line.substring(4));
      } else {
        String[] kv = line.split("=", 2);
        r.put(kv[0], Long.parseLong(kv[1]));
      }
    }
    r.put("args", args);
    return r;
  }

  /** What the launcher puts before the agent's own flags. */
  private static List<String> launcherPrefix(Path agentHome) throws IOException {
    return List.of("-Xmx256m", "-cp", agentHome.toRealPath() + "/lib/*", "dev.grange.agent.Main");
  }

  private Path agentHome(Path at) throws IOException {
    Files.createDirectories(at.resolve("bin"));
    Files.createDirectories(at.resolve("lib"));
    Path launcher = at.resolve("bin/grange-agent");
    Files.copy(ENV.resolve("dist/grange-agent"), launcher);
    Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwxr-xr-x"));
    return at;
  }

  private static long uidOf(String user) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("id", "-u", user).start();
    assertTrue(p.waitFor(10, TimeUnit.SECONDS));
    return Long.parseLong(new String(p.getInputStream().readAllBytes(), UTF_8).strip());
  }

  // ---- shellcheck ----

  private static List<Path> shellScripts() throws IOException {
    try (Stream<Path> files = Files.walk(ENV)) {
      return files.filter(Files::isRegularFile).filter(f -> {
        try {
          String first = Files.readAllLines(f, UTF_8).stream().findFirst().orElse("");
          return f.toString().endsWith(".sh") || first.matches("#!.*\\b(sh|bash)\\b.*");
        } catch (IOException | java.io.UncheckedIOException e) {
          return false; // not text
        }
      }).sorted().toList();
    }
  }

  @Test
  void everyShellScriptUnderEnvPassesShellcheck() throws Exception {
    List<Path> scripts = shellScripts();
    for (String expected : List.of("make-dist.sh", "dist/grange-agent", "dist/grange-node", "linux-amd64/entrypoint.sh",
        "linux-amd64-vm/startup.sh")) {
      assertTrue(scripts.contains(ENV.resolve(expected)), expected + " is among the scripts checked: " + scripts);
    }
    List<String> cmd = new ArrayList<>(List.of("shellcheck", "--external-sources"));
    scripts.forEach(s -> cmd.add(s.toString()));
    Run r;
    try {
      r = run(cmd, Map.of());
    } catch (IOException e) {
      throw new AssertionError("shellcheck is not installed: bin/ensure-browser installs it (as root), or apt-get install shellcheck", e);
    }
    assertEquals(0, r.exit(), "shellcheck " + scripts + ":\n" + r.output());
  }

  // ---- the dedicated machines' unit ----

  private static Map<String, String> unitSettings(String unit) {
    Map<String, String> m = new LinkedHashMap<>();
    for (String line : unit.lines().toList()) {
      if (line.isBlank() || line.startsWith("#") || line.startsWith("[")) {
        continue;
      }
      String[] kv = line.split("=", 2);
      m.put(kv[0].strip(), kv[1].strip());
    }
    return m;
  }

  private static long seconds(String systemdTime) {
    Matcher m = Pattern.compile("(\\d+)(s|min)?").matcher(systemdTime);
    assertTrue(m.matches(), "a time in seconds or minutes: " + systemdTime);
    return Long.parseLong(m.group(1)) * ("min".equals(m.group(2)) ? 60 : 1);
  }

  /** systemd-analyze verify on {@code unit}; fails saying so when the tool cannot run here at all. */
  private Run verify(Path unit) throws Exception {
    Run r;
    try {
      r = run(List.of("systemd-analyze", "verify", unit.toString()), Map.of());
    } catch (IOException e) {
      throw new AssertionError("systemd-analyze is not installed on this machine (Debian: apt-get install systemd), so the unit"
          + " cannot be verified here: this is the machine's condition, not the unit's", e);
    }
    String all = r.stdout() + r.stderr();
    for (String cannot : List.of("Failed to initialize manager", "Failed to allocate manager", "Cannot determine cgroup",
        "Failed to create bus connection", "Operation not permitted")) {
      if (all.contains(cannot) && !all.contains(unit.getFileName().toString() + ":")) {
        fail("systemd-analyze cannot run in this container (\"" + cannot + "\"), a condition of the machine, not of the unit:\n" + r.output());
      }
    }
    return r;
  }

  @Test
  void theDedicatedUnitVerifiesAndStopsTheAgentGently() throws Exception {
    String unit = Files.readString(ENV.resolve("dedicated/grange-agent.service"), UTF_8);
    Map<String, String> s = unitSettings(unit);
    String exec = s.get("ExecStart");
    assertTrue(exec.startsWith("/opt/grange-agent/bin/grange-agent "), "runs the installed distribution's launcher: " + exec);
    assertTrue(exec.contains("--key-file /etc/grange/key"), exec);
    assertEquals("always", s.get("Restart"));
    assertTrue(seconds(s.get("RestartSec")) > 0, "a pause before a restart");
    assertEquals("SIGTERM", s.get("KillSignal"), "SIGTERM drains the agent");
    assertEquals("mixed", s.get("KillMode"), "only the agent gets the SIGTERM; it stops its builds itself");
    assertTrue(seconds(s.get("TimeoutStopSec")) > 60, "longer than the agent's 60 s grace: " + s.get("TimeoutStopSec"));
    assertFalse(exec.contains("--grace-ms"), "the grace is the agent's default, which TimeoutStopSec is checked against");
    assertEquals("grange", s.get("User"), "a dedicated user");
    assertTrue(s.get("ExecStart").contains("--workdir /var/lib/grange/work") && "grange".equals(s.get("StateDirectory")),
        "builds write their workdir under the state directory, which ProtectSystem=strict leaves writable");

    // The distribution is not installed on this machine: verify a copy whose /opt/grange-agent is
    // a directory holding the real launcher; every other line is the unit's own.
    Path home = agentHome(tmp.resolve("opt/grange-agent"));
    verifies(unit.replace("/opt/grange-agent/", home + "/"), "grange-agent");
  }

  @Test
  void theVmImagesUnitVerifiesAndStopsTheStartupScriptGently() throws Exception {
    String unit = Files.readString(ENV.resolve("linux-amd64-vm/grange-startup.service"), UTF_8);
    Map<String, String> s = unitSettings(unit);
    assertEquals("/usr/local/sbin/grange-startup", s.get("ExecStart"), "the install path README.md gives startup.sh");
    assertEquals("SIGTERM", s.get("KillSignal"));
    assertEquals("mixed", s.get("KillMode"), "the script passes the SIGTERM on; the agent is not killed beside it");
    assertTrue(seconds(s.get("TimeoutStopSec")) > 60, "longer than the agent's 60 s grace");
    verifies(unit.replace("/usr/local/sbin/grange-startup", ENV.resolve("linux-amd64-vm/startup.sh").toString()), "grange-startup");
  }

  /** {@code unit} passes systemd-analyze verify with no word about it, and a broken copy does not. */
  private void verifies(String unit, String name) throws Exception {
    Path copy = tmp.resolve(name + ".service");
    Files.writeString(copy, unit, UTF_8);
    Run r = verify(copy);
    assertEquals(0, r.exit(), "systemd-analyze verify:\n" + r.output());
    assertFalse((r.stdout() + r.stderr()).contains(name + ".service"), "no warning about the unit:\n" + r.output());

    // And it does read the unit here: a broken copy is reported.
    Path broken = tmp.resolve(name + "-broken.service");
    Files.writeString(broken, unit.replace("KillMode=mixed", "KillMode=mixd"), UTF_8);
    Run b = verify(broken);
    assertTrue((b.stdout() + b.stderr()).contains(name + "-broken.service:"),
        "systemd-analyze verify reports a bad line here, so its silence about the real unit means something:\n" + b.output());
  }

  // ---- Dockerfiles ----

  /** The Dockerfile's instructions, continuation lines joined, comments dropped. */
  private static List<String> instructions(Path dockerfile) throws IOException {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    for (String line : Files.readAllLines(dockerfile, UTF_8)) {
      if (line.strip().startsWith("#")) {
        continue;
      }
      if (line.endsWith("\\")) {
        cur.append(line, 0, line.length() - 1).append(' ');
        continue;
      }
      cur.append(line);
      if (!cur.toString().isBlank()) {
        out.add(cur.toString().strip());
      }
      cur.setLength(0);
    }
    return out;
  }

  private static String instruction(List<String> all, String name) {
    List<String> found = all.stream().filter(i -> i.startsWith(name + " ")).toList();
    assertEquals(1, found.size(), "one " + name + " in " + all);
    return found.get(0).substring(name.length() + 1).strip();
  }

  @Test
  void theImagesRunTheirScriptsFromTheDistributionAsAUserThatIsNotRoot() throws Exception {
    ObjectMapper json = new ObjectMapper();
    List<String> agent = instructions(ENV.resolve("linux-amd64/Dockerfile"));
    List<String> entrypoint = List.of(json.readValue(instruction(agent, "ENTRYPOINT"), String[].class));
    String script = entrypoint.get(entrypoint.size() - 1);
    List<String> copies = agent.stream().filter(i -> i.startsWith("COPY ")).toList();
    String copy = copies.stream().filter(c -> c.endsWith(" " + script)).findFirst()
        .orElseThrow(() -> new AssertionError("no COPY puts the ENTRYPOINT's " + script + " into the image: " + copies));
    Path source = ROOT.resolve(copy.split("\\s+")[1]);
    assertTrue(Files.isRegularFile(source) && Files.isExecutable(source), "the entrypoint script " + source + " exists and is executable");
    assertEquals(ENV.resolve("linux-amd64/entrypoint.sh"), source);
    assertEquals("${AGENT_DIST} /opt/", instruction(agent, "ADD"), "the distribution's top folder grange-agent/ lands in /opt");
    assertTrue(Files.readString(source).contains("agent_home=${GRANGE_AGENT_HOME:-/opt/grange-agent}"), "the entrypoint runs /opt/grange-agent");
    assertFalse(instruction(agent, "USER").matches("(0|root)(:.*)?"), "the agent does not run as root");

    List<String> node = instructions(ROOT.resolve("helm/node-image/Dockerfile"));
    List<String> nodeEntry = List.of(json.readValue(instruction(node, "ENTRYPOINT"), String[].class));
    assertEquals("/opt/grange-node/bin/grange-node", nodeEntry.get(nodeEntry.size() - 1));
    assertEquals("${NODE_DIST} /opt/", instruction(node, "ADD"));
    assertEquals("10001:10001", instruction(node, "USER"), "the chart's runAsUser");
    assertTrue(Files.isExecutable(ENV.resolve("dist/grange-node")) && Files.isExecutable(ENV.resolve("dist/grange-agent")));
  }

  // ---- the Kubernetes image's entrypoint ----

  private Map<String, String> podEnv(Path config) {
    return Map.of(
        "GRANGE_CONFIG_DIR", config.toString(),
        "GRANGE_AGENT_HOME", tmp.resolve("opt/grange-agent").toString(),
        "GRANGE_WORKDIR", tmp.resolve("work").toString(),
        KubeApiUse.ENV_HOST_TYPE, "linux-amd64",
        KubeApiUse.ENV_INSTANCE, "grange-linux-amd64-7f3a");
  }

  private Path podSecret() throws IOException {
    Path config = Files.createDirectories(tmp.resolve("etc-grange"));
    Files.writeString(config.resolve(KubeApiUse.SECRET_KEY), "4f1c0ffee\n");
    Files.writeString(config.resolve(KubeApiUse.SECRET_NODE_URLS), "ws://farm-grange.builds.svc.cluster.local:8080\n\nwss://farm.example:443\n");
    return config;
  }

  @Test
  void theEntrypointExecsTheAgentWithThePodsInstanceCommandLine() throws Exception {
    Path config = podSecret();
    Path home = agentHome(tmp.resolve("opt/grange-agent"));
    Run r = run(List.of(ENV.resolve("linux-amd64/entrypoint.sh").toString()), podEnv(config));
    assertEquals(0, r.exit(), r.output());
    assertEquals(1, javaRuns());
    Map<String, Object> java = javaRun(1);
    List<String> expected = new ArrayList<>(launcherPrefix(home));
    expected.addAll(List.of(
        "--node", "ws://farm-grange.builds.svc.cluster.local:8080",
        "--node", "wss://farm.example:443",
        "--host-type", "linux-amd64",
        "--instance", "grange-linux-amd64-7f3a",
        "--hostname", "grange-linux-amd64-7f3a",
        "--key-file", config.resolve("key").toString(),
        "--workdir", tmp.resolve("work").toString()));
    assertEquals(expected, java.get("args"));
    assertEquals(r.pid(), java.get("pid"), "exec all the way: the agent is the process the container's init signals");
    assertTrue(Files.isDirectory(tmp.resolve("work")), "the workdir is made");
  }

  @Test
  void theEntrypointRefusesWithoutItsSecretOrEnvironmentSayingWhatIsMissing() throws Exception {
    agentHome(tmp.resolve("opt/grange-agent"));
    String entrypoint = ENV.resolve("linux-amd64/entrypoint.sh").toString();
    Map<String, String> cases = new LinkedHashMap<>();
    cases.put(KubeApiUse.SECRET_KEY, "/key is missing");
    cases.put(KubeApiUse.SECRET_NODE_URLS, "/node-urls is missing");
    cases.put(KubeApiUse.ENV_HOST_TYPE, "GRANGE_HOST_TYPE is not set");
    cases.put(KubeApiUse.ENV_INSTANCE, "GRANGE_INSTANCE is not set");
    cases.put("bad-url", "\"http://farm.example:8080\" is not a ws:// or wss:// URL");
    for (var c : cases.entrySet()) {
      Path config = podSecret();
      Map<String, String> env = new LinkedHashMap<>(podEnv(config));
      if (c.getKey().startsWith("GRANGE_")) {
        env.remove(c.getKey());
      } else if (c.getKey().equals("bad-url")) {
        Files.writeString(config.resolve("node-urls"), "http://farm.example:8080\n");
      } else {
        Files.delete(config.resolve(c.getKey()));
      }
      Run r = run(List.of(entrypoint), env);
      assertEquals(1, r.exit(), c.getKey() + ": " + r.output());
      assertTrue(r.stderr().contains(c.getValue()), c.getKey() + " refused naming it: " + r.output());
      assertEquals(0, javaRuns(), c.getKey() + ": the agent never started");
    }
  }

  // ---- the GCE startup script ----

  private final Map<String, String> attributes = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> asked = new ConcurrentHashMap<>();
  private final AtomicInteger busyAnswers = new AtomicInteger();
  private byte[] dist;

  /** A metadata server: attributes need Metadata-Flavor: Google; the first busyAnswers requests get a 503. */
  private String startMetadataServer() throws IOException {
    metadata = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    String prefix = "/computeMetadata/v1/instance/attributes/";
    metadata.createContext("/", ex -> {
      String path = ex.getRequestURI().getPath();
      if (path.equals("/dist/grange-agent.tar.gz") && dist != null) {
        answer(ex, 200, dist);
      } else if (!path.startsWith(prefix)) {
        answer(ex, 404, new byte[0]);
      } else if (!"Google".equals(ex.getRequestHeaders().getFirst("Metadata-Flavor"))) {
        answer(ex, 403, "Missing Metadata-Flavor:Google header.".getBytes(UTF_8));
      } else if (busyAnswers.getAndDecrement() > 0) {
        answer(ex, 503, new byte[0]);
      } else {
        String key = path.substring(prefix.length());
        asked.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
        String v = attributes.get(key);
        answer(ex, v == null ? 404 : 200, v == null ? new byte[0] : v.getBytes(UTF_8));
      }
    });
    metadata.start();
    return "http://127.0.0.1:" + metadata.getAddress().getPort() + prefix.substring(0, prefix.length() - 1);
  }

  private static void answer(HttpExchange ex, int status, byte[] body) throws IOException {
    ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(body);
    }
  }

  /** A distribution as env/make-dist.sh lays it out: grange-agent/bin/grange-agent, grange-agent/lib/. */
  private static byte[] distTarball() throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new GZIPOutputStream(bytes))) {
      for (String dir : List.of("grange-agent/", "grange-agent/bin/", "grange-agent/lib/")) {
        TarArchiveEntry e = new TarArchiveEntry(dir);
        e.setMode(0755);
        tar.putArchiveEntry(e);
        tar.closeArchiveEntry();
      }
      byte[] launcher = Files.readAllBytes(ENV.resolve("dist/grange-agent"));
      TarArchiveEntry e = new TarArchiveEntry("grange-agent/bin/grange-agent");
      e.setMode(0755);
      e.setSize(launcher.length);
      tar.putArchiveEntry(e);
      tar.write(launcher);
      tar.closeArchiveEntry();
    }
    return bytes.toByteArray();
  }

  private static String sha256(byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }

  private String agentUser() {
    return ROOT_USER ? "nobody" : System.getProperty("user.name");
  }

  private Map<String, String> vmEnv(String metadataUrl) {
    return Map.of(
        "GRANGE_METADATA_URL", metadataUrl,
        "GRANGE_AGENT_HOME", tmp.resolve("opt/grange-agent").toString(),
        "GRANGE_VAR_DIR", tmp.resolve("var").toString(),
        "GRANGE_AGENT_USER", agentUser(),
        "GRANGE_POWEROFF", fakeBin.resolve("poweroff").toString(),
        "GRANGE_RESTART_PAUSE", "0",
        "GRANGE_METADATA_PAUSE", "0.05");
  }

  private void vmAttributes() {
    attributes.put(GceMetadata.NODE_URLS, "wss://farm.example:443\nws://10.0.0.5:8080");
    attributes.put(GceMetadata.HOST_TYPE, "linux-amd64-vm");
    attributes.put(GceMetadata.INSTANCE, "grange-linux-amd64-vm-0c4e");
    attributes.put(GceMetadata.KEY, "9a8b7c6d5e4f");
  }

  private List<String> vmAgentArgs(Path home) throws IOException {
    List<String> expected = new ArrayList<>(launcherPrefix(home));
    Path var = tmp.resolve("var");
    expected.addAll(List.of(
        "--node", "wss://farm.example:443",
        "--node", "ws://10.0.0.5:8080",
        "--host-type", "linux-amd64-vm",
        "--instance", "grange-linux-amd64-vm-0c4e",
        "--hostname", "grange-linux-amd64-vm-0c4e",
        "--key-file", var.resolve("key").toString(),
        "--workdir", var.resolve("work").toString(),
        "--halt-machine"));
    return expected;
  }

  /**
   * The metadata server, with the VM's attributes and a distribution to download at
   * grange-agent-url; grange-agent-sha256 is the download's (upper case, as an operator may paste
   * it) or, when not {@code rightSha256}, another's. Returns the attributes' base URL.
   */
  private String offerDownload(boolean rightSha256) throws Exception {
    String url = startMetadataServer();
    vmAttributes();
    dist = distTarball();
    attributes.put(GceMetadata.AGENT_URL, "http://127.0.0.1:" + metadata.getAddress().getPort() + "/dist/grange-agent.tar.gz");
    attributes.put(GceMetadata.AGENT_SHA256,
        rightSha256 ? sha256(dist).toUpperCase(java.util.Locale.ROOT) : sha256("something else".getBytes(UTF_8)));
    return url;
  }

  private String startup() {
    return ENV.resolve("linux-amd64-vm/startup.sh").toString();
  }

  @Test
  void theStartupScriptDownloadsTheCheckedAgentRunsItAsItsUserRestartsItAfterACrashAndPowersOffOnHalt() throws Exception {
    String url = offerDownload(true);
    busyAnswers.set(2); // the metadata server is not up yet for the first two requests
    Files.writeString(record.resolve("exits"), "3\n0\n"); // the agent crashes once, then halts

    Run r = run(List.of(startup()), vmEnv(url));
    assertEquals(0, r.exit(), r.output());
    assertTrue(r.stderr().contains("answered 503"), "it asked again after the server's 503s: " + r.output());
    assertEquals(2, javaRuns(), "started again after the crash: " + r.output());
    Path home = tmp.resolve("opt/grange-agent");
    for (int n = 1; n <= 2; n++) {
      Map<String, Object> java = javaRun(n);
      assertEquals(vmAgentArgs(home), java.get("args"), "run " + n);
      assertEquals(uidOf(agentUser()), java.get("uid"), "the agent runs as " + agentUser() + ", not root");
      assertEquals("9a8b7c6d5e4f", Files.readString(record.resolve("key-read-" + n)).strip(), "the agent's user can read its key");
    }
    assertEquals("after run 2\n", Files.readString(record.resolve("poweroff")), "powered off once, after the halt");
    Path key = tmp.resolve("var/key");
    assertEquals(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE), Files.getPosixFilePermissions(key), "key mode 0600");
    assertEquals(agentUser(), Files.getOwner(key).getName(), "the key belongs to the agent's user");
    assertEquals("9a8b7c6d5e4f\n", Files.readString(key));
    assertEquals(agentUser(), Files.getOwner(tmp.resolve("var/work")).getName(), "builds can write the workdir");
  }

  @Test
  void aDownloadWhoseSha256IsNotTheMetadatasIsRefusedAndNothingRuns() throws Exception {
    String url = offerDownload(false);
    Run r = run(List.of(startup()), vmEnv(url));
    assertEquals(1, r.exit(), r.output());
    assertTrue(r.stderr().contains("has sha256 " + sha256(dist)) && r.stderr().contains("refusing to run it"), r.output());
    assertEquals(0, javaRuns(), "the agent never ran");
    assertFalse(Files.exists(tmp.resolve("opt/grange-agent")), "nothing was installed");
    assertFalse(Files.exists(record.resolve("poweroff")));

    attributes.remove(GceMetadata.AGENT_SHA256);
    Run unchecked = run(List.of(startup()), vmEnv(url));
    assertEquals(1, unchecked.exit(), unchecked.output());
    assertTrue(unchecked.stderr().contains("grange-agent-sha256 is not"), "a download without its sha256 is refused: " + unchecked.output());
    assertEquals(0, javaRuns());
  }

  @Test
  void withoutAnAgentUrlTheImagesAgentRunsAndAMissingKeyIsRefused() throws Exception {
    String url = startMetadataServer();
    vmAttributes();
    attributes.remove(GceMetadata.KEY);
    Path home = agentHome(tmp.resolve("opt/grange-agent"));
    Run refused = run(List.of(startup()), vmEnv(url));
    assertEquals(1, refused.exit(), refused.output());
    assertTrue(refused.stderr().contains("the instance metadata has no grange-key"), refused.output());
    assertEquals(0, javaRuns());

    vmAttributes();
    Run r = run(List.of(startup()), vmEnv(url));
    assertEquals(0, r.exit(), r.output());
    assertEquals(1, javaRuns());
    assertEquals(vmAgentArgs(home), javaRun(1).get("args"));
    assertNotNull(asked.get(GceMetadata.AGENT_URL), "it asked whether to download");
    assertEquals("after run 1\n", Files.readString(record.resolve("poweroff")));
  }

  @Test
  void sigtermToTheStartupScriptDrainsTheAgentAndDoesNotPowerOff() throws Exception {
    String url = startMetadataServer();
    vmAttributes();
    agentHome(tmp.resolve("opt/grange-agent"));
    Files.writeString(record.resolve("exits"), "wait\n");
    Run r = run(List.of(startup()), vmEnv(url), p -> {
      long deadline = System.nanoTime() + DEADLINE.toNanos();
      while (!Files.exists(record.resolve("waiting-1"))) {
        if (System.nanoTime() > deadline || !p.isAlive()) {
          fail("the agent did not start");
        }
        try {
          Thread.sleep(10); // an await with a deadline: the file appears when the agent has started
        } catch (InterruptedException e) {
          throw new AssertionError(e);
        }
      }
      p.destroy(); // SIGTERM
    });
    assertEquals(143, r.exit(), r.output());
    assertEquals("TERM", Files.readString(record.resolve("term-1")).strip(), "the agent got the SIGTERM: " + r.output());
    assertEquals(1, javaRuns(), "and was not started again");
    assertEquals(r.pid(), javaRun(1).get("ppid"),
        "the agent is the script's own child: nothing (su, runuser) in between to SIGKILL it while it drains");
    assertFalse(Files.exists(record.resolve("poweroff")), "a stop is not a halt");
  }
}
