package dev.grange.agent.channel;

import dev.grange.protocol.wire.DataFrame;
import dev.grange.protocol.wire.ErrorCode;
import dev.grange.protocol.wire.Frame;
import dev.grange.protocol.wire.Limits;
import dev.grange.protocol.wire.ProtocolException;
import dev.grange.protocol.wire.StreamKind;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * A stream the node sends on (put_tar, write_file), read as an {@link InputStream} by the worker
 * that consumes it. The socket's listener {@link #offer}s each binary frame; the reader grants
 * credit back as it consumes, so at most the granted credit is ever buffered here and a slow
 * disk slows the node down instead of filling memory (PROTOCOL.md section 2).
 *
 * <p>A frame over the credit left, out of order, or of another kind than data is a protocol
 * violation: {@link #offer} throws and the session closes the socket with 1008. The node's
 * {@code end} ends the stream; {@link #verifyEnd()} then checks its count and digest.
 */
public final class InboundStream extends InputStream {
  /** Credit is given back in steps of this size, not per frame, to keep credit frames few. */
  static final long GRANT_STEP = 256 << 10;

  private sealed interface Item permits Data, EndMark, Abort {}

  private record Data(byte[] bytes) implements Item {}

  private record EndMark(Frame.End end) implements Item {}

  private record Abort(String why) implements Item {}

  private final int stream;
  private final LongConsumer granter;
  private final LinkedBlockingQueue<Item> queue = new LinkedBlockingQueue<>();
  private final AtomicLong creditLeft = new AtomicLong(Limits.INITIAL_CREDIT);
  private final MessageDigest sha256;

  // Listener side.
  private long received;

  // Reader side.
  private byte[] current;
  private int pos;
  private long consumed;
  private long ungranted;
  private Frame.End end;
  private String aborted;

  /**
   * @param granter sends a {@code credit} frame for this many bytes
   */
  public InboundStream(int stream, LongConsumer granter) {
    this.stream = stream;
    this.granter = granter;
    try {
      this.sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  public int stream() {
    return stream;
  }

  /** Takes one binary frame from the listener. */
  public void offer(DataFrame frame) {
    if (frame.kind() != StreamKind.DATA) {
      throw new ProtocolException(
          "binary frame of kind " + frame.kind() + " on incoming stream " + stream + " (expected data)");
    }
    if (frame.offset() != received) {
      throw new ProtocolException(
          "binary frame on stream " + stream + " at offset " + frame.offset() + ", expected " + received);
    }
    int len = frame.payload().length;
    if (len > creditLeft.get()) {
      throw new ProtocolException(
          "binary frame of " + len + " bytes on stream " + stream + " is over its credit of " + creditLeft.get());
    }
    creditLeft.addAndGet(-len);
    received += len;
    if (len > 0) {
      queue.add(new Data(frame.payload()));
    }
  }

  /** The node's {@code end}: everything offered before it is the whole stream. */
  public void end(Frame.End e) {
    queue.add(new EndMark(e));
  }

  /** The socket is gone: the reader gets an {@link IOException}. */
  public void abort(String why) {
    queue.add(new Abort(why));
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (len == 0) {
      return 0;
    }
    if (!fill()) {
      return -1;
    }
    int n = Math.min(len, current.length - pos);
    System.arraycopy(current, pos, b, off, n);
    sha256.update(current, pos, n);
    pos += n;
    consumed += n;
    ungranted += n;
    if (ungranted >= GRANT_STEP || (pos == current.length && queue.isEmpty())) {
      grant();
    }
    return n;
  }

  /** Reads and drops the rest of the stream (still granting credit) until the node's end. */
  public long skipToEnd() throws IOException {
    long skipped = 0;
    byte[] buf = new byte[64 << 10];
    int n;
    while ((n = read(buf, 0, buf.length)) >= 0) {
      skipped += n;
    }
    return skipped;
  }

  /** Bytes read so far. */
  public long consumed() {
    return consumed;
  }

  /**
   * After the reader saw the end: checks the node's count and SHA-256 against what arrived.
   *
   * @throws OpException io_error when they differ (the caller then changes nothing)
   */
  public void verifyEnd() throws OpException {
    if (end == null) {
      throw new IllegalStateException("stream " + stream + " has not ended");
    }
    String got = HexFormat.of().formatHex(sha256.digest());
    if (end.bytes() != consumed || !end.sha256().equals(got)) {
      throw new OpException(
          ErrorCode.IO_ERROR,
          "stream " + stream + " ended with " + end.bytes() + " bytes, sha256 " + end.sha256()
              + ", but the agent received " + consumed + " bytes, sha256 " + got
              + "; nothing was changed, send it again");
    }
  }

  private boolean fill() throws IOException {
    if (current != null && pos < current.length) {
      return true;
    }
    if (end != null) {
      return false;
    }
    if (aborted != null) {
      throw new IOException(aborted);
    }
    Item item;
    try {
      item = queue.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while reading stream " + stream);
    }
    if (item instanceof Data d) {
      current = d.bytes();
      pos = 0;
      return true;
    }
    if (item instanceof EndMark m) {
      end = m.end();
      return false;
    }
    aborted = "stream " + stream + " aborted: " + ((Abort) item).why();
    throw new IOException(aborted);
  }

  private void grant() {
    long n = ungranted;
    ungranted = 0;
    // Raise our own bound before the node can see the credit, or its next frame could look
    // like a violation.
    creditLeft.addAndGet(n);
    granter.accept(n);
  }
}
