package dev.grange.node.buildrun;

import java.util.concurrent.CompletionStage;

/**
 * Whether any output of a step is in the log store. A step whose command the agent no longer has
 * may be started again under the same attempt only when none is: one step's log never holds two
 * runs.
 */
@FunctionalInterface
public interface StoredOutput {
  CompletionStage<Boolean> any(String buildId, int attempt, int step);
}
