package dev.grange.bench.ui;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * {@code bench/ui}: runs the {@link UiBench} and prints its table (also written to {@code
 * bench/target/ui.md}). Exit code 0 when the run held: every row right once the changes
 * stopped and the p50 lag at most 1 s; 1 otherwise; 2 on a bad command line.
 */
public final class UiMain {
  private UiMain() {}

  static final String USAGE = """
      usage: bench/ui [--quick] [--machines N] [--pools K] [--rate R] [--minutes M | --seconds S]
        --quick        1 minute instead of 10
        --machines N   machines on the pool page (default 1000)
        --pools K      host types they are spread over (default 10)
        --rate R       changes of state a second (default 100)
        --minutes M    how long the changes go on (default 10)
      """;

  public static void main(String[] args) throws Exception {
    int machines = 1000;
    int pools = 10;
    int rate = 100;
    Duration length = Duration.ofMinutes(10);
    Path root = null;
    Path cassandraClasspath = null;
    try {
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--quick" -> length = Duration.ofMinutes(1);
          case "--machines" -> machines = positive(args, ++i);
          case "--pools" -> pools = positive(args, ++i);
          case "--rate" -> rate = positive(args, ++i);
          case "--minutes" -> length = Duration.ofMinutes(positive(args, ++i));
          case "--seconds" -> length = Duration.ofSeconds(positive(args, ++i));
          case "--root" -> root = Path.of(value(args, ++i));
          case "--cassandra-classpath-file" -> cassandraClasspath = Path.of(value(args, ++i));
          case "--help", "-h" -> {
            System.out.print(USAGE);
            return;
          }
          default -> throw new IllegalArgumentException("unknown argument " + args[i]);
        }
      }
      if (root == null || cassandraClasspath == null) {
        throw new IllegalArgumentException("--root and --cassandra-classpath-file are set by the bench/ui script");
      }
      if (machines % pools != 0) {
        throw new IllegalArgumentException("--machines " + machines + " must be a multiple of --pools " + pools);
      }
    } catch (IllegalArgumentException e) {
      System.err.println("bench/ui: " + e.getMessage());
      System.err.print(USAGE);
      System.exit(2);
      return;
    }
    Path target = root.resolve("bench").resolve("target");
    Path runDir = target.resolve("ui-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT)));
    UiBench.Result r = UiBench.run(new UiBench.Options(machines, pools, rate, length, runDir, cassandraClasspath), System.out);
    String table = r.table();
    System.out.println();
    System.out.print(table);
    Files.writeString(target.resolve("ui.md"), table, StandardCharsets.UTF_8);
    boolean held = r.wrongRows() == 0 && r.lags().p50() <= 1000;
    if (!held) {
      System.err.println("bench/ui: did not hold: " + r.wrongRows() + " rows wrong, p50 lag " + r.lags().p50() + " ms (goal <= 1000)");
    }
    System.exit(held ? 0 : 1);
  }

  private static int positive(String[] a, int i) {
    String v = value(a, i);
    try {
      int n = Integer.parseInt(v);
      if (n <= 0) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(a[i - 1] + " needs a positive number, not " + v);
    }
  }

  private static String value(String[] a, int i) {
    if (i >= a.length) {
      throw new IllegalArgumentException(a[i - 1] + " needs a value");
    }
    return a[i];
  }
}
