package dev.grange.agent.exec;

import dev.grange.protocol.wire.StreamKind;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An execution's merged output on disk, outside the workdir: stdout and stderr appended in the
 * order they were read, numbered by one offset sequence (PROTOCOL.md section 3), with the kind
 * of every byte remembered. Output is kept here, not in memory, so that it survives a lost
 * socket for as long as the grace lasts, can be sent again from any offset ({@code resume}), and
 * can be sent only as fast as the node's credit allows.
 *
 * <p>Kept in segment files of {@link #segmentBytes} each; {@link #dropBelow} deletes whole
 * segments the node has persisted ({@code ack}), which bounds the disk a long, chatty build
 * uses. Thread-safe: two pipe readers append, one sender reads.
 */
public final class OutputSpool implements Closeable {
  /** A run of bytes of one kind, read back from the spool. */
  public record Chunk(StreamKind kind, long offset, byte[] bytes) {}

  private record Segment(long start, Path file, FileChannel channel) {}

  private final Path dir;
  private final long segmentBytes;
  private final List<Segment> segments = new ArrayList<>();
  /** Start offset of each run of one kind -> that kind. */
  private final TreeMap<Long, StreamKind> kinds = new TreeMap<>();
  private long size;
  private long dropped;
  private boolean sealed;
  private Runnable onAppend = () -> {};

  public OutputSpool(Path dir, long segmentBytes) throws IOException {
    this.dir = Files.createDirectories(dir);
    this.segmentBytes = segmentBytes;
  }

  /** Called (outside the spool's lock) after every append: the sender's wake-up. */
  public synchronized void onAppend(Runnable r) {
    onAppend = r;
  }

  /**
   * Appends output. Returns false, dropping it, once the spool is {@link #seal() sealed}: output
   * that arrives after the exit was decided is not part of the execution's output.
   */
  public boolean append(StreamKind kind, byte[] b, int off, int len) throws IOException {
    Runnable wake;
    synchronized (this) {
      if (sealed) {
        return false;
      }
      if (len == 0) {
        return true;
      }
      Map.Entry<Long, StreamKind> last = kinds.lastEntry();
      if (last == null || last.getValue() != kind) {
        kinds.put(size, kind);
      }
      int written = 0;
      while (written < len) {
        Segment seg = current();
        long room = seg.start + segmentBytes - size;
        int n = (int) Math.min(room, len - written);
        ByteBuffer buf = ByteBuffer.wrap(b, off + written, n);
        while (buf.hasRemaining()) {
          seg.channel.write(buf, size - seg.start + (n - buf.remaining()));
        }
        size += n;
        written += n;
      }
      wake = onAppend;
    }
    wake.run();
    return true;
  }

  /** No more appends: the execution's output is complete at {@link #size()}. */
  public synchronized void seal() {
    sealed = true;
  }

  /** The offset after the last byte: the output's length so far. */
  public synchronized long size() {
    return size;
  }

  /** The first offset still on disk. */
  public synchronized long firstRetained() {
    return dropped;
  }

  /**
   * Up to {@code max} bytes from {@code offset}, all of one kind (a chunk ends where the kind
   * changes), or null when nothing is there yet.
   *
   * @throws IOException when {@code offset} was already dropped
   */
  public synchronized Chunk read(long offset, int max) throws IOException {
    if (offset < dropped) {
      throw new IOException("output below offset " + dropped + " was dropped after the node acknowledged it");
    }
    if (offset >= size) {
      return null;
    }
    Map.Entry<Long, StreamKind> run = kinds.floorEntry(offset);
    Long nextRun = kinds.higherKey(offset);
    long end = Math.min(size, nextRun == null ? Long.MAX_VALUE : nextRun);
    int n = (int) Math.min(max, end - offset);
    byte[] out = new byte[n];
    int got = 0;
    while (got < n) {
      Segment seg = segmentAt(offset + got);
      int take = (int) Math.min(n - got, seg.start + segmentBytes - (offset + got));
      ByteBuffer buf = ByteBuffer.wrap(out, got, take);
      long pos = offset + got - seg.start;
      while (buf.hasRemaining()) {
        int r = seg.channel.read(buf, pos + (take - buf.remaining()));
        if (r < 0) {
          throw new IOException("spool segment " + seg.file + " is shorter than expected");
        }
      }
      got += take;
    }
    return new Chunk(run.getValue(), offset, out);
  }

  /** Deletes the segments wholly below {@code offset} (never the one being written). */
  public synchronized void dropBelow(long offset) throws IOException {
    long limit = Math.min(offset, size);
    while (segments.size() > 1 && segments.get(0).start + segmentBytes <= limit) {
      Segment seg = segments.remove(0);
      seg.channel.close();
      Files.deleteIfExists(seg.file);
      dropped = seg.start + segmentBytes;
    }
    // Forget kind runs wholly below what is kept, keeping the one covering `dropped`.
    Long floor = kinds.floorKey(dropped);
    if (floor != null) {
      kinds.headMap(floor, false).clear();
    }
  }

  /** Deletes the spool. */
  @Override
  public synchronized void close() {
    sealed = true;
    for (Segment seg : segments) {
      try {
        seg.channel.close();
        Files.deleteIfExists(seg.file);
      } catch (IOException ignored) {
        // The spool dir is cleaned at the next start.
      }
    }
    segments.clear();
    try {
      Files.deleteIfExists(dir);
    } catch (IOException ignored) {
      // Same.
    }
  }

  private Segment current() throws IOException {
    Segment last = segments.isEmpty() ? null : segments.get(segments.size() - 1);
    if (last != null && size < last.start + segmentBytes) {
      return last;
    }
    long start = size;
    Path file = dir.resolve(String.format("%020d.seg", start));
    FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
    Segment seg = new Segment(start, file, ch);
    segments.add(seg);
    return seg;
  }

  private Segment segmentAt(long offset) {
    int idx = (int) ((offset - segments.get(0).start) / segmentBytes);
    return segments.get(idx);
  }
}
