package dev.grange.node.schedule;

import dev.grange.protocol.CborSerializable;
import dev.grange.protocol.schedule.SchedItem;
import java.util.List;

/** What a {@link HostPool} persists: its queue. Class names are persisted. */
public final class HostPoolEvents {
  private HostPoolEvents() {}

  public sealed interface Event extends CborSerializable {}

  /**
   * One build waiting for a buildlet of this host type; {@code avoid}: the agent ids on which its
   * earlier attempts failed, which the pool serves it only when no other buildlet could.
   */
  public record Waiter(String buildId, SchedItem item, String builder, String rev, String user, List<String> avoid)
      implements CborSerializable {
    public Waiter {
      avoid = avoid == null ? List.of() : List.copyOf(avoid); // null in a WaiterAdded persisted before retries avoided
    }

    /** A waiter with nothing to avoid: a build's first attempt. */
    public Waiter(String buildId, SchedItem item, String builder, String rev, String user) {
      this(buildId, item, builder, rev, user, List.of());
    }
  }

  public record WaiterAdded(Waiter waiter) implements Event {}

  public record WaiterServed(String buildId, String agentId) implements Event {}

  public record WaiterCancelled(String buildId) implements Event {}
}
