package dev.grange.node.schedule;

import dev.grange.node.schedule.HostPoolEvents.Waiter;
import dev.grange.protocol.CborSerializable;
import dev.grange.protocol.schedule.SchedItem;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** A host pool's queue: waiters in the order they are served ({@link SchedItem#ORDER}). */
public record HostPoolState(List<Waiter> waiters, long served) implements CborSerializable {
  private static final Comparator<Waiter> ORDER = Comparator.comparing(Waiter::item, SchedItem.ORDER);

  public HostPoolState {
    waiters = List.copyOf(waiters);
  }

  public static HostPoolState empty() {
    return new HostPoolState(List.of(), 0);
  }

  public boolean waiting(String buildId) {
    return waiters.stream().anyMatch(w -> w.buildId().equals(buildId));
  }

  public HostPoolState apply(HostPoolEvents.Event e) {
    if (e instanceof HostPoolEvents.WaiterAdded a) {
      List<Waiter> w = new ArrayList<>(waiters);
      int at = 0;
      while (at < w.size() && ORDER.compare(w.get(at), a.waiter()) <= 0) {
        at++;
      }
      w.add(at, a.waiter());
      return new HostPoolState(w, served);
    } else if (e instanceof HostPoolEvents.WaiterServed s) {
      return new HostPoolState(without(s.buildId()), served + 1);
    } else if (e instanceof HostPoolEvents.WaiterCancelled c) {
      return new HostPoolState(without(c.buildId()), served);
    }
    throw new IllegalArgumentException("unknown event " + e);
  }

  private List<Waiter> without(String buildId) {
    List<Waiter> w = new ArrayList<>(waiters);
    w.removeIf(x -> x.buildId().equals(buildId));
    return w;
  }
}
