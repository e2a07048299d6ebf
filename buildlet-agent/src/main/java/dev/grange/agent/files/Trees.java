package dev.grange.agent.files;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;

/** Whole-tree file operations the other classes of this package share. */
final class Trees {
  private Trees() {}

  /**
   * Deletes {@code p} and everything under it without following symlinks (a link is removed,
   * never what it points to). Read-only directories are made writable first: Go's module
   * cache, for one, is read-only on purpose and would otherwise survive every cleanup.
   *
   * @param keepRoot empty {@code p} but keep it
   */
  static void delete(Path p, boolean keepRoot) throws IOException {
    if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
      Files.deleteIfExists(p);
      return;
    }
    Files.walkFileTree(
        p,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
            makeOwnerWritable(dir);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
            Files.deleteIfExists(file);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
            if (e instanceof NoSuchFileException) {
              return FileVisitResult.CONTINUE;
            }
            // An unreadable entry is still removable by name from its (writable) parent.
            Files.deleteIfExists(file);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
            if (e != null && !(e instanceof NoSuchFileException)) {
              throw e;
            }
            if (!keepRoot || !dir.equals(p)) {
              Files.deleteIfExists(dir);
            }
            return FileVisitResult.CONTINUE;
          }
        });
  }

  /** Deletes quietly: for cleanup on a path that already failed. */
  static void deleteQuietly(Path p) {
    try {
      delete(p, false);
    } catch (IOException ignored) {
      // Staging leftovers are removed again at the next start.
    }
  }

  /** Sets the permission bits where the filesystem has them (not on Windows). */
  static void setMode(Path p, int mode) throws IOException {
    PosixFileAttributeView view =
        Files.getFileAttributeView(p, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
    if (view != null) {
      view.setPermissions(FileModes.permissions(mode));
    }
  }

  private static void makeOwnerWritable(Path dir) {
    PosixFileAttributeView view =
        Files.getFileAttributeView(dir, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
    if (view == null) {
      return;
    }
    try {
      Set<PosixFilePermission> perms = view.readAttributes().permissions();
      if (!perms.contains(PosixFilePermission.OWNER_WRITE)
          || !perms.contains(PosixFilePermission.OWNER_EXECUTE)
          || !perms.contains(PosixFilePermission.OWNER_READ)) {
        perms.add(PosixFilePermission.OWNER_READ);
        perms.add(PosixFilePermission.OWNER_WRITE);
        perms.add(PosixFilePermission.OWNER_EXECUTE);
        view.setPermissions(perms);
      }
    } catch (IOException ignored) {
      // Not ours to change: the delete below reports the real problem.
    }
  }
}
