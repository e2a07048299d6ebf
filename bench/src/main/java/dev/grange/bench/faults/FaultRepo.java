package dev.grange.bench.faults;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The repository the suite builds: one script, {@code drip.sh}, that writes {@link #LINES} lines
 * over about four seconds, every fourth also one on stderr. Every line is distinct, so a log can
 * be checked line by line for what is missing and what is there twice.
 */
final class FaultRepo {
  static final int LINES = 40;

  private FaultRepo() {}

  static void create(Path dir) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    Path script = dir.resolve("drip.sh");
    Files.writeString(script, """
        #!/bin/sh
        i=1
        while [ $i -le %d ]; do
          echo "out line $i of the fault suite's drip"
          if [ $((i %% 4)) -eq 0 ]; then echo "err line $i" >&2; fi
          i=$((i+1))
          sleep 0.1
        done
        """.formatted(LINES), StandardCharsets.UTF_8);
    script.toFile().setExecutable(true);
    git(dir, "init", "-q", "-b", "main");
    git(dir, "add", ".");
    git(dir, "-c", "user.name=Fault Suite", "-c", "user.email=faults@example.com", "commit", "-q", "-m", "drip");
  }

  /** Every line a build's log must hold, once each. */
  static List<String> expectedLines() {
    List<String> l = new ArrayList<>();
    for (int i = 1; i <= LINES; i++) {
      l.add("out line " + i + " of the fault suite's drip");
      if (i % 4 == 0) {
        l.add("err line " + i);
      }
    }
    return l;
  }

  private static void git(Path dir, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("git"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IOException("git " + String.join(" ", args) + " failed: " + out);
    }
  }
}
