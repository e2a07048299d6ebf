package dev.grange.bench;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.function.Function;

/**
 * The command-line helpers of the benchmarks' entry points ({@code bench/faults}, {@code
 * bench/mirrors}): a flag's value, a positive number, and a parse that ends the process with the
 * usage (exit code 2) on a mistake. A mistake is an {@link IllegalArgumentException} naming the
 * flag.
 */
public final class Flags {
  private Flags() {}

  /** {@code parse(args)}, or, when it throws, "{@code who}: why" and {@code usage} on stderr and exit code 2. */
  public static <T> T parseOrExit(String who, String usage, String[] args, Function<String[], T> parse) {
    try {
      return parse.apply(args);
    } catch (IllegalArgumentException e) {
      System.err.println(who + ": " + e.getMessage());
      System.err.print(usage);
      System.exit(2);
      throw e; // not reached
    }
  }

  /** {@code args[i]}, the value of {@code flag}. */
  public static String value(String[] args, int i, String flag) {
    if (i >= args.length) {
      throw new IllegalArgumentException(flag + " needs a value");
    }
    return args[i];
  }

  /** {@code args[i]} as a number of at least 1. */
  public static int positive(String[] args, int i, String flag) {
    String v = value(args, i, flag);
    try {
      int n = Integer.parseInt(v);
      if (n > 0) {
        return n;
      }
    } catch (NumberFormatException e) {
      // below
    }
    throw new IllegalArgumentException(flag + " must be a positive number, got \"" + v + "\"");
  }

  /** {@code name} and the flags given, without those the script supplies (and their values): the command a report shows. */
  public static String command(String name, String[] args, Set<String> supplied) {
    StringBuilder sb = new StringBuilder(name);
    for (int i = 0; i < args.length; i++) {
      if (supplied.contains(args[i])) {
        i++;
      } else {
        sb.append(' ').append(args[i]);
      }
    }
    return sb.toString();
  }

  /** A module's classes and its runtime classpath, as bin/grange and bench/run put them together. */
  public static String builtClasspath(Path root, String module) {
    Path file = root.resolve(module).resolve("target/runtime.classpath");
    try {
      return root.resolve(module).resolve("target/classes") + File.pathSeparator + Files.readString(file).strip();
    } catch (IOException e) {
      throw new IllegalArgumentException(file + " cannot be read (build first: mvn -B -o -q -pl bench -am package -DskipTests)");
    }
  }
}
