package dev.grange.node.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class LocalPoolPlanTest {

  @Test
  void anEmptyPoolStartsItsMin() {
    assertEquals(2, LocalPoolPlan.toStart(2, 4, 0, 0, 0, 0));
  }

  @Test
  void agentsOfADeadNodeThatReconnectedCountAgainstMax() {
    // The host pool moved here; the two agents the dead node started reconnected to this cluster.
    assertEquals(0, LocalPoolPlan.toStart(2, 2, 2, 0, 0, 0));
    assertEquals(0, LocalPoolPlan.toStart(2, 2, 2, 0, 5, 0));
    assertEquals(2, LocalPoolPlan.toStart(2, 4, 2, 0, 5, 0));
  }

  @Test
  void agentsOnTheirWayAreNotStartedTwice() {
    assertEquals(0, LocalPoolPlan.toStart(2, 4, 0, 2, 0, 0));
    assertEquals(0, LocalPoolPlan.toStart(2, 4, 0, 2, 2, 0));
    assertEquals(1, LocalPoolPlan.toStart(2, 4, 0, 2, 3, 0));
  }

  @Test
  void waitingBuildsStartMoreUpToMaxOnly() {
    assertEquals(2, LocalPoolPlan.toStart(2, 4, 2, 0, 10, 0));
    assertEquals(0, LocalPoolPlan.toStart(2, 4, 4, 0, 10, 0));
    assertEquals(1, LocalPoolPlan.toStart(0, 4, 3, 0, 10, 0));
  }

  @Test
  void idleMachinesServeWaitersFirst() {
    assertEquals(0, LocalPoolPlan.toStart(0, 4, 2, 0, 2, 2));
    assertEquals(1, LocalPoolPlan.toStart(0, 4, 2, 0, 3, 2));
  }

  @Test
  void moreConnectedThanMaxStartsNothing() {
    // Two nodes started agents before the pool settled: nothing more, whatever waits.
    assertEquals(0, LocalPoolPlan.toStart(2, 2, 4, 1, 7, 0));
  }

  @Test
  void impossibleFiguresAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> LocalPoolPlan.toStart(3, 2, 0, 0, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> LocalPoolPlan.toStart(0, 2, -1, 0, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> LocalPoolPlan.toStart(0, 2, 1, 0, 0, 2));
  }
}
