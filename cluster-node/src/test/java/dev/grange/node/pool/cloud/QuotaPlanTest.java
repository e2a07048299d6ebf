package dev.grange.node.pool.cloud;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grange.protocol.schedule.PriorityClass;
import dev.grange.protocol.schedule.SchedItem;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class QuotaPlanTest {
  private static final Duration PATIENCE = Duration.ofMinutes(2);
  private static final Cost SMALL = new Cost(1, 2000, "e2");
  private static final Cost BIG = new Cost(1, 16000, "e2");

  private static QuotaPlan.Need need(String id, PriorityClass cls, long at, Cost cost) {
    return new QuotaPlan.Need("ht", id, new SchedItem(cls, at, 0, "main", id), at, cost);
  }

  private static List<String> ids(QuotaPlan.Plan p) {
    return p.create().stream().map(QuotaPlan.Need::buildId).toList();
  }

  @Test
  void needsAreGivenInstancesInServiceOrderWhileTheyFit() {
    QuotaPlan.Plan p = QuotaPlan.plan(new Quota(3, 0, Map.of()), List.of(SMALL),
        List.of(need("try", PriorityClass.TRY, 5, SMALL), need("release", PriorityClass.RELEASE, 9, SMALL),
            need("post", PriorityClass.POST_SUBMIT, 1, SMALL)), 10, PATIENCE);
    assertEquals(List.of("release", "try"), ids(p), "release before try; one instance was in use of three");
    assertTrue(p.awaiting().get("post").startsWith("awaiting quota: instances 3 of 3 in use"), p.awaiting().toString());
  }

  @Test
  void aNeedThatDoesNotFitLetsASmallerOneAfterItThrough() {
    QuotaPlan.Plan p = QuotaPlan.plan(new Quota(0, 18_000, Map.of()), List.of(SMALL, SMALL),
        List.of(need("big", PriorityClass.TRY, 1, BIG), need("small", PriorityClass.TRY, 2, SMALL)), 1000, PATIENCE);
    assertEquals(List.of("small"), ids(p), "4 of 18 CPUs used: 16 more do not fit, 2 do");
    assertEquals("awaiting quota: CPUs 4.0 of 18.0 in use", p.awaiting().get("big"));
  }

  @Test
  void aBigNeedThatWaitedLongEnoughHoldsBackTheOnesAfterIt() {
    long now = PATIENCE.toMillis() + 1;
    QuotaPlan.Plan p = QuotaPlan.plan(new Quota(0, 18_000, Map.of()), List.of(SMALL, SMALL),
        List.of(need("big", PriorityClass.TRY, 1, BIG), need("small", PriorityClass.TRY, 2, SMALL)), now, PATIENCE);
    assertEquals(List.of(), ids(p));
    assertEquals("awaiting quota: big waits first", p.awaiting().get("small"));
  }

  @Test
  void cpuFamiliesAreLimitedApart() {
    Cost n2 = new Cost(1, 8000, "n2");
    QuotaPlan.Plan p = QuotaPlan.plan(new Quota(0, 0, Map.of("e2", 4000L)), List.of(SMALL),
        List.of(need("e2", PriorityClass.TRY, 1, SMALL), need("e2-more", PriorityClass.TRY, 2, SMALL),
            need("n2", PriorityClass.TRY, 3, n2)), 10, PATIENCE);
    assertEquals(List.of("e2", "n2"), ids(p), "e2 has 4 CPUs: one more instance of 2; n2 has no limit");
    assertEquals("awaiting quota: e2 CPUs 4.0 of 4.0 in use", p.awaiting().get("e2-more"));
  }

  @Test
  void noLimitsMeansEveryNeedIsServed() {
    QuotaPlan.Plan p = QuotaPlan.plan(new Quota(0, 0, Map.of()), List.of(BIG, BIG),
        List.of(need("a", PriorityClass.TRY, 1, BIG), need("b", PriorityClass.TRY, 2, BIG)), 10, PATIENCE);
    assertEquals(List.of("a", "b"), ids(p));
    assertTrue(p.awaiting().isEmpty());
  }

  @Test
  void costsComeFromTheHostType() {
    assertEquals(500, Cost.milliCpus("500m"));
    assertEquals(2000, Cost.milliCpus("2"));
    assertEquals(1500, Cost.milliCpus("1.5"));
    assertThrows(IllegalArgumentException.class, () -> Cost.milliCpus("two"));
    Quota.Left left = new Quota(2, 0, Map.of()).left(List.of());
    assertNull(left.shortOf(SMALL));
  }
}
