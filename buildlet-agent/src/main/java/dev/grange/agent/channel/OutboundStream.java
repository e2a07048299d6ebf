package dev.grange.agent.channel;

import dev.grange.protocol.wire.DataFrame;
import dev.grange.protocol.wire.Frame;
import dev.grange.protocol.wire.Limits;
import dev.grange.protocol.wire.StreamKind;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * A data stream the agent sends (get_tar), written as an {@link OutputStream}: bytes go out in
 * binary frames of at most {@link Limits#MAX_PAYLOAD_BYTES}, each within the credit the node
 * granted; a writer with no credit waits for it (so a slow node slows the tar walk down rather
 * than filling memory). {@link #finish()} sends {@code end} with the count and SHA-256.
 */
public final class OutboundStream extends OutputStream {
  private final SessionLink link;
  private final CreditGate credit;
  private final long creditWaitMs;
  private final MessageDigest sha256;
  private final byte[] buf = new byte[Limits.MAX_PAYLOAD_BYTES];
  private int buffered;
  private long offset;
  private boolean finished;

  /**
   * @param creditWaitMs how long to wait for credit before giving up (the node is stuck)
   */
  public OutboundStream(SessionLink link, CreditGate credit, long creditWaitMs) {
    this.link = link;
    this.credit = credit;
    this.creditWaitMs = creditWaitMs;
    try {
      this.sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void write(int b) throws IOException {
    write(new byte[] {(byte) b}, 0, 1);
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    while (len > 0) {
      int n = Math.min(len, buf.length - buffered);
      System.arraycopy(b, off, buf, buffered, n);
      buffered += n;
      off += n;
      len -= n;
      if (buffered == buf.length) {
        sendBuffered();
      }
    }
  }

  /** Bytes sent so far. */
  public long sent() {
    return offset;
  }

  /** Sends what is buffered, then {@code end}; the stream is then closed. */
  public void finish() throws IOException {
    if (finished) {
      return;
    }
    sendBuffered();
    finished = true;
    String hex = HexFormat.of().formatHex(sha256.digest());
    link.send(new Frame.End(credit.stream(), offset, hex));
    link.closeOutbound(credit);
  }

  /** Gives the stream up without {@code end} (the caller answers {@code error}). */
  public void abandon() {
    finished = true;
    link.closeOutbound(credit);
  }

  @Override
  public void close() throws IOException {
    finish();
  }

  private void sendBuffered() throws IOException {
    int pos = 0;
    while (pos < buffered) {
      if (!link.isOpen()) {
        throw new IOException("socket closed while sending stream " + credit.stream());
      }
      int n;
      try {
        n = (int) credit.take(buffered - pos, creditWaitMs);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while waiting for credit");
      }
      byte[] payload = Arrays.copyOfRange(buf, pos, pos + n);
      sha256.update(payload);
      link.send(new DataFrame(credit.stream(), StreamKind.DATA, offset, payload));
      offset += n;
      pos += n;
    }
    buffered = 0;
  }
}
