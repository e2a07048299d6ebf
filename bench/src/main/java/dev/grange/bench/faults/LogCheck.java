package dev.grange.bench.faults;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How a build's stored log differs from what its command wrote: the bytes of expected lines that
 * are missing, and the bytes that are there more than once or were never written (a line
 * repeated, or two lines spliced by a bad resume). Lines are compared as a multiset, since the
 * agent interleaves stdout and stderr as they come.
 */
record LogCheck(long lostBytes, long duplicatedBytes) {
  static LogCheck of(byte[] log, List<String> expected) {
    Map<String, Integer> want = new HashMap<>();
    for (String l : expected) {
      want.merge(l, 1, Integer::sum);
    }
    long extra = 0;
    String text = new String(log, StandardCharsets.UTF_8);
    int start = 0;
    while (start < text.length()) {
      int nl = text.indexOf('\n', start);
      int end = nl < 0 ? text.length() : nl;
      String line = text.substring(start, end);
      Integer n = want.get(line);
      if (n != null && n > 0) {
        want.put(line, n - 1);
      } else {
        extra += line.getBytes(StandardCharsets.UTF_8).length + (nl < 0 ? 0 : 1);
      }
      start = end + 1;
    }
    long lost = 0;
    for (Map.Entry<String, Integer> e : want.entrySet()) {
      lost += (long) e.getValue() * (e.getKey().getBytes(StandardCharsets.UTF_8).length + 1);
    }
    return new LogCheck(lost, extra);
  }

  boolean clean() {
    return lostBytes == 0 && duplicatedBytes == 0;
  }
}
