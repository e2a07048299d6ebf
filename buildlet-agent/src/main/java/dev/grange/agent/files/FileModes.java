package dev.grange.agent.files;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;

/**
 * File modes as numbers and as the strings of Go's {@code os.FileMode.String()} ("drwxr-xr-x",
 * "-rw-r--r--", "Lrwxrwxrwx"...), which is what {@code ls} reports: the node's users read the
 * same strings the Go buildlet showed.
 */
public final class FileModes {
  // st_mode bits (POSIX).
  static final int S_IFMT = 0170000;
  static final int S_IFSOCK = 0140000;
  static final int S_IFLNK = 0120000;
  static final int S_IFREG = 0100000;
  static final int S_IFBLK = 0060000;
  static final int S_IFDIR = 0040000;
  static final int S_IFCHR = 0020000;
  static final int S_IFIFO = 0010000;
  static final int S_ISUID = 04000;
  static final int S_ISGID = 02000;
  static final int S_ISVTX = 01000;

  private static final PosixFilePermission[] ORDER = {
    PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE,
    PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
    PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE
  };

  private FileModes() {}

  /**
   * Go's string for a POSIX {@code st_mode}: the type letters of "dalTLDpSugct?" that apply (in
   * that order; "-" when none), then "rwxrwxrwx" with "-" for each bit not set.
   */
  public static String goString(int stMode) {
    StringBuilder b = new StringBuilder(12);
    int type = stMode & S_IFMT;
    if (type == S_IFDIR) {
      b.append('d');
    }
    if (type == S_IFLNK) {
      b.append('L');
    }
    if (type == S_IFBLK || type == S_IFCHR) {
      b.append('D');
    }
    if (type == S_IFIFO) {
      b.append('p');
    }
    if (type == S_IFSOCK) {
      b.append('S');
    }
    if ((stMode & S_ISUID) != 0) {
      b.append('u');
    }
    if ((stMode & S_ISGID) != 0) {
      b.append('g');
    }
    if (type == S_IFCHR) {
      b.append('c');
    }
    if ((stMode & S_ISVTX) != 0) {
      b.append('t');
    }
    if (type != 0 && type != S_IFREG && type != S_IFDIR && type != S_IFLNK && type != S_IFBLK
        && type != S_IFCHR && type != S_IFIFO && type != S_IFSOCK) {
      b.append('?');
    }
    if (b.length() == 0) {
      b.append('-');
    }
    String rwx = "rwxrwxrwx";
    for (int i = 0; i < 9; i++) {
      b.append((stMode & (1 << (8 - i))) != 0 ? rwx.charAt(i) : '-');
    }
    return b.toString();
  }

  /**
   * The {@code st_mode} of {@code p}, not following a symlink. Uses the "unix" attribute view
   * where the JDK has it (Linux, macOS), else rebuilds type and permissions from the portable
   * views.
   */
  public static int stMode(Path p, BasicFileAttributes attrs) throws IOException {
    try {
      Object mode = Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
      if (mode instanceof Integer m) {
        return m;
      }
    } catch (UnsupportedOperationException | IllegalArgumentException e) {
      // No unix view on this platform: fall through.
    }
    int type;
    if (attrs.isSymbolicLink()) {
      type = S_IFLNK;
    } else if (attrs.isDirectory()) {
      type = S_IFDIR;
    } else if (attrs.isRegularFile()) {
      type = S_IFREG;
    } else {
      type = S_IFIFO; // "other": the closest Go shows is a named pipe or irregular file
    }
    int perm;
    if (attrs instanceof PosixFileAttributes posix) {
      perm = bits(posix.permissions());
    } else {
      perm = attrs.isDirectory() ? 0755 : (Files.isExecutable(p) ? 0755 : 0644);
    }
    return type | perm;
  }

  /** Permission bits (0777) as a set. */
  public static Set<PosixFilePermission> permissions(int mode) {
    Set<PosixFilePermission> set = EnumSet.noneOf(PosixFilePermission.class);
    for (int i = 0; i < 9; i++) {
      if ((mode & (1 << (8 - i))) != 0) {
        set.add(ORDER[i]);
      }
    }
    return set;
  }

  /** A permission set as bits. */
  public static int bits(Set<PosixFilePermission> perms) {
    int mode = 0;
    for (int i = 0; i < 9; i++) {
      if (perms.contains(ORDER[i])) {
        mode |= 1 << (8 - i);
      }
    }
    return mode;
  }
}
