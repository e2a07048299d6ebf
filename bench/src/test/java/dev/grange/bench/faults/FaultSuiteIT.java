package dev.grange.bench.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The fault suite at CI sizes ({@code bench/faults --quick}), on real processes: every scenario of
 * the table loses no build and no log byte, duplicates none, retries nothing for a short cut and
 * exactly once for a long one.
 */
class FaultSuiteIT {
  @Test
  void everyFaultCostsNoBuildAndNoLogByte() throws Exception {
    FaultsMain.Options o = FaultsMain.Options.parse(new String[] {"--quick", "--root", ".."});
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(new TeeStream(buf, System.out), true, StandardCharsets.UTF_8);
    boolean ok = FaultsMain.run(o, out);
    String printed = buf.toString(StandardCharsets.UTF_8);
    assertTrue(ok, printed);
    List<String> scenarios = List.of("kill -9 one of 3 nodes", "kill -9 an agent", "< grace", "> grace", "stop Cassandra", "rolling restart");
    for (String s : scenarios) {
      assertTrue(printed.contains(s), "no row for " + s + " in\n" + printed);
    }
    assertEquals(-1, printed.indexOf("GOAL MISSED"), printed);
  }

  /** Prints to the test's output as it goes and keeps a copy. */
  private static final class TeeStream extends java.io.OutputStream {
    private final java.io.OutputStream a;
    private final java.io.OutputStream b;

    TeeStream(java.io.OutputStream a, java.io.OutputStream b) {
      this.a = a;
      this.b = b;
    }

    @Override
    public void write(int c) throws java.io.IOException {
      a.write(c);
      b.write(c);
    }

    @Override
    public void write(byte[] bs, int off, int len) throws java.io.IOException {
      a.write(bs, off, len);
      b.write(bs, off, len);
    }
  }
}
