package dev.grange.agent.files;

import dev.grange.agent.channel.OpException;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Map;
import java.util.UUID;

/**
 * Moves a staged archive into the workdir, in two passes. The first changes nothing: it checks
 * what depends on the workdir as it is now (a file that would replace a directory; each symlink
 * judged by where it will really lead once the archive is in place, other entries of the same
 * archive included). Only when every entry passed does the second pass move them in, one
 * rename each (atomic on one filesystem), so no file is ever seen half-written under its name.
 *
 * <p>Directories merge with existing ones; a directory entry where the workdir has a file or a
 * symlink replaces it (GNU tar's default), which keeps every placed path free of symlinks.
 */
final class Placement {
  private final WorkDir workDir;
  private final Path target;
  private final Path staged;
  private final Map<String, Integer> dirModes;

  Placement(WorkDir workDir, Path target, Path staged, Map<String, Integer> dirModes) {
    this.workDir = workDir;
    this.target = target;
    this.staged = staged;
    this.dirModes = dirModes;
  }

  void run() throws OpException {
    Path real = WorkDir.realize(target, null);
    String shown = workDir.relative(target);
    workDir.requireInside(real, shown);
    if (!real.equals(target)) {
      throw OpException.forbidden("directory \"" + shown + "\" changed while the archive arrived");
    }
    if (Files.exists(target, LinkOption.NOFOLLOW_LINKS) && !WorkDir.isRealDirectory(target)) {
      throw OpException.badRequest("\"" + shown + "\" is not a directory");
    }
    check();
    apply();
  }

  /** Throws forbidden_path unless the symlink {@code rel -> linkTarget} lands inside the workdir. */
  static void checkLink(WorkDir workDir, Path target, Path staged, String rel, Path linkTarget)
      throws OpException {
    Path dest = target.resolve(rel);
    Path candidate = linkTarget.isAbsolute() ? linkTarget : dest.getParent().resolve(linkTarget);
    Path real = WorkDir.realize(candidate, new WorkDir.Overlay(target, staged));
    if (!workDir.isInside(real)) {
      throw OpException.forbidden(
          "archive entry \"" + rel + "\" is a symlink to \"" + linkTarget + "\", which resolves outside the workdir");
    }
  }

  private void check() throws OpException {
    walk(new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) throws IOException {
        String rel = rel(f);
        if (WorkDir.isRealDirectory(target.resolve(rel))) {
          throw new Refused(OpException.badRequest(
              "archive entry \"" + rel + "\" would replace the directory \"" + rel + "\" in the workdir; remove it first"));
        }
        if (attrs.isSymbolicLink()) {
          try {
            checkLink(workDir, target, staged, rel, Files.readSymbolicLink(f));
          } catch (OpException e) {
            throw new Refused(e);
          }
        }
        return FileVisitResult.CONTINUE;
      }
    }, "checking the archive");
  }

  private void apply() throws OpException {
    try {
      Files.createDirectories(target);
    } catch (IOException e) {
      throw OpException.io("cannot create \"" + workDir.relative(target) + "\": " + e.getMessage(), e);
    }
    walk(new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) throws IOException {
        if (!d.equals(staged)) {
          Path dest = target.resolve(rel(d));
          if (!WorkDir.isRealDirectory(dest)) {
            Files.deleteIfExists(dest);
            Files.createDirectory(dest);
          }
        }
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) throws IOException {
        move(f, target.resolve(rel(f)));
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
        if (e != null) {
          throw e;
        }
        if (!d.equals(staged)) {
          Integer mode = dirModes.get(rel(d));
          if (mode != null) {
            // Owner rwx always: the agent must be able to fill and later remove what it made.
            Trees.setMode(target.resolve(rel(d)), mode | 0700);
          }
        }
        return FileVisitResult.CONTINUE;
      }
    }, "placing the archive");
  }

  private void walk(SimpleFileVisitor<Path> visitor, String what) throws OpException {
    try {
      Files.walkFileTree(staged, visitor);
    } catch (Refused r) {
      throw r.op;
    } catch (IOException e) {
      throw OpException.io(what + " failed: " + e.getMessage(), e);
    }
  }

  private String rel(Path staged) {
    return this.staged.relativize(staged).toString();
  }

  /** One rename; across filesystems a copy to a temporary name, then a rename. */
  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Path tmp = to.resolveSibling(".grange-" + UUID.randomUUID() + ".tmp");
      Files.copy(from, tmp, StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
      Files.move(tmp, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
  }

  /** Carries a refusal out of a file visitor, which may only throw IOException. */
  private static final class Refused extends IOException {
    final transient OpException op;

    Refused(OpException op) {
      super(op.getMessage());
      this.op = op;
    }
  }
}
