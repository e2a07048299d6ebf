package dev.grange.protocol.model;

import java.util.List;
import java.util.Objects;

/**
 * One command a builder runs on its buildlet, in order with the builder's other steps.
 *
 * @param name short name, unique within the builder; shown in the UI and the build log
 * @param cmd program to run; a relative path is resolved against {@code dir}
 * @param args arguments, passed as they are (no shell)
 * @param env extra {@code NAME=VALUE} environment entries
 * @param dir working directory, relative to the buildlet's work directory (never absolute, never
 *     through {@code ..}); {@code "."} is the work directory itself
 * @param timeoutMs how long the step may run before it is killed and fails; positive
 * @param sys whether {@code cmd} is looked up on the system {@code PATH} rather than in the work
 *     directory
 */
public record StepSpec(
    String name,
    String cmd,
    List<String> args,
    List<String> env,
    String dir,
    long timeoutMs,
    boolean sys) {
  /** Step working directory used when the config names none: the work directory itself. */
  public static final String DEFAULT_DIR = ".";

  /** Step timeout used when the config names none: 30 minutes. */
  public static final long DEFAULT_TIMEOUT_MS = 30L * 60 * 1000;

  public StepSpec {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(cmd, "cmd");
    args = args == null ? List.of() : List.copyOf(args);
    env = env == null ? List.of() : List.copyOf(env);
    dir = dir == null ? DEFAULT_DIR : dir;
    if (timeoutMs <= 0) {
      throw new IllegalArgumentException("timeoutMs must be positive, got " + timeoutMs);
    }
  }
}
