package dev.grange.bench.farm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * What Linux's {@code /proc} says about one process: resident memory ({@code VmRSS}, {@code
 * VmHWM} of {@code /proc/<pid>/status}), CPU time ({@code utime + stime} of {@code
 * /proc/<pid>/stat}, plus the reaped children's {@code cutime + cstime}) and its command line.
 * Plain reads of text files; a process that is gone reads as empty.
 */
public final class ProcFs {
  /** Clock ticks per second of {@code /proc/<pid>/stat}: 100 on every Linux this runs on. */
  private static final double TICKS_PER_SECOND = 100.0;

  private ProcFs() {}

  /** A value of {@code /proc/<pid>/status} in bytes (the file says kB), e.g. {@code VmRSS}. */
  public static OptionalLong statusBytes(long pid, String field) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith(field + ":")) {
          String kb = line.substring(field.length() + 1).trim().split("\\s+")[0];
          return OptionalLong.of(Long.parseLong(kb) * 1024);
        }
      }
    } catch (IOException | RuntimeException e) {
      return OptionalLong.empty();
    }
    return OptionalLong.empty();
  }

  /**
   * CPU seconds the process used, its reaped children included (a build step's processes are
   * reaped by the agent that ran them); 0 when it is gone.
   */
  public static double cpuSeconds(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.US_ASCII);
      // The command name (field 2) is in parentheses and may hold spaces: count from after it.
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14]);
      return ticks / TICKS_PER_SECOND;
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  /**
   * When the process started, in epoch ms to within ~20 ms (its {@code starttime} ticks of {@code
   * /proc/<pid>/stat} against {@code /proc/uptime}, both 10 ms ticks; Java's own {@code
   * ProcessHandle.Info.startInstant} uses the boot time in whole seconds); -1 when it is gone.
   */
  public static long startedAtEpochMs(long pid) {
    try {
      long now = System.currentTimeMillis();
      double uptimeSeconds = Double.parseDouble(Files.readString(Path.of("/proc/uptime")).split(" ")[0]);
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.US_ASCII);
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      double startSeconds = Long.parseLong(f[19]) / TICKS_PER_SECOND;
      return now - Math.round((uptimeSeconds - startSeconds) * 1000);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** The command line, arguments separated by spaces; "" when the process is gone. */
  public static String cmdline(long pid) {
    try {
      byte[] b = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
      return new String(b, StandardCharsets.UTF_8).replace('\0', ' ').trim();
    } catch (IOException e) {
      return "";
    }
  }

  /** CPU seconds the whole machine spent busy since boot (all but idle and iowait in /proc/stat). */
  public static double machineBusySeconds() {
    try {
      String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
      long busy = 0;
      for (int i = 1; i < Math.min(f.length, 9); i++) {
        if (i != 4 && i != 5) { // idle, iowait
          busy += Long.parseLong(f[i]);
        }
      }
      return busy / TICKS_PER_SECOND;
    } catch (IOException | RuntimeException e) {
      return Double.NaN;
    }
  }

  /** The 1-minute load average of the machine. */
  public static double loadAverage() {
    try {
      return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
    } catch (IOException | RuntimeException e) {
      return Double.NaN;
    }
  }

  /** Total memory of the machine in bytes ({@code MemTotal} of {@code /proc/meminfo}). */
  public static long memTotalBytes() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemTotal:")) {
          return Long.parseLong(line.substring(9).trim().split("\\s+")[0]) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      return 0;
    }
    return 0;
  }
}
