package dev.grange.bench.mirrors;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * An upstream repository the benchmark's node mirrors: a non-bare repository in the run directory
 * with branch {@code main}, worked on with the real {@code git} CLI as a developer would (commit,
 * and the node learns of it by a webhook or its next poll). The user's and the system's git config
 * are kept out ({@code GIT_CONFIG_GLOBAL=/dev/null}, {@code GIT_CONFIG_NOSYSTEM}), so a signing or
 * hook setting of the machine cannot slow a commit or make it fail; and git's automatic gc is off
 * ({@code gc.auto=0}, {@code maintenance.auto=false}): after a commit of more than 6,700 loose
 * objects (the big tree) it would repack in the background, on the cores being measured. {@link
 * #pack} does it in the foreground instead.
 */
final class Upstream {
  private static final long GIT_TIMEOUT_SECONDS = 300;

  private final Path dir;
  private int commits;

  private Upstream(Path dir) {
    this.dir = dir;
  }

  /**
   * {@code git init -b main} in {@code dir}, with the files already there (if any) and {@code
   * firstFile} (naming the repository, so that no two upstreams share a commit) as its first commit.
   */
  static Upstream create(Path dir, String firstFile) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    Upstream u = new Upstream(dir);
    Files.writeString(dir.resolve(firstFile), dir.getFileName() + ": commit 0\n", StandardCharsets.UTF_8);
    u.git("init", "-q", "-b", "main");
    u.git("add", "-A");
    u.git("commit", "-q", "-m", "first");
    return u;
  }

  Path dir() {
    return dir;
  }

  /** The URL the node fetches from: {@code file://...}, so the node mirrors it as it would a remote. */
  String url() {
    return dir.toUri().toString();
  }

  /** Changes {@code file} (tracked) and commits it: {@code git commit -q -a}. Returns when git has. */
  void commit(String file) throws IOException, InterruptedException {
    commits++;
    Files.writeString(dir.resolve(file), dir.getFileName() + ": commit " + commits + "\n", StandardCharsets.UTF_8);
    git("commit", "-q", "-a", "-m", "bench commit " + commits);
  }

  /** {@code git gc -q}: everything in one pack, as a real upstream keeps it. */
  void pack() throws IOException, InterruptedException {
    git("gc", "-q");
  }

  /** The sha {@code main} is at. */
  String head() throws IOException, InterruptedException {
    return git("rev-parse", "HEAD");
  }

  /** Runs {@code git args} here; its output, trimmed. Fails naming the command and git's own words. */
  String git(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("git"));
    cmd.addAll(List.of(args));
    Process p = start(cmd);
    CompletableFuture<byte[]> err = drain(p.getErrorStream());
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(GIT_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException(String.join(" ", cmd) + " in " + dir + " did not end within " + GIT_TIMEOUT_SECONDS + " s");
    }
    if (p.exitValue() != 0) {
      throw new IOException(String.join(" ", cmd) + " in " + dir + " exited " + p.exitValue() + ": "
          + new String(err.join(), StandardCharsets.UTF_8).strip());
    }
    return out.strip();
  }

  /** Starts {@code cmd} in this repository with git's environment kept to itself; stdin is empty. */
  Process start(List<String> cmd) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    Map<String, String> env = pb.environment();
    env.put("GIT_CONFIG_GLOBAL", "/dev/null");
    env.put("GIT_CONFIG_NOSYSTEM", "1");
    env.put("GIT_AUTHOR_NAME", "Grange bench");
    env.put("GIT_AUTHOR_EMAIL", "bench@grange.invalid");
    env.put("GIT_COMMITTER_NAME", "Grange bench");
    env.put("GIT_COMMITTER_EMAIL", "bench@grange.invalid");
    env.put("GIT_CONFIG_COUNT", "2");
    env.put("GIT_CONFIG_KEY_0", "gc.auto");
    env.put("GIT_CONFIG_VALUE_0", "0");
    env.put("GIT_CONFIG_KEY_1", "maintenance.auto");
    env.put("GIT_CONFIG_VALUE_1", "false");
    return pb.start();
  }

  /** Reads a stream to its end on another thread (so a chatty stderr cannot block the process). */
  static CompletableFuture<byte[]> drain(InputStream in) {
    return CompletableFuture.supplyAsync(() -> {
      try (in) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        in.transferTo(b);
        return b.toByteArray();
      } catch (IOException e) {
        return new byte[0];
      }
    });
  }
}
