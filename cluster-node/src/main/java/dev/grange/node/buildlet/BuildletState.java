package dev.grange.node.buildlet;

import dev.grange.protocol.CborSerializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * A buildlet as its entity knows it. {@code session} is null while no socket is attached;
 * {@code leasedTo} is the build it runs, or null; {@code dirtyAfter} is the build whose files may
 * still be in the workdir (released, not yet wiped), or null. {@code infraFailures} counts every
 * infrastructure failure ever recorded on it; {@code recentFailures} keeps the latest {@link
 * #MAX_RECENT} since its last quarantine was lifted (which of them fall in the window is decided
 * when reading, so that a failure ages out without an event); {@code quarantine} is set while it
 * is quarantined.
 */
public record BuildletState(
    BuildletInfo info,
    ActorRef<BuildletSession.Command> session,
    String leasedTo,
    boolean draining,
    long leases,
    String lastDetachCause,
    String dirtyAfter,
    long infraFailures,
    List<InfraFailure> recentFailures,
    Quarantine quarantine)
    implements CborSerializable {

  /** How many recent failures the state keeps: the most {@code grange.node.quarantine.max-failures} may be. */
  public static final int MAX_RECENT = 32;

  /** One infrastructure failure: attempt {@code attempt} of {@code buildId} (0: the workdir wipe after it). */
  public record InfraFailure(String buildId, int attempt, String cause, long atMs) implements CborSerializable {}

  /** Why and since when the buildlet gets no new leases. */
  public record Quarantine(String reason, long sinceMs) implements CborSerializable {}

  /** What its pool (and so the API) shows of a buildlet's health; {@code quarantine} null when it is not quarantined. */
  public record Health(long infraFailures, int infraFailuresInWindow, Quarantine quarantine) implements CborSerializable {
    public static final Health NONE = new Health(0, 0, null);
  }

  public BuildletState {
    // Null in a snapshot written before quarantines existed.
    recentFailures = recentFailures == null ? List.of() : List.copyOf(recentFailures);
  }

  public static BuildletState empty() {
    return new BuildletState(null, null, null, false, 0, null, null, 0, List.of(), null);
  }

  public boolean attached() {
    return session != null;
  }

  /** Whether it can be leased now: connected, not running a build, not stopping, clean and not quarantined. */
  public boolean idle() {
    return attached() && leasedTo == null && !draining && dirtyAfter == null && quarantine == null;
  }

  /** How many of the recent failures happened within {@code window} before {@code nowMs}. */
  public int failuresWithin(long nowMs, Duration window) {
    long from = nowMs - window.toMillis();
    return (int) recentFailures.stream().filter(f -> f.atMs() > from).count();
  }

  /** Whether this attempt's failure is among the recent ones already (a repeated report). */
  public boolean recorded(String buildId, int attempt) {
    return recentFailures.stream().anyMatch(f -> f.buildId().equals(buildId) && f.attempt() == attempt);
  }

  public Health health(long nowMs, Duration window) {
    return new Health(infraFailures, failuresWithin(nowMs, window), quarantine);
  }

  public BuildletState apply(BuildletEvents.Event e) {
    if (e instanceof BuildletEvents.SessionAttached a) {
      return new BuildletState(a.info(), a.session(), leasedTo, false, leases, lastDetachCause, dirtyAfter, infraFailures, recentFailures, quarantine);
    } else if (e instanceof BuildletEvents.SessionDetached d) {
      return new BuildletState(info, null, leasedTo, draining, leases, d.cause(), dirtyAfter, infraFailures, recentFailures, quarantine);
    } else if (e instanceof BuildletEvents.Draining) {
      return new BuildletState(info, session, leasedTo, true, leases, lastDetachCause, dirtyAfter, infraFailures, recentFailures, quarantine);
    } else if (e instanceof BuildletEvents.Leased l) {
      return new BuildletState(info, session, l.buildId(), draining, leases + 1, lastDetachCause, dirtyAfter, infraFailures, recentFailures, quarantine);
    } else if (e instanceof BuildletEvents.Released r) {
      return new BuildletState(info, session, null, draining, leases, lastDetachCause, r.buildId(), infraFailures, recentFailures, quarantine);
    } else if (e instanceof BuildletEvents.WorkdirWiped) {
      return new BuildletState(info, session, leasedTo, draining, leases, lastDetachCause, null, infraFailures, recentFailures, quarantine);
    } else if (e instanceof BuildletEvents.InfraFailureRecorded f) {
      List<InfraFailure> recent = new ArrayList<>(recentFailures);
      recent.add(new InfraFailure(f.buildId(), f.attempt(), f.cause(), f.atMs()));
      if (recent.size() > MAX_RECENT) {
        recent.remove(0);
      }
      return new BuildletState(info, session, leasedTo, draining, leases, lastDetachCause, dirtyAfter, infraFailures + 1, recent, quarantine);
    } else if (e instanceof BuildletEvents.Quarantined q) {
      return new BuildletState(info, session, leasedTo, draining, leases, lastDetachCause, dirtyAfter, infraFailures, recentFailures,
          new Quarantine(q.reason(), q.atMs()));
    } else if (e instanceof BuildletEvents.QuarantineLifted) {
      // A released buildlet starts with an empty window: its old failures do not quarantine it again at the next one.
      return new BuildletState(info, session, leasedTo, draining, leases, lastDetachCause, dirtyAfter, infraFailures, List.of(), null);
    }
    throw new IllegalArgumentException("unknown event " + e);
  }
}
