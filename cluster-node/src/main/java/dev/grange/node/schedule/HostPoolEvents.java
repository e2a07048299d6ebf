package dev.grange.node.schedule;

import dev.grange.protocol.CborSerializable;
import dev.grange.protocol.schedule.SchedItem;

/** What a {@link HostPool} persists: its queue. Class names are persisted. */
public final class HostPoolEvents {
  private HostPoolEvents() {}

  public sealed interface Event extends CborSerializable {}

  /** One build waiting for a buildlet of this host type. */
  public record Waiter(String buildId, SchedItem item, String builder, String rev, String user)
      implements CborSerializable {}

  public record WaiterAdded(Waiter waiter) implements Event {}

  public record WaiterServed(String buildId, String agentId) implements Event {}

  public record WaiterCancelled(String buildId) implements Event {}
}
