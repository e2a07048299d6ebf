package dev.grange.node.buildlet;

import dev.grange.protocol.CborSerializable;

/**
 * What a {@link BuildletSession} tells the listener of an execution. Output itself is not in
 * these events: the session writes it to the log store and reports how much is stored.
 */
public sealed interface ExecEvent extends CborSerializable {
  String execId();

  /** The process started on the agent. */
  record Started(String execId, long pid) implements ExecEvent {}

  /** The first {@code storedBytes} of output are in the log store (a checkpoint to resume from). */
  record Progress(String execId, long storedBytes) implements ExecEvent {}

  /**
   * The command ended (a remote result, the build's to judge); all its output is stored.
   *
   * @param state "ok", "exit status N", "signal: S", "timeout" or "start failed: ..."
   */
  record Exited(String execId, String state, int exitCode, long durationMs, long outputBytes)
      implements ExecEvent {}

  /** The agent refused the exec (bad dir, draining...): nothing ran. */
  record Refused(String execId, String code, String message) implements ExecEvent {}

  /**
   * The session that carried the execution ended before its exit arrived (socket closed, three
   * missed heartbeats, a request past its deadline). The command may still run on the agent,
   * which keeps it for its grace period: the listener waits for the buildlet's next session and
   * resumes from {@code storedBytes} (all of it is in the log store).
   */
  record Suspended(String execId, String cause, long storedBytes) implements ExecEvent {}

  /**
   * The agent has no execution by that id (answer to a resume): it never started, or the agent
   * dropped it after its grace period.
   */
  record Unknown(String execId, String message) implements ExecEvent {}

  /** A communication failure the execution cannot come back from (its output could not be stored). */
  record Lost(String execId, String cause, long storedBytes) implements ExecEvent {}
}
