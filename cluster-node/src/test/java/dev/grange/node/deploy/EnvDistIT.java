package dev.grange.node.deploy;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code env/make-dist.sh --no-build} packs the modules this build just packaged (so it runs in
 * verify, after the reactor's jars exist), and the launcher of the unpacked distribution starts
 * the real program on its jars alone: the agent answers a bad command line with its usage, the
 * node lists the builders of its built-in demo config (reading config and making the demo
 * repository with JGit), both with logging working: a jar missing from lib/ shows up as SLF4J's
 * "no providers" warning or a NoClassDefFoundError.
 */
class EnvDistIT {
  private static final Path ROOT = HelmChartTest.repoRoot();

  @TempDir
  Path tmp;

  private static String run(Path dir, Path out, List<String> command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).redirectOutput(out.toFile()).start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail(command + " did not finish in 120 s: " + Files.readString(out));
    }
    return "exit " + p.exitValue() + "\n" + Files.readString(out, UTF_8);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
      "agent, buildlet-agent, --host-type, 2, 'usage: grange agent --node URL'",
      "node, cluster-node, builders, 0, 'builder   local-sh-check'"})
  void theDistributionHoldsTheRuntimeClasspathAndItsLauncherRunsTheProgram(String what, String module, String arg, int exit, String says)
      throws Exception {
    Path outDir = Files.createDirectories(tmp.resolve("out"));
    String packed = run(ROOT, tmp.resolve("pack.log"), List.of(ROOT.resolve("env/make-dist.sh").toString(), what, "--no-build", "--out", outDir.toString()));
    assertTrue(packed.startsWith("exit 0\n"), packed);
    Path tarball;
    try (Stream<Path> files = Files.list(outDir)) {
      tarball = files.filter(f -> f.getFileName().toString().matches("grange-" + what + "-.+\\.tar\\.gz")).findFirst()
          .orElseThrow(() -> new AssertionError("no tarball in " + outDir + ": " + packed));
    }
    assertTrue(packed.contains("sha256 "), packed);

    Path unpacked = Files.createDirectories(tmp.resolve("opt"));
    String untar = run(tmp, tmp.resolve("untar.log"), List.of("tar", "-xzf", tarball.toString(), "-C", unpacked.toString()));
    assertTrue(untar.startsWith("exit 0\n"), untar);
    Path home = unpacked.resolve("grange-" + what);

    Set<String> expected = new TreeSet<>();
    for (String entry : Files.readString(ROOT.resolve(module + "/target/runtime.classpath"), UTF_8).strip().split(":")) {
      expected.add(Path.of(entry).getFileName().toString());
    }
    try (Stream<Path> jars = Files.list(ROOT.resolve(module + "/target"))) {
      jars.map(j -> j.getFileName().toString()).filter(n -> n.matches(module + "-[0-9][^-]*(-SNAPSHOT)?\\.jar")).forEach(expected::add);
    }
    Set<String> lib = new TreeSet<>();
    try (Stream<Path> jars = Files.list(home.resolve("lib"))) {
      jars.forEach(j -> lib.add(j.getFileName().toString()));
    }
    assertEquals(expected, lib, "lib/ is the module's jar and its runtime classpath, every entry of it");

    List<String> command = new ArrayList<>(List.of(home.resolve("bin/grange-" + what).toString(), arg));
    String ran = run(tmp, tmp.resolve("run.log"), command);
    assertTrue(ran.startsWith("exit " + exit + "\n"), "grange-" + what + " " + arg + " exits " + exit + ": " + ran);
    assertTrue(ran.contains(says), "the program's own answer: " + ran);
    assertFalse(ran.contains("SLF4J") || ran.contains("NoClassDefFoundError") || ran.contains("ClassNotFoundException"),
        "nothing missing from lib/: " + ran);
  }
}
