package dev.grange.node.store;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * Turns the chunks stored for one step into its byte stream from an offset, each byte once, in
 * order. A step's output is one byte stream, but after an agent resumes from an offset below what
 * was already stored, the same bytes are written again at the same offsets with other chunk
 * boundaries: stored chunks may repeat, overlap and come in any order. Pure logic, so its rules
 * are unit-tested apart from Cassandra.
 */
public final class LogAssembly {
  private LogAssembly() {}

  /**
   * The contiguous run of bytes that starts exactly at {@code from}, at most {@code maxBytes}
   * long, as non-overlapping pieces in offset order (each keeps the kind of the chunk it came
   * from). Stops at the first gap: bytes after a gap are not stored yet, as far as a reader of a
   * byte stream is concerned. Empty when nothing at {@code from} is stored.
   */
  public static List<LogStore.LogChunk> contiguous(Collection<LogStore.LogChunk> chunks, long from, long maxBytes) {
    if (from < 0) {
      throw new IllegalArgumentException("from must be >= 0, was " + from);
    }
    if (maxBytes <= 0) {
      throw new IllegalArgumentException("maxBytes must be > 0, was " + maxBytes);
    }
    List<LogStore.LogChunk> sorted = new ArrayList<>(chunks);
    // By start; of two at the same start the longer first, so fewer pieces come out.
    sorted.sort(Comparator.comparingLong(LogStore.LogChunk::offset)
        .thenComparing(Comparator.comparingLong(LogStore.LogChunk::end).reversed()));
    List<LogStore.LogChunk> out = new ArrayList<>();
    long pos = from;
    long limit = from + maxBytes;
    for (LogStore.LogChunk c : sorted) {
      if (pos >= limit) {
        break;
      }
      if (c.end() <= pos) {
        continue; // already covered (a repeat, or before from)
      }
      if (c.offset() > pos) {
        break; // a gap: every later chunk starts later still
      }
      long end = Math.min(c.end(), limit);
      int a = (int) (pos - c.offset());
      int b = (int) (end - c.offset());
      byte[] piece = a == 0 && b == c.data().length ? c.data() : Arrays.copyOfRange(c.data(), a, b);
      out.add(new LogStore.LogChunk(pos, c.kind(), piece));
      pos = end;
    }
    return out;
  }
}
