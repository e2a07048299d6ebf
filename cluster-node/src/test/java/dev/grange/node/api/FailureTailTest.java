package dev.grange.node.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;

/** The failure route reads a long log's end: from a whole line, with the lines before it counted. */
class FailureTailTest {

  private static ByteString b(String s) {
    return ByteString.fromString(s, StandardCharsets.UTF_8);
  }

  @Test
  void aShortLogIsKeptWhole() {
    FailureRoute.Tail t = new FailureRoute.Tail(100).add(b("one\ntw")).add(b("o\nthree\n"));
    assertTrue(t.whole());
    assertEquals(0, t.linesBefore());
    assertEquals("one\ntwo\nthree\n", t.text());
  }

  @Test
  void aLongLogKeepsItsEndFromAWholeLineAndCountsTheLinesBefore() {
    FailureRoute.Tail t = new FailureRoute.Tail(12);
    t.add(b("l1\nl2\n")).add(b("l3\nl4")).add(b("x\nl5\n")).add(b("l6\nl7\n"));
    // kept chunks: "l3\nl4", "x\nl5\n", "l6\nl7\n" (12 bytes and more would drop l3's chunk)
    assertEquals(false, t.whole());
    assertEquals("l4x\nl5\nl6\nl7\n", t.text());
    // lines before "l4x": l1, l2 (dropped chunk) and l3 (cut at the first newline)
    assertEquals(3, t.linesBefore());
  }
}
