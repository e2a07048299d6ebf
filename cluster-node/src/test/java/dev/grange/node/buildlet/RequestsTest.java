package dev.grange.node.buildlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grange.protocol.wire.AgentFrame;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A session's table of unanswered requests: each answer reaches its own requester once, an
 * unknown or repeated answer is told apart, a request past its deadline is noticed (one without
 * a deadline never is), and when the session ends every requester hears why.
 */
class RequestsTest {
  private static final long SEC = 1_000_000_000L;

  @Test
  void eachAnswerReachesItsRequesterOnce() {
    Requests r = new Requests();
    List<String> got = new ArrayList<>();
    long a = r.add(0, true, f -> got.add("a:" + f), c -> got.add("lost a"));
    long b = r.add(0, true, f -> got.add("b:" + f), c -> got.add("lost b"));
    assertNotEquals(a, b);
    assertTrue(a > 0 && b > 0, "ids are positive");
    assertTrue(r.answer(AgentFrame.Ok.of(b)));
    assertFalse(r.answer(AgentFrame.Ok.of(b)), "a second answer to the same request is unknown");
    assertFalse(r.answer(AgentFrame.Ok.of(999)), "an answer to a request never sent is unknown");
    assertEquals(List.of("b:" + AgentFrame.Ok.of(b)), got);
    assertEquals(1, r.size());
  }

  @Test
  void onlyRequestsWithADeadlineCanBeOverdue() {
    Requests r = new Requests();
    r.add(0, false, f -> {}, c -> {});
    assertFalse(r.anyOverdue(3600 * SEC, Duration.ofSeconds(60)), "put_tar waits for the whole archive");
    long id = r.add(10 * SEC, true, f -> {}, c -> {});
    assertFalse(r.anyOverdue(70 * SEC, Duration.ofSeconds(60)));
    assertTrue(r.anyOverdue(71 * SEC, Duration.ofSeconds(60)));
    r.answer(AgentFrame.Ok.of(id));
    assertFalse(r.anyOverdue(3600 * SEC, Duration.ofSeconds(60)), "answered requests are not waited for");
  }

  @Test
  void whenTheSessionEndsEveryRequesterHearsWhyOnce() {
    Requests r = new Requests();
    List<String> lost = new ArrayList<>();
    r.add(0, true, f -> {}, lost::add);
    r.add(0, false, f -> {}, lost::add);
    long fresh = r.nextId();
    r.loseAll("socket closed");
    r.loseAll("again");
    assertEquals(List.of("socket closed", "socket closed"), lost);
    assertEquals(0, r.size());
    assertTrue(r.nextId() > fresh, "ids are never reused");
  }
}
