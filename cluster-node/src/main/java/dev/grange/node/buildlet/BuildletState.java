package dev.grange.node.buildlet;

import dev.grange.protocol.CborSerializable;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * A buildlet as its entity knows it. {@code session} is null while no socket is attached;
 * {@code leasedTo} is the build it runs, or null; {@code dirtyAfter} is the build whose files may
 * still be in the workdir (released, not yet wiped), or null.
 */
public record BuildletState(
    BuildletInfo info,
    ActorRef<BuildletSession.Command> session,
    String leasedTo,
    boolean draining,
    long leases,
    String lastDetachCause,
    String dirtyAfter)
    implements CborSerializable {

  public static BuildletState empty() {
    return new BuildletState(null, null, null, false, 0, null, null);
  }

  public boolean attached() {
    return session != null;
  }

  /** Whether it can be leased now: connected, not running a build, not stopping, and clean. */
  public boolean idle() {
    return attached() && leasedTo == null && !draining && dirtyAfter == null;
  }

  public BuildletState apply(BuildletEvents.Event e) {
    if (e instanceof BuildletEvents.SessionAttached a) {
      return new BuildletState(a.info(), a.session(), leasedTo, false, leases, lastDetachCause, dirtyAfter);
    } else if (e instanceof BuildletEvents.SessionDetached d) {
      return new BuildletState(info, null, leasedTo, draining, leases, d.cause(), dirtyAfter);
    } else if (e instanceof BuildletEvents.Draining) {
      return new BuildletState(info, session, leasedTo, true, leases, lastDetachCause, dirtyAfter);
    } else if (e instanceof BuildletEvents.Leased l) {
      return new BuildletState(info, session, l.buildId(), draining, leases + 1, lastDetachCause, dirtyAfter);
    } else if (e instanceof BuildletEvents.Released r) {
      return new BuildletState(info, session, null, draining, leases, lastDetachCause, r.buildId());
    } else if (e instanceof BuildletEvents.WorkdirWiped) {
      return new BuildletState(info, session, leasedTo, draining, leases, lastDetachCause, null);
    }
    throw new IllegalArgumentException("unknown event " + e);
  }
}
