package dev.grange.webui.failure;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the failures in a build log the way people read a Go build log: by its stages
 * ({@code :: Running}, {@code Building ...}, {@code ##### section} banners), the verdicts of
 * {@code go test} ({@code ok}, {@code FAIL pkg}, {@code --- FAIL: TestX}), build errors
 * ({@code # pkg} followed by {@code file:line: message}), the {@code ../test} runner's
 * {@code # go run run.go -- file.go}, and a crash's goroutine stacks (which name the test that was
 * running). It always returns at least one failure: a log it cannot read gives one with the
 * lines after the last thing that passed. Pure and thread-safe; the golden cases are the real
 * build.golang.org logs of golang/build's log parser (see the test).
 *
 * <p>Lines are read one at a time. Lines that may belong to a failure not yet seen are held;
 * a line that starts a failure takes the held lines (output printed before a test's verdict is
 * its output) and the lines after it, until a line that shows something passed or a new stage
 * begins. Held lines dropped at such a point still become a build failure when one looks like a
 * compiler error.
 */
public final class FailureExtractor {
  private FailureExtractor() {}

  /** {@code file:line:[col:] message} at the start of a line, as compilers and vet print. */
  private static final Pattern COMPILE_ERROR = Pattern.compile("^[a-zA-Z0-9_./\\\\]+:\\d+:(\\d+:)? ");
  /** The buildlet's announcement of each command it runs, with the arguments Go-quoted. */
  private static final Pattern RUNNING = Pattern.compile(":: Running [^ ]+ with args \\[([^\\[\\]]+)\\] and env");
  private static final Pattern QUOTED = Pattern.compile("\"([^\"\\\\]|\\\\.)*\"");
  /** The dashboard's first line, "<builder> at <go rev>[ building <repo> at <rev>]": not output. */
  private static final Pattern HEADER = Pattern.compile("^[\\w.+-]+ at [0-9a-f]{7,64}( building [\\w.+/-]+ at [0-9a-f]{7,64})?\\s*$");
  private static final Pattern GOROUTINE = Pattern.compile("^goroutine \\d+ \\[(.*)\\]:$");
  /** "# key: value" lines of the test execution environment banner, not build failures. */
  private static final List<String> ENVIRONMENT = List.of("# GOARCH:", "# CPU:", "# GOOS:", "# OS Version:");
  private static final String RUN_GO = "# go run run.go -- ";
  /** Snippets longer than this are cut to their head, an important middle, and their tail. */
  private static final int SNIPPET_MAX = 30;
  private static final int SNIPPET_PART = 10;

  /** A log line with its end of line, and its 1-based number in the log (0: added here). */
  record Line(String text, int number) {
    boolean blank() {
      return GoText.trim(text).isEmpty();
    }
  }

  public static List<Failure> extract(String log) {
    Reader r = new Reader();
    String text = log.replace("\r", "");
    int start = 0;
    int number = 0;
    while (start < text.length()) {
      int nl = text.indexOf('\n', start);
      int end = nl < 0 ? text.length() : nl + 1;
      number++;
      r.line(text.substring(start, end), number);
      start = end;
    }
    return r.finish();
  }

  /** A failure being assembled: its fields so far and its lines. */
  private static final class Found {
    final String section;
    String pkg;
    String test;
    final String mode;
    final List<Line> lines;

    Found(String section, String pkg, String test, String mode, List<Line> lines) {
      this.section = section;
      this.pkg = pkg;
      this.test = test;
      this.mode = mode;
      this.lines = lines;
    }
  }

  /** The state of one pass over a log. */
  private static final class Reader {
    private String section = "";
    private List<Line> held = new ArrayList<>();
    private final List<Found> found = new ArrayList<>();
    /** The failure the next lines belong to; null between failures. */
    private Found current;

    void line(String raw, int number) {
      if (number == 1 && HEADER.matcher(raw).matches()) {
        return;
      }
      if (raw.startsWith("go: downloading ")) {
        return;
      }
      String s = raw;
      if (GoText.trim(s).isEmpty()) {
        s = "\n";
        if (held.isEmpty() && current == null) {
          return;
        }
      }
      Line line = new Line(s, number);
      String t = GoText.trim(s);
      if (t.equals("XXXBANNERXXX:Test execution environment.")) {
        return;
      }
      if (s.startsWith(":: Running")) {
        passed();
        Matcher m = RUNNING.matcher(s);
        if (m.find()) {
          section = commandSection(m.group(1));
        }
        return;
      }
      if (s.startsWith("Building ")) {
        passed();
        section = t;
        return;
      }
      if (s.startsWith("##### ")) {
        passed();
        String banner = GoText.trim(s.substring(6));
        if (!banner.isEmpty()) {
          section = banner;
          return;
        }
      }
      if (s.startsWith("?   \t") || s.startsWith("ok  \t")) {
        passed();
        return;
      }
      if (s.equals("FAIL\n") && !found.isEmpty()) {
        return; // the binary's or go test's closing verdict, after the failures it sums up
      }
      List<String> fields = GoText.fields(s);
      if (s.startsWith("--- FAIL: ") && fields.size() >= 3) {
        String pkg = section.startsWith("../") ? section.substring(3) : "";
        start(new Found(section, pkg, fields.get(2), "test", takeHeld(line)));
        return;
      }
      if (s.startsWith("# ") && s.contains(":") && ENVIRONMENT.stream().anyMatch(s::startsWith)) {
        return;
      }
      if (s.startsWith("# ") && !section.equals("../test") && fields.size() >= 2) {
        passed();
        start(new Found(section, fields.get(1), "", "build", new ArrayList<>()));
        return;
      }
      if (s.startsWith(RUN_GO)) {
        start(new Found(section, GoText.trim(s.substring(RUN_GO.length())), "", "test", takeHeld(line)));
        return;
      }
      if (s.startsWith("FAIL\t") && fields.size() >= 3) {
        packageFailed(fields.get(1), s);
        return;
      }
      (current == null ? held : current.lines).add(line);
    }

    /** "FAIL\tpkg\t0.1s" from go test: names the package of the tests that failed before it. */
    private void packageFailed(String pkg, String s) {
      if (s.contains("[build failed]")) {
        passed(); // the build failure above already says it
        return;
      }
      if (current == null) {
        // It crashed or exited without a "--- FAIL": what it printed is the failure.
        start(new Found(section, pkg, "", "test", takeHeld(null)));
      } else if (!current.section.equals("../test")) {
        for (int i = found.size() - 1; i >= 0 && !found.get(i).test.isEmpty(); i--) {
          found.get(i).pkg = pkg;
        }
      }
      passed();
    }

    private void start(Found f) {
      found.add(f);
      current = f;
    }

    /** The held lines (and {@code last}, if any) for a new failure; holding starts again. */
    private List<Line> takeHeld(Line last) {
      List<Line> lines = held;
      held = new ArrayList<>();
      if (last != null) {
        lines.add(last);
      }
      return lines;
    }

    /** Something passed or a stage began: the current failure is over, and so is holding. */
    private void passed() {
      if (held.stream().anyMatch(l -> COMPILE_ERROR.matcher(l.text()).find())) {
        found.add(new Found(section, "", "", "build", takeHeld(null)));
      }
      current = null;
      held.clear();
    }

    List<Failure> finish() {
      if (found.isEmpty()) {
        found.add(new Found(section, "", "", "", takeHeld(null)));
      }
      passed();
      List<Failure> out = new ArrayList<>();
      for (Found f : found) {
        out.add(complete(f));
      }
      return out;
    }
  }

  /** "[\"/workdir/go/src/make.bash\", \"-v\"]" inner part to "make.bash -v". */
  private static String commandSection(String quotedArgs) {
    List<String> args = new ArrayList<>();
    Matcher q = QUOTED.matcher(quotedArgs);
    while (q.find()) {
      args.add(GoText.unquote(q.group()));
    }
    if (args.isEmpty()) {
      return "";
    }
    String cmd = args.get(0);
    cmd = cmd.substring(cmd.lastIndexOf('/') + 1);
    cmd = cmd.substring(cmd.lastIndexOf('\\') + 1);
    args.set(0, cmd);
    return String.join(" ", args);
  }

  private static Failure complete(Found f) {
    List<Line> out = new ArrayList<>(f.lines);
    dropTrailingBlanks(out);
    String output = join(out);
    String test = f.test;
    List<Line> snippet = shorten(out, true);
    if (test.isEmpty() && output.contains("\n\ngoroutine ")) {
      RunningTest rt = runningTest(out);
      if (rt != null) {
        test = rt.test();
        snippet = rt.snippet();
      }
    }
    return new Failure(f.section, f.pkg, test, f.mode, join(snippet), output,
        out.stream().map(Line::number).toList(), snippet.stream().map(Line::number).toList());
  }

  private record RunningTest(String test, List<Line> snippet) {}

  /**
   * A test binary that crashed does not say which test ran: the goroutine with
   * {@code testing.tRunner} under a {@code TestX} frame does, unless it is parked in
   * {@code t.Parallel} (then another test is the one that ran). Its stack, without the
   * other goroutines, becomes the end of the snippet.
   */
  private static RunningTest runningTest(List<Line> lines) {
    int stackStart = -1;
    for (int i = 0; i < lines.size(); i++) {
      String s = GoText.trim(lines.get(i).text());
      if (s.isEmpty()) {
        stackStart = -1;
        continue;
      }
      if (GOROUTINE.matcher(s).matches()) {
        stackStart = i;
      }
      if (stackStart < 0 || !s.startsWith("testing.tRunner(") || i <= 2) {
        continue;
      }
      String frame = GoText.trim(lines.get(i - 2).text());
      int paren = frame.indexOf('(');
      if (paren < 0) {
        continue;
      }
      String function = frame.substring(0, paren);
      int at = function.indexOf(".Test");
      if (at < 0) {
        continue;
      }
      boolean parallel = lines.subList(stackStart + 1, i).stream()
          .anyMatch(l -> GoText.trim(l.text()).startsWith("testing.(*T).Parallel("));
      if (parallel) {
        stackStart = -1;
        continue;
      }
      String name = function.substring(at + ".Test".length());
      int closure = name.indexOf(".func");
      if (closure >= 0) {
        name = name.substring(0, closure);
      }
      List<Line> withStack = new ArrayList<>(lines);
      withStack.add(new Line("\n", 0));
      withStack.addAll(lines.subList(stackStart + 1, i + 1));
      return new RunningTest("Test" + name, shorten(withStack, false));
    }
    return null;
  }

  /**
   * A snippet of a failure's lines: goroutine stacks after a blank line left out (but the
   * running one's when {@code keepRunning}), and when still long, the first and last lines with,
   * between them, the lines from the first panic, fatal error, test failure or compiler crash.
   */
  static List<Line> shorten(List<Line> lines, boolean keepRunning) {
    List<Line> kept = new ArrayList<>();
    boolean afterBlank = false;
    boolean inStack = false;
    for (Line line : lines) {
      String s = GoText.trim(line.text());
      if (inStack) {
        if (s.isEmpty()) {
          inStack = false;
          afterBlank = true;
        }
        continue;
      }
      if (afterBlank) {
        Matcher m = GOROUTINE.matcher(s);
        if (m.matches() && (!keepRunning || !m.group(1).equals("running"))) {
          inStack = true;
          continue;
        }
      }
      kept.add(line);
      afterBlank = s.isEmpty();
    }
    dropTrailingBlanks(kept);
    int n = kept.size();
    if (n <= SNIPPET_MAX) {
      return kept;
    }
    List<Line> cut = new ArrayList<>(kept.subList(0, SNIPPET_PART));
    boolean gap = true;
    for (int i = SNIPPET_PART; i < n - SNIPPET_PART; i++) {
      if (important(GoText.trim(kept.get(i).text()))) {
        if (i > SNIPPET_PART) {
          cut.add(new Line("...\n", 0));
        }
        int end = i + SNIPPET_PART;
        if (end >= n - SNIPPET_PART) {
          gap = false;
          end = n - SNIPPET_PART;
        }
        cut.addAll(kept.subList(i, end));
        break;
      }
    }
    if (gap) {
      cut.add(new Line("...\n", 0));
    }
    cut.addAll(kept.subList(n - SNIPPET_PART, n));
    return cut;
  }

  private static boolean important(String s) {
    return s.startsWith("panic:") || s.startsWith("fatal error:") || s.startsWith("--- FAIL:")
        || s.contains(": internal compiler error:");
  }

  private static void dropTrailingBlanks(List<Line> lines) {
    while (!lines.isEmpty() && lines.get(lines.size() - 1).blank()) {
      lines.remove(lines.size() - 1);
    }
  }

  private static String join(List<Line> lines) {
    StringBuilder b = new StringBuilder();
    lines.forEach(l -> b.append(l.text()));
    return b.toString();
  }
}
