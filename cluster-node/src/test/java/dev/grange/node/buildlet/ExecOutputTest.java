package dev.grange.node.buildlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grange.protocol.wire.Limits;
import dev.grange.protocol.wire.ProtocolException;
import org.junit.jupiter.api.Test;

/**
 * The node's side of one execution's output stream: frames in offset order within credit,
 * credit granted back only for what the log store holds, so a slow store slows the agent and
 * never fills the node's memory; and an agent that breaks those rules is caught.
 */
class ExecOutputTest {
  private static final int K = 1024;

  private ExecOutput fresh() {
    return new ExecOutput("b1", 1, 0, "e1", 7, 0);
  }

  @Test
  void aFrameThatSkipsOrRepeatsBytesIsAProtocolViolation() {
    ExecOutput o = fresh();
    o.accept(0, 100);
    ProtocolException gap = assertThrows(ProtocolException.class, () -> o.accept(150, 10));
    assertTrue(gap.getMessage().contains("offset 150, expected 100"), gap.getMessage());
    assertThrows(ProtocolException.class, () -> o.accept(50, 10));
    o.accept(100, 10);
    assertEquals(110, o.receivedEnd());
  }

  @Test
  void outputBeyondTheInitialCreditIsAProtocolViolation() {
    ExecOutput o = fresh();
    o.accept(0, (int) Limits.INITIAL_CREDIT - 1);
    o.accept(Limits.INITIAL_CREDIT - 1, 1);
    ProtocolException e = assertThrows(ProtocolException.class, () -> o.accept(Limits.INITIAL_CREDIT, 1));
    assertTrue(e.getMessage().contains("over its credit"), e.getMessage());
  }

  @Test
  void creditComesBackOnlyForStoredBytesInBatches() {
    ExecOutput o = fresh();
    o.accept(0, 64 * K);
    assertEquals(0, o.stored(0, 64 * K), "under a batch: nothing granted yet");
    o.accept(64 * K, 200 * K);
    long c = o.stored(64 * K, 200 * K);
    assertEquals(264 * K, c, "a batch is due: all stored bytes not yet granted");
    // The agent may now send the initial credit plus what came back, and no more.
    long room = Limits.INITIAL_CREDIT + c - o.receivedEnd();
    o.accept(o.receivedEnd(), (int) room);
    assertThrows(ProtocolException.class, () -> o.accept(o.receivedEnd(), 1));
  }

  @Test
  void chunksStoredOutOfOrderAdvanceTheStoredEndOnlyWhenContiguous() {
    ExecOutput o = fresh();
    o.accept(0, 100);
    o.accept(100, 100);
    o.accept(200, 100);
    o.stored(200, 100);
    o.stored(100, 100);
    assertEquals(0, o.storedEnd(), "the first chunk is not stored yet");
    assertFalse(o.allStored());
    o.stored(0, 100);
    assertEquals(300, o.storedEnd());
    assertTrue(o.allStored());
  }

  @Test
  void progressIsReportedEveryFewMegabytesStored() {
    ExecOutput o = fresh();
    long at = 0;
    int reports = 0;
    while (at < 3 * ExecOutput.PROGRESS_EVERY) {
      int n = 256 * K;
      o.accept(at, n);
      o.stored(at, n);
      at += n;
      if (o.progressDue()) {
        assertEquals(at, o.markReported());
        reports++;
      }
    }
    assertEquals(3, reports);
    assertFalse(o.progressDue());
  }

  @Test
  void aResumedStreamStartsAtItsOffset() {
    ExecOutput o = new ExecOutput("b1", 2, 0, "e1", 9, 5000);
    assertThrows(ProtocolException.class, () -> o.accept(0, 10));
    o.accept(5000, 10);
    o.stored(5000, 10);
    assertEquals(5010, o.storedEnd());
  }
}
