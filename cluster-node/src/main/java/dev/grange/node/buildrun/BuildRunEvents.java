package dev.grange.node.buildrun;

import java.util.List;

import dev.grange.protocol.CborSerializable;

/** What a {@link BuildRun} persists. Class names are persisted: rename only with a migration. */
public final class BuildRunEvents {
  private BuildRunEvents() {}

  public sealed interface Event extends CborSerializable {}

  public record BuildQueued(BuildSpec spec) implements Event {}

  /** Attempt {@code attempt} (1-based) runs on a buildlet. */
  public record AttemptStarted(int attempt, String agentId, String hostname, String node, long atMs, List<Stage> stages) implements Event {
    public AttemptStarted {
      stages = stages == null ? List.of() : List.copyOf(stages); // null: persisted before stages were kept
    }

    public AttemptStarted(int attempt, String agentId, String hostname, String node, long atMs) {
      this(attempt, agentId, hostname, node, atMs, List.of());
    }
  }

  /**
   * A stage of getting the attempt its buildlet, as farmer's event timeline showed it: {@code
   * get_buildlet} (queued until served), and for a fresh cloud instance {@code create_instance}
   * (asked for until the cloud had it) and {@code wait_agent} (until its agent dialled in).
   */
  public record Stage(String name, long startMs, long endMs) implements CborSerializable {}

  /**
   * The attempt's source reached its buildlet: {@code from} the URL the agent fetched it from, or
   * pushed by the node; the files and bytes extracted; how long it took from asking.
   */
  public record SourceShipped(int attempt, String from, long files, long bytes, long durationMs, long atMs) implements Event {}

  public record StepStarted(int attempt, int step, long atMs) implements Event {}

  /** The first {@code offset} bytes of a running step's output are stored: a resume starts there. */
  public record StepProgress(int attempt, int step, long offset) implements Event {}

  /** A step ended with a remote result: its exit state, as the agent reported it. */
  public record StepFinished(int attempt, int step, String state, int exitCode, long durationMs, long outputBytes, long atMs)
      implements Event {}

  /** An attempt ended by a communication failure, not by the build: it will be retried or end the build in error. */
  public record AttemptFailed(int attempt, String cause, long atMs) implements Event {}

  /** The build is over: {@code result} is ok, failed, cancelled or error. */
  public record BuildFinished(String result, String reason, long atMs) implements Event {}
}
