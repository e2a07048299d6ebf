package dev.grange.node.buildlet;

import dev.grange.protocol.wire.Limits;
import dev.grange.protocol.wire.ProtocolException;
import java.util.TreeMap;

/**
 * The receiving side of one execution's output stream: offsets, credit and what is stored.
 * Pure bookkeeping, kept apart from {@link BuildletSession} so its rules are unit-tested:
 * frames must arrive in offset order and within the granted credit; credit is granted back
 * only for bytes the log store has taken, so a slow store slows the agent instead of filling
 * the node's memory.
 */
final class ExecOutput {
  /** Grant credit back in batches of at least this many bytes. */
  static final long CREDIT_BATCH = 256 << 10;
  /** Tell the listener how much is stored at least this often (bytes). */
  static final long PROGRESS_EVERY = 4 << 20;

  final String buildId;
  final int attempt;
  final int step;
  final String execId;
  final int stream;
  private long next; // the offset the next frame must start at
  private long granted; // total bytes the agent may have sent on this stream
  private long received; // total bytes received on this stream
  private long stored; // contiguous stored end
  private long reported; // last stored end reported to the listener
  private long creditOwed; // stored bytes not yet granted back
  private final TreeMap<Long, Long> storedOutOfOrder = new TreeMap<>();

  ExecOutput(String buildId, int attempt, int step, String execId, int stream, long fromOffset) {
    this.buildId = buildId;
    this.attempt = attempt;
    this.step = step;
    this.execId = execId;
    this.stream = stream;
    this.next = fromOffset;
    this.stored = fromOffset;
    this.reported = fromOffset;
    this.granted = Limits.INITIAL_CREDIT;
  }

  /** Accepts a frame's place in the stream, or says why it breaks the rules. */
  void accept(long offset, int length) {
    if (offset != next) {
      throw new ProtocolException(
          "output of exec " + execId + " jumped to offset " + offset + ", expected " + next);
    }
    if (received + length > granted) {
      throw new ProtocolException(
          "output of exec " + execId + " went over its credit (" + (received + length) + " > " + granted + ")");
    }
    received += length;
    next += length;
  }

  /** Marks [offset, offset+length) stored; returns credit to grant now (0 for none yet). */
  long stored(long offset, int length) {
    storedOutOfOrder.put(offset, offset + length);
    while (!storedOutOfOrder.isEmpty() && storedOutOfOrder.firstKey() <= stored) {
      long end = storedOutOfOrder.pollFirstEntry().getValue();
      if (end > stored) {
        creditOwed += end - stored;
        stored = end;
      }
    }
    if (creditOwed >= CREDIT_BATCH) {
      long c = creditOwed;
      granted += c;
      creditOwed = 0;
      return c;
    }
    return 0;
  }

  /** True when a progress report is due. */
  boolean progressDue() {
    return stored - reported >= PROGRESS_EVERY;
  }

  long markReported() {
    reported = stored;
    return stored;
  }

  long storedEnd() {
    return stored;
  }

  long receivedEnd() {
    return next;
  }

  boolean allStored() {
    return stored == next;
  }
}
