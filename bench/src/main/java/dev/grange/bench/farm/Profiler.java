package dev.grange.bench.farm;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * JDK Flight Recorder on running JVMs of the farm, through {@code jcmd} ({@code bench/run
 * --profile}): started before a measured phase and stopped after it, so each recording
 * ({@code <phase>-<role>.jfr} in the run directory) shows where that phase's time went.
 * {@link #off()} does nothing, for runs without the flag.
 */
public final class Profiler {
  private static final String NAME = "grange-bench";

  private final Path dir;
  private final List<Long> recording = new ArrayList<>();

  private Profiler(Path dir) {
    this.dir = dir;
  }

  /** Records into {@code dir}. */
  public static Profiler into(Path dir) {
    return new Profiler(dir);
  }

  public static Profiler off() {
    return new Profiler(null);
  }

  public boolean isOn() {
    return dir != null;
  }

  /** Starts recording {@code pid} for {@code phase}; {@code role} names the file. */
  public void start(String phase, String role, long pid) throws IOException, InterruptedException {
    if (dir == null) {
      return;
    }
    jcmd(pid, "JFR.start", "name=" + NAME, "settings=profile", "filename=" + dir.resolve(phase + "-" + role + ".jfr"));
    recording.add(pid);
  }

  /** Starts recording the node and Cassandra for {@code phase}. */
  public void startFarm(String phase, BenchFarm farm) throws IOException, InterruptedException {
    start(phase, "node", farm.nodePid());
    start(phase, "cassandra", farm.cassandraPid());
  }

  /** Stops (and so writes) every recording started since the last stop. */
  public void stop() throws IOException, InterruptedException {
    for (long pid : recording) {
      jcmd(pid, "JFR.stop", "name=" + NAME);
    }
    recording.clear();
  }

  private static void jcmd(long pid, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
        Long.toString(pid)));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException("jcmd " + pid + " " + String.join(" ", args) + " failed: " + out);
    }
  }
}
