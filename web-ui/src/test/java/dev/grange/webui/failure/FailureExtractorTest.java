package dev.grange.webui.failure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The failures found in real build.golang.org logs, against the failures golang/build's own log
 * parser expects of them ({@code shared/data/golang-build/logparser/N.log} and {@code N.fail}),
 * compared byte for byte in that format; and the log line numbers a page marks.
 */
class FailureExtractorTest {

  static Stream<Path> logs() throws IOException {
    List<Path> logs;
    try (Stream<Path> s = Files.list(SharedData.dir("golang-build/logparser"))) {
      logs = s.filter(p -> p.getFileName().toString().endsWith(".log")).sorted().toList();
    }
    assertEquals(18, logs.size(), "golden logs in " + SharedData.dir("golang-build/logparser"));
    return logs.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("logs")
  void findsTheFailuresGolangBuildExpects(Path log) throws IOException {
    String text = Files.readString(log, StandardCharsets.UTF_8);
    Path fail = log.resolveSibling(log.getFileName().toString().replace(".log", ".fail"));
    String want = Files.readString(fail, StandardCharsets.UTF_8);
    assertEquals(want, format(FailureExtractor.extract(text)), log.getFileName().toString());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("logs")
  void everyLineOfAFailureIsTheLogLineItSaysItIs(Path log) throws IOException {
    List<String> lines = Files.readString(log, StandardCharsets.UTF_8).replace("\r", "").lines().toList();
    for (Failure f : FailureExtractor.extract(Files.readString(log, StandardCharsets.UTF_8))) {
      List<String> out = f.output().lines().toList();
      assertEquals(out.size(), f.outputLines().size(), "one number per output line");
      for (int i = 0; i < out.size(); i++) {
        int n = f.outputLines().get(i);
        String logLine = lines.get(n - 1);
        assertEquals(out.get(i).isEmpty() ? "" : out.get(i), logLine.isBlank() ? "" : logLine, "line " + n);
      }
      List<String> snippet = f.snippet().lines().toList();
      assertEquals(snippet.size(), f.snippetLines().size());
      for (int i = 0; i < snippet.size(); i++) {
        int n = f.snippetLines().get(i);
        if (n > 0) {
          assertEquals(snippet.get(i), lines.get(n - 1).isBlank() ? "" : lines.get(n - 1), "snippet line " + n);
        } else {
          assertTrue(snippet.get(i).equals("...") || snippet.get(i).isEmpty(), "added line: " + snippet.get(i));
        }
      }
    }
  }

  @Test
  void aTestFailureNamesItsPackageTestAndLines() {
    String log = """
        linux-amd64 at 0123abc
        ##### Testing packages.
        ok  \tstrings\t0.1s
        === RUN   TestGood
        --- PASS: TestGood (0.00s)
        === RUN   TestBad
            bad_test.go:12: want 1, got 2
        --- FAIL: TestBad (0.00s)
        FAIL
        FAIL\texample.com/m/bad\t0.2s
        ok  \texample.com/m/good\t0.1s
        """;
    List<Failure> fs = FailureExtractor.extract(log);
    assertEquals(1, fs.size());
    Failure f = fs.get(0);
    assertEquals("Testing packages.", f.section());
    assertEquals("example.com/m/bad", f.pkg());
    assertEquals("TestBad", f.test());
    assertEquals("test", f.mode());
    assertEquals("example.com/m/bad TestBad", f.title());
    assertEquals(List.of(4, 5, 6, 7, 8), f.outputLines());
    assertEquals(List.of(new int[] {4, 8}[0]), List.of(Failure.ranges(f.outputLines()).get(0)[0]));
    assertEquals(8, Failure.ranges(f.outputLines()).get(0)[1]);
  }

  @Test
  void aLogWithNoGoVerdictGivesItsLastLinesAsOneFailure() {
    String log = "+ make\ncc -c a.c\nMakefile:3: recipe for target 'a.o' failed\nmake: *** [a.o] Error 1\n\n";
    List<Failure> fs = FailureExtractor.extract(log);
    assertEquals(1, fs.size());
    assertEquals("", fs.get(0).mode());
    assertEquals("+ make\ncc -c a.c\nMakefile:3: recipe for target 'a.o' failed\nmake: *** [a.o] Error 1\n", fs.get(0).output());
    assertEquals("the build", fs.get(0).title());
    assertEquals(List.of(1, 2, 3, 4), fs.get(0).snippetLines());
  }

  @Test
  void aFirstLineThatIsNotTheDashboardHeaderIsOutput() {
    List<Failure> fs = FailureExtractor.extract("error at line 3 of build.xml\n");
    assertEquals("error at line 3 of build.xml\n", fs.get(0).output());
    assertEquals("", FailureExtractor.extract("linux-amd64 at 0123abcd building tools at 89abcdef01\n").get(0).output());
  }

  @Test
  void anEmptyLogGivesOneEmptyFailure() {
    List<Failure> fs = FailureExtractor.extract("");
    assertEquals(1, fs.size());
    assertEquals("", fs.get(0).output());
    assertTrue(fs.get(0).outputLines().isEmpty());
  }

  @Test
  void rangesJoinAdjacentLinesAndSkipAddedOnes() {
    List<int[]> r = Failure.ranges(List.of(3, 4, 5, 0, 9, 10, 20));
    assertEquals(3, r.size());
    assertEquals("3-5 9-10 20-20", r.stream().map(a -> a[0] + "-" + a[1]).reduce((a, b) -> a + " " + b).orElseThrow());
    assertFalse(Failure.ranges(List.of()).iterator().hasNext());
  }

  @Test
  void goQuotedArgumentsAreUnquoted() {
    assertEquals("a\tb \"c\" é\\q", GoText.unquote("\"a\\tb \\\"c\\\" \\u00e9\\\\q\""));
    assertEquals("A", GoText.unquote("\"\\x41\""));
    assertEquals("A", GoText.unquote("\"\\101\""));
  }

  /** golang/build's golden format: Go-quoted fields, then Snippet and Output indented with a tab. */
  static String format(List<Failure> fails) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < fails.size(); i++) {
      Failure f = fails.get(i);
      if (i > 0) {
        b.append("---\n");
      }
      b.append("Section: ").append(quote(f.section())).append('\n');
      b.append("Pkg: ").append(quote(f.pkg())).append('\n');
      b.append("Test: ").append(quote(f.test())).append('\n');
      b.append("Mode: ").append(quote(f.mode())).append('\n');
      b.append("Snippet:\n").append(indent(f.snippet()));
      b.append("Output:\n").append(indent(f.output()));
    }
    return b.toString();
  }

  private static String indent(String s) {
    String t = s.replaceAll("\n+$", "");
    if (t.isEmpty()) {
      return "";
    }
    return ("\t" + t.replace("\n", "\n\t") + "\n").replace("\t\n", "\n");
  }

  /** Go's %q for the printable text these logs hold. */
  private static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    s.codePoints().forEach(c -> {
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\t' -> b.append("\\t");
        case '\r' -> b.append("\\r");
        default -> {
          if (c < 0x20 || c == 0x7F) {
            b.append(String.format("\\x%02x", c));
          } else {
            b.appendCodePoint(c);
          }
        }
      }
    });
    return b.append('"').toString();
  }
}
