package dev.grange.bench;

import java.util.concurrent.Callable;

/**
 * The named steps of a benchmark run ({@code bench/mirrors}, {@code bench/pools}): a step that
 * fails is reported by its name and why, so the run's last line says what it was doing.
 */
public final class Steps {
  private Steps() {}

  /** A step of the run that failed: its name and why. */
  public static final class StepFailed extends Exception {
    public StepFailed(String step, Exception cause) {
      super(step + ": " + (cause.getMessage() != null ? cause.getMessage() : cause.toString()), cause);
    }
  }

  /** Runs {@code body}; any failure becomes a {@link StepFailed} naming {@code name} (a nested one stays as it is). */
  public static <T> T step(String name, Callable<T> body) throws StepFailed {
    try {
      return body.call();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StepFailed(name, e);
    } catch (StepFailed e) {
      throw e;
    } catch (Exception e) {
      throw new StepFailed(name, e);
    }
  }
}
