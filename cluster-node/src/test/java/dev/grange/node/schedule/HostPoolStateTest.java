package dev.grange.node.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.grange.node.schedule.HostPoolEvents.Waiter;
import dev.grange.protocol.schedule.PriorityClass;
import dev.grange.protocol.schedule.SchedItem;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A host pool's queue on its own: whatever order the requests arrive in, it holds them in the
 * order they will be served, and served or cancelled builds leave it (only the served counted).
 */
class HostPoolStateTest {
  /** In service order: release, interactive, try by request time, post-submit newest commit first. */
  private static final List<Waiter> SERVICE_ORDER = List.of(
      waiter("release", PriorityClass.RELEASE, 5_000, 1_000, "release-branch.go1.22"),
      waiter("gomote", PriorityClass.INTERACTIVE, 6_000, 0, ""),
      waiter("try-early", PriorityClass.TRY, 1_000, 1_000, "master"),
      waiter("try-late", PriorityClass.TRY, 2_000, 9_000, "master"),
      waiter("post-newest", PriorityClass.POST_SUBMIT, 4_000, 8_000, "master"),
      waiter("post-tie-release-branch", PriorityClass.POST_SUBMIT, 3_000, 7_000, "release-branch.go1.22"),
      waiter("post-tie-master", PriorityClass.POST_SUBMIT, 1_000, 7_000, "master"));

  @Test
  void theQueueIsInServiceOrderWhateverOrderTheRequestsArrive() {
    for (List<Waiter> arrival : permutations(SERVICE_ORDER)) {
      HostPoolState s = HostPoolState.empty();
      for (Waiter w : arrival) {
        s = s.apply(new HostPoolEvents.WaiterAdded(w));
      }
      assertEquals(SERVICE_ORDER, s.waiters(), () -> "arrived as " + arrival.stream().map(Waiter::buildId).toList());
    }
  }

  @Test
  void servedAndCancelledBuildsLeaveTheQueueAndOnlyTheServedAreCounted() {
    HostPoolState s = HostPoolState.empty();
    for (Waiter w : SERVICE_ORDER) {
      s = s.apply(new HostPoolEvents.WaiterAdded(w));
    }

    s = s.apply(new HostPoolEvents.WaiterServed("release", "a1")).apply(new HostPoolEvents.WaiterCancelled("try-late"));

    assertEquals(List.of("gomote", "try-early", "post-newest", "post-tie-release-branch", "post-tie-master"),
        s.waiters().stream().map(Waiter::buildId).toList());
    assertEquals(1, s.served());
    assertFalse(s.waiting("release"));
  }

  private static Waiter waiter(String buildId, PriorityClass cls, long requestedAtMs, long commitTimeMs, String branch) {
    return new Waiter(buildId, new SchedItem(cls, requestedAtMs, commitTimeMs, branch, buildId), "builder", "rev", "alice");
  }

  private static <T> List<List<T>> permutations(List<T> items) {
    if (items.isEmpty()) {
      return List.of(List.of());
    }
    List<List<T>> all = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      List<T> rest = new ArrayList<>(items);
      T first = rest.remove(i);
      for (List<T> p : permutations(rest)) {
        List<T> withFirst = new ArrayList<>(List.of(first));
        withFirst.addAll(p);
        all.add(withFirst);
      }
    }
    return all;
  }
}
