package dev.grange.bench.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class LogCheckTest {
  private static final List<String> WANT = List.of("a 1", "a 2", "err 2", "a 3");

  private static LogCheck check(String log) {
    return LogCheck.of(log.getBytes(StandardCharsets.UTF_8), WANT);
  }

  @Test
  void theWholeLogInAnyInterleavingIsClean() {
    assertTrue(check("a 1\na 2\nerr 2\na 3\n").clean());
    assertTrue(check("a 1\nerr 2\na 2\na 3\n").clean());
  }

  @Test
  void missingLinesCountAsLostWithTheirNewline() {
    assertEquals(new LogCheck(10, 0), check("a 1\na 3\n")); // "a 2" and "err 2"
    assertEquals(new LogCheck(18, 0), check(""));
  }

  @Test
  void repeatedAndSplicedLinesCountAsDuplicated() {
    assertEquals(new LogCheck(0, 4), check("a 1\na 2\na 2\nerr 2\na 3\n"));
    // Two lines spliced: both are lost, and the splice is bytes nobody wrote.
    assertEquals(new LogCheck(10, 8), check("a 1\na err 2\na 3\n"));
  }
}
