package dev.grange.node.pool.cloud;

import dev.grange.protocol.CborSerializable;

/** What a {@link CloudPool} persists: the life of each instance it owns. Class names are persisted. */
public final class CloudPoolEvents {
  private CloudPoolEvents() {}

  public sealed interface Event extends CborSerializable {}

  /** Asked the cloud for an instance (persisted before the call, so a crash never leaves one unknown). */
  public record Requested(String name, String hostType, Cost cost, String forBuild, long atMs, long deleteAtEpochSecond) implements Event {}

  /** The cloud has it ({@code location}: its zone or namespace); its agent is booting. */
  public record Created(String name, String location, long atMs) implements Event {}

  /** The cloud did not make it. */
  public record CreateFailed(String name, String why, long atMs) implements Event {}

  /** Its agent dialled in. */
  public record Connected(String name, long atMs) implements Event {}

  /**
   * It is being deleted, for {@code reason} (one of {@link CloudPoolState.Reason}) and {@code why}
   * in words; its quota is free from now. Also for an instance the pool did not own (a leak).
   */
  public record Deleting(String name, String hostType, String reason, String why, long atMs) implements Event {}

  /** The cloud no longer has it. */
  public record Gone(String name, long atMs) implements Event {}
}
