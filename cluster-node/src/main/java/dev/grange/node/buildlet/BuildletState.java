package dev.grange.node.buildlet;

import dev.grange.protocol.CborSerializable;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * A buildlet as its entity knows it. {@code session} is null while no socket is attached;
 * {@code leasedTo} is the build it runs, or null.
 */
public record BuildletState(
    BuildletInfo info,
    ActorRef<BuildletSession.Command> session,
    String leasedTo,
    boolean draining,
    long leases,
    String lastDetachCause)
    implements CborSerializable {

  public static BuildletState empty() {
    return new BuildletState(null, null, null, false, 0, null);
  }

  public boolean attached() {
    return session != null;
  }

  public boolean idle() {
    return attached() && leasedTo == null && !draining;
  }

  public BuildletState apply(BuildletEvents.Event e) {
    if (e instanceof BuildletEvents.SessionAttached a) {
      return new BuildletState(a.info(), a.session(), leasedTo, false, leases, lastDetachCause);
    } else if (e instanceof BuildletEvents.SessionDetached d) {
      return new BuildletState(info, null, leasedTo, draining, leases, d.cause());
    } else if (e instanceof BuildletEvents.Draining) {
      return new BuildletState(info, session, leasedTo, true, leases, lastDetachCause);
    } else if (e instanceof BuildletEvents.Leased l) {
      return new BuildletState(info, session, l.buildId(), draining, leases + 1, lastDetachCause);
    } else if (e instanceof BuildletEvents.Released) {
      return new BuildletState(info, session, null, draining, leases, lastDetachCause);
    }
    throw new IllegalArgumentException("unknown event " + e);
  }
}
