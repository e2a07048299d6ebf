package dev.grange.node.buildlet;

import dev.grange.protocol.wire.DataFrame;
import dev.grange.protocol.wire.Frame;
import dev.grange.protocol.wire.Limits;
import dev.grange.protocol.wire.StreamKind;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * An archive file that a {@link BuildletSession} sends to the agent on one stream (PROTOCOL.md
 * section 2): never more bytes in flight than the agent granted, then {@code end} with the count
 * and sha256. The session's actor owns the bookkeeping ({@link #credit}, {@link #frame}); only
 * {@link #read} blocks, and it runs on the blocking dispatcher while {@link #reading} is set, so
 * at most one read is outstanding.
 */
final class OutgoingArchive implements AutoCloseable {
  final int stream;
  private final FileChannel channel;
  private final MessageDigest sha256;
  private long credit = Limits.INITIAL_CREDIT;
  private long sent;
  private boolean reading;
  private boolean ended;

  OutgoingArchive(int stream, Path file) throws IOException {
    this.stream = stream;
    this.channel = FileChannel.open(file);
    try {
      this.sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      channel.close();
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  /** The agent granted more credit. */
  void credit(long bytes) {
    credit += bytes;
  }

  /**
   * How many bytes to read next, or 0 when nothing may be read now (a read is outstanding, the
   * credit is used up, or the end was sent). A positive answer marks a read outstanding.
   */
  int nextRead() {
    if (reading || ended) {
      return 0;
    }
    int want = (int) Math.min(credit, Limits.MAX_PAYLOAD_BYTES);
    if (want > 0) {
      reading = true;
    }
    return want;
  }

  /** Blocking: the next at most {@code want} bytes of the file; empty at its end. */
  byte[] read(int want) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(want);
    int n = channel.read(buf);
    if (n <= 0) {
      return new byte[0];
    }
    byte[] b = new byte[n];
    buf.flip();
    buf.get(b);
    return b;
  }

  /** The binary frame for bytes just read, counted as sent. */
  byte[] frame(byte[] bytes) {
    reading = false;
    sha256.update(bytes);
    byte[] f = DataFrame.encode(stream, StreamKind.DATA, sent, bytes, 0, bytes.length);
    sent += bytes.length;
    credit -= bytes.length;
    return f;
  }

  /** The file is all sent: the {@code end} frame with the byte count and digest. */
  Frame.End end() {
    reading = false;
    ended = true;
    return new Frame.End(stream, sent, HexFormat.of().formatHex(sha256.digest()));
  }

  /** A read failed: no further reads. */
  void failed() {
    reading = false;
    ended = true;
  }

  @Override
  public void close() {
    try {
      channel.close();
    } catch (IOException ignored) {
      // The file is a read-only cache entry: nothing to undo.
    }
  }
}
