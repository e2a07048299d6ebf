package dev.grange.bench;

import dev.grange.bench.farm.ProcFs;
import dev.grange.bench.report.Report;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
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

  private static final DateTimeFormatter DIR_TIME = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT);

  /** A benchmark's run, as the table's header tells it. */
  public interface Run<O> {
    /** Runs the benchmark with {@code options}; its Markdown table. */
    String table(O options) throws Exception;
  }

  /**
   * A benchmark's {@code main}: the usage on {@code help}; else runs it, prints its table and exits
   * 0, or says which step failed and why and exits 1.
   */
  public static <O> void main(String name, String usage, O options, boolean help, Run<O> run) {
    if (help) {
      System.out.print(usage);
      return;
    }
    try {
      String table = run.table(options);
      System.out.println();
      System.out.print(table);
      System.exit(0);
    } catch (StepFailed e) {
      System.err.println(name + ": failed while " + e.getMessage());
      e.printStackTrace();
      System.exit(1);
    } catch (Exception e) {
      System.err.println(name + ": failed: " + e);
      e.printStackTrace();
      System.exit(1);
    }
  }

  /**
   * Where and when a run starts: its directory under bench/target ({@code <prefix>-<time>}), the
   * load average and the other processes on the machine, said on {@code out}.
   */
  public record RunStart(Path target, Path runDir, ZonedDateTime startedAt, double loadBefore, String others) {
    public static RunStart begin(String name, String prefix, Path root, boolean quick, PrintStream out) {
      Path target = root.resolve("bench").resolve("target");
      ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
      Path runDir = target.resolve(prefix + "-" + now.format(DIR_TIME));
      double load = ProcFs.loadAverage();
      String others = OtherProcesses.describe();
      out.printf("%s: %s run in %s; load average %.2f; %s%n", name, quick ? "quick" : "full", runDir, load, others);
      return new RunStart(target, runDir, now, load, others);
    }

    /** The table's header: when, the command, the machine, the load before and now, the other processes. */
    public Report.Context context(String command) {
      return new Report.Context(startedAt.format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'", Locale.ROOT)), command,
          Main.machine(), loadBefore, ProcFs.loadAverage(), others);
    }
  }
}
