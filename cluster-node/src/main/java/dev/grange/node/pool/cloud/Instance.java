package dev.grange.node.pool.cloud;

import dev.grange.protocol.CborSerializable;
import java.util.Objects;

/**
 * An instance as a provider sees it.
 *
 * @param name the instance name
 * @param hostType the host type it was made for (from its labels)
 * @param location where it is: the zone of a VM, the namespace of a pod
 * @param state its state as the cloud reports it
 * @param detail the cloud's own words for it (a pod's phase and reason, a VM's status), for people
 * @param createdAtMs when the cloud made it, 0 when not known
 * @param deleteAtEpochSecond its delete-at label, 0 when it has none
 */
public record Instance(String name, String hostType, String location, InstanceState state, String detail, long createdAtMs,
    long deleteAtEpochSecond) implements CborSerializable {
  public Instance {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(state, "state");
    hostType = hostType == null ? "" : hostType;
    location = location == null ? "" : location;
    detail = detail == null ? "" : detail;
  }

  public Instance withState(InstanceState s, String why) {
    return new Instance(name, hostType, location, s, why, createdAtMs, deleteAtEpochSecond);
  }
}
