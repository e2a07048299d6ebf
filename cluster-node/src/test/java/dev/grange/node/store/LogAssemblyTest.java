package dev.grange.node.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LogAssemblyTest {
  private static final byte[] STREAM = "0123456789abcdefghijklmnopqrstuvwxyz".getBytes(StandardCharsets.US_ASCII);

  /** A chunk of STREAM: [from, to). */
  private static LogStore.LogChunk c(int from, int to) {
    return new LogStore.LogChunk(from, 1, Arrays.copyOfRange(STREAM, from, to));
  }

  private static String text(List<LogStore.LogChunk> pieces) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    long pos = -1;
    for (LogStore.LogChunk p : pieces) {
      if (pos >= 0) {
        assertEquals(pos, p.offset(), "pieces are contiguous and do not overlap: " + pieces);
      }
      out.writeBytes(p.data());
      pos = p.end();
    }
    return out.toString(StandardCharsets.US_ASCII);
  }

  private static String expected(int from, int to) {
    return new String(STREAM, from, to - from, StandardCharsets.US_ASCII);
  }

  @Test
  void disjointChunksInOrderComeOutAsTheyAre() {
    List<LogStore.LogChunk> out = LogAssembly.contiguous(List.of(c(0, 10), c(10, 20), c(20, 36)), 0, 1000);
    assertEquals(expected(0, 36), text(out));
    assertEquals(3, out.size());
  }

  @Test
  void aResumeBelowTheStoredEndWithOtherBoundariesGivesEachByteOnce() {
    // First connection stored [0,10) [10,20); the resume starts at 5 with chunks of 7.
    List<LogStore.LogChunk> stored = List.of(c(0, 10), c(10, 20), c(5, 12), c(12, 19), c(19, 26), c(26, 33), c(33, 36));
    for (int from = 0; from <= 36; from++) {
      assertEquals(expected(from, 36), text(LogAssembly.contiguous(stored, from, 1000)), "from " + from);
    }
  }

  @Test
  void exactDuplicatesCountOnce() {
    List<LogStore.LogChunk> stored = List.of(c(0, 8), c(0, 8), c(8, 16), c(8, 16), c(8, 16));
    assertEquals(expected(0, 16), text(LogAssembly.contiguous(stored, 0, 1000)));
    assertEquals(expected(3, 16), text(LogAssembly.contiguous(stored, 3, 1000)));
  }

  @Test
  void aChunkInsideAnotherAddsNothing() {
    List<LogStore.LogChunk> stored = List.of(c(4, 6), c(0, 20), c(10, 12), c(0, 3));
    assertEquals(expected(0, 20), text(LogAssembly.contiguous(stored, 0, 1000)));
    assertEquals(1, LogAssembly.contiguous(stored, 0, 1000).size(), "the longest chunk covers it all");
  }

  @Test
  void outOfOrderOverlappingChunksComeOutInOrder() {
    List<LogStore.LogChunk> stored = new ArrayList<>(List.of(c(30, 36), c(0, 10), c(25, 31), c(9, 18), c(17, 26), c(5, 7)));
    Collections.reverse(stored);
    assertEquals(expected(0, 36), text(LogAssembly.contiguous(stored, 0, 1000)));
    assertEquals(expected(26, 36), text(LogAssembly.contiguous(stored, 26, 1000)));
  }

  @Test
  void stopsAtAGapAndAtTheEnd() {
    List<LogStore.LogChunk> stored = List.of(c(0, 10), c(5, 12), c(15, 20));
    assertEquals(expected(0, 12), text(LogAssembly.contiguous(stored, 0, 1000)), "bytes after a gap are not stored yet");
    assertEquals(expected(15, 20), text(LogAssembly.contiguous(stored, 15, 1000)));
    assertTrue(LogAssembly.contiguous(stored, 12, 1000).isEmpty(), "nothing stored at 12");
    assertTrue(LogAssembly.contiguous(stored, 20, 1000).isEmpty(), "nothing after the end");
    assertTrue(LogAssembly.contiguous(List.of(), 0, 1000).isEmpty());
  }

  @Test
  void maxBytesCutsThePieceAndTheNextReadGoesOnExactly() {
    List<LogStore.LogChunk> stored = List.of(c(0, 10), c(3, 20), c(20, 36));
    StringBuilder all = new StringBuilder();
    long pos = 0;
    int reads = 0;
    while (true) {
      List<LogStore.LogChunk> out = LogAssembly.contiguous(stored, pos, 7);
      if (out.isEmpty()) {
        break;
      }
      String t = text(out);
      assertTrue(t.length() <= 7, t);
      all.append(t);
      pos = out.get(out.size() - 1).end();
      reads++;
    }
    assertEquals(expected(0, 36), all.toString());
    assertEquals(6, reads);
  }

  @Test
  void randomResumesAndShufflesNeverLoseOrRepeatAByte() {
    Random r = new Random(42);
    byte[] stream = new byte[5000];
    r.nextBytes(stream);
    for (int round = 0; round < 200; round++) {
      List<LogStore.LogChunk> stored = new ArrayList<>();
      int resumes = 1 + r.nextInt(4);
      for (int k = 0; k < resumes; k++) {
        // Each connection writes from some offset (the first from 0) to the end in chunks of its own size.
        int at = k == 0 ? 0 : r.nextInt(stream.length);
        while (at < stream.length) {
          int len = Math.min(stream.length - at, 1 + r.nextInt(700));
          stored.add(new LogStore.LogChunk(at, 1, Arrays.copyOfRange(stream, at, at + len)));
          at += len;
        }
      }
      Collections.shuffle(stored, r);
      int from = r.nextInt(stream.length + 1);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      long pos = from;
      while (true) {
        List<LogStore.LogChunk> got = LogAssembly.contiguous(stored, pos, 1 + r.nextInt(3000));
        if (got.isEmpty()) {
          break;
        }
        assertEquals(pos, got.get(0).offset());
        text(got);
        got.forEach(p -> out.writeBytes(p.data()));
        pos = got.get(got.size() - 1).end();
      }
      assertArrayEquals(Arrays.copyOfRange(stream, from, stream.length), out.toByteArray(), "round " + round + " from " + from);
    }
  }

  @Test
  void badArgumentsAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> LogAssembly.contiguous(List.of(), -1, 10));
    assertThrows(IllegalArgumentException.class, () -> LogAssembly.contiguous(List.of(), 0, 0));
  }
}
