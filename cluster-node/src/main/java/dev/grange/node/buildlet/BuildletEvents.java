package dev.grange.node.buildlet;

import dev.grange.protocol.CborSerializable;
import org.apache.pekko.actor.typed.ActorRef;

/** What a {@link Buildlet} persists. Class names are persisted: rename only with a migration. */
public final class BuildletEvents {
  private BuildletEvents() {}

  public sealed interface Event extends CborSerializable {}

  /** A socket of this agent passed the handshake and is now the one the buildlet talks to. */
  public record SessionAttached(BuildletInfo info, ActorRef<BuildletSession.Command> session)
      implements Event {}

  /** The socket is gone. */
  public record SessionDetached(String cause) implements Event {}

  /** The agent said it is stopping: no new leases. */
  public record Draining(String reason) implements Event {}

  /** The buildlet runs a build. */
  public record Leased(String buildId) implements Event {}

  /**
   * The build let go of it. Its workdir may still hold the build's files: the buildlet is not
   * leased again before {@link WorkdirWiped} (an older journal's {@code Released}, written after
   * the wipe, only costs one more wipe).
   */
  public record Released(String buildId) implements Event {}

  /** The workdir was emptied after {@code afterBuild} let go of the buildlet. */
  public record WorkdirWiped(String afterBuild) implements Event {}

  /**
   * A communication failure ended attempt {@code attempt} of {@code buildId} on this buildlet, or
   * (attempt 0) the workdir wipe after {@code buildId} failed.
   */
  public record InfraFailureRecorded(String buildId, int attempt, String cause, long atMs) implements Event {}

  /** Too many infrastructure failures: no new leases until an admin or a passed health check lifts it. */
  public record Quarantined(String reason, long atMs) implements Event {}

  /** The quarantine ended; {@code by} is {@code admin} or {@code health check}. */
  public record QuarantineLifted(String by, long atMs) implements Event {}
}
