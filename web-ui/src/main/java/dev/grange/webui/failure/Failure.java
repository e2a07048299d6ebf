package dev.grange.webui.failure;

import java.util.ArrayList;
import java.util.List;

/**
 * One failure found in a build log: where it happened ({@code section}: the make/test stage or
 * the command the buildlet ran), what failed ({@code pkg}, {@code test}, and {@code mode}
 * {@code "build"} or {@code "test"}, empty when the log said no more than that it failed), a
 * short {@code snippet} for people, the whole {@code output} that belongs to it, and the log's
 * line numbers (1-based) of both, so a page can mark them in the log it shows.
 *
 * @param snippetLines the log line of each snippet line; 0 for a line the snippet adds ("..."
 *     where lines were left out, a blank between parts)
 */
public record Failure(
    String section,
    String pkg,
    String test,
    String mode,
    String snippet,
    String output,
    List<Integer> outputLines,
    List<Integer> snippetLines) {

  public Failure {
    outputLines = List.copyOf(outputLines);
    snippetLines = List.copyOf(snippetLines);
  }

  /** A short name for people: "net/http TestFoo", "cmd/dist (build)", or the section. */
  public String title() {
    String what = pkg.isEmpty() ? section : pkg;
    if (!test.isEmpty()) {
      what = what + " " + test;
    } else if (mode.equals("build")) {
      what = what + " (build)";
    }
    return what.isEmpty() ? "the build" : what;
  }

  /** The log lines as ranges {@code [from, to]} (1-based, inclusive), in order, adjacent ones joined. */
  public static List<int[]> ranges(List<Integer> lines) {
    List<int[]> out = new ArrayList<>();
    for (int n : lines.stream().filter(n -> n > 0).distinct().sorted().toList()) {
      int[] last = out.isEmpty() ? null : out.get(out.size() - 1);
      if (last != null && n == last[1] + 1) {
        last[1] = n;
      } else {
        out.add(new int[] {n, n});
      }
    }
    return out;
  }
}
