package dev.grange.agent.files;

import dev.grange.agent.channel.OpException;
import dev.grange.protocol.wire.WorkPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.UUID;

/**
 * The agent's workdir and the checks every path from the node passes (PROTOCOL.md section 4).
 * A path is first held to the lexical rules of {@link WorkPaths#normalize} (relative, "/"
 * separators, no "..", no drive letter), then resolved on disk the way the kernel would, one
 * component at a time with symlinks followed, and refused with {@code forbidden_path} unless
 * where it really lands is inside the workdir. A dangling symlink counts too: writing through
 * it would create its target.
 *
 * <p>Operations work on the resolved, symlink-free paths this class returns, so nothing between
 * the check and the use follows a link again. (A build process running at the same moment can
 * still move things; it runs as the same user and could do anything anyway.)
 *
 * <p>Also owns the staging area: a sibling of the workdir, on the same filesystem, where
 * archives and files are assembled before they are moved into place.
 */
public final class WorkDir {
  private static final int MAX_LINK_HOPS = 40;

  private final Path root;
  private final Path staging;

  /**
   * @param root the workdir; created if missing
   * @param staging the staging area; must not be inside the workdir
   */
  public WorkDir(Path root, Path staging) throws IOException {
    Files.createDirectories(root);
    Files.createDirectories(staging);
    this.root = root.toRealPath();
    this.staging = staging.toRealPath();
    if (this.staging.startsWith(this.root) || this.root.startsWith(this.staging)) {
      throw new IllegalArgumentException(
          "staging area " + this.staging + " must be outside the workdir " + this.root);
    }
  }

  /** The workdir, absolute and without symlinks: what {@code ready} and $WORKDIR show. */
  public Path root() {
    return root;
  }

  public Path staging() {
    return staging;
  }

  /** A fresh, empty directory in the staging area. */
  public Path newStagingDir() throws IOException {
    return Files.createDirectory(staging.resolve(UUID.randomUUID().toString()));
  }

  /**
   * The real location of {@code rel}, every symlink followed (for directories the operation
   * works in: ls, get_tar, exec's dir, put_tar's target).
   *
   * @throws OpException forbidden_path when it is refused by the lexical rules or lands outside
   */
  public Path resolve(String rel) throws OpException {
    String norm = normalize(rel);
    Path real = realize(root.resolve(norm), null);
    requireInside(real, rel);
    return real;
  }

  /**
   * {@code rel} with its parent resolved and its last component kept as is (for paths the
   * operation replaces or removes: write_file, remove_all). A symlink at the last component is
   * then the thing replaced or removed, never followed.
   */
  public Path locate(String rel) throws OpException {
    String norm = normalize(rel);
    if (norm.equals(".")) {
      return root;
    }
    Path full = root.resolve(norm);
    Path parent = realize(full.getParent(), null);
    requireInside(parent, rel);
    return parent.resolve(full.getFileName().toString());
  }

  /** Throws forbidden_path unless {@code real} (already resolved) is the workdir or inside it. */
  public void requireInside(Path real, String shownAs) throws OpException {
    if (!real.normalize().startsWith(root)) {
      throw OpException.forbidden("path \"" + shownAs + "\" resolves outside the workdir");
    }
  }

  /** True when {@code real} is the workdir or inside it. */
  public boolean isInside(Path real) {
    return real.normalize().startsWith(root);
  }

  /** The relative name of a path inside the workdir, "/"-separated, "." for the root. */
  public String relative(Path inside) {
    Path r = root.relativize(inside);
    String s = r.toString().replace(java.io.File.separatorChar, '/');
    return s.isEmpty() ? "." : s;
  }

  private static String normalize(String rel) throws OpException {
    try {
      return WorkPaths.normalize(rel);
    } catch (WorkPaths.ForbiddenPathException e) {
      throw OpException.forbidden(e.getMessage());
    }
  }

  /**
   * Where {@code abs} really lands: walks it one component at a time from the filesystem root,
   * replacing each symlink by its target (and "..", after a symlink, goes up from where the
   * link led, as the kernel does); components that do not exist are appended as they are.
   *
   * @param overlay entries about to be placed, which count as if they were already on disk
   *     (an archive's own symlinks must be judged by where they will lead), or null
   * @throws OpException forbidden_path on a symlink loop
   */
  public static Path realize(Path abs, Overlay overlay) throws OpException {
    Deque<String> todo = new ArrayDeque<>();
    push(todo, abs);
    Path cur = abs.getRoot();
    int hops = 0;
    while (!todo.isEmpty()) {
      String c = todo.pollFirst();
      if (c.isEmpty() || c.equals(".")) {
        continue;
      }
      if (c.equals("..")) {
        // cur never contains a symlink, so its lexical parent is its real parent.
        Path up = cur.getParent();
        cur = up == null ? cur : up;
        continue;
      }
      Path next = cur.resolve(c);
      Path target = linkTarget(next, overlay);
      if (target == null) {
        cur = next;
        continue;
      }
      if (++hops > MAX_LINK_HOPS) {
        throw OpException.forbidden("too many levels of symlinks at " + next);
      }
      push(todo, target);
      if (target.isAbsolute()) {
        cur = target.getRoot();
      }
    }
    return cur;
  }

  /** The target of {@code p} if it is a symlink (in the overlay first, then on disk), else null. */
  private static Path linkTarget(Path p, Overlay overlay) throws OpException {
    if (overlay != null) {
      Overlay.Kind kind = overlay.kindOf(p);
      if (kind == Overlay.Kind.LINK) {
        return overlay.linkTarget(p);
      }
      if (kind != null) {
        return null;
      }
    }
    if (!Files.isSymbolicLink(p)) {
      return null;
    }
    try {
      return Files.readSymbolicLink(p);
    } catch (IOException e) {
      throw OpException.io("cannot read symlink " + p + ": " + e.getMessage(), e);
    }
  }

  private static void push(Deque<String> todo, Path p) {
    // Front of the queue, in order: the target's components are walked before the rest.
    for (int i = p.getNameCount() - 1; i >= 0; i--) {
      todo.addFirst(p.getName(i).toString());
    }
  }

  /** True when {@code p} exists as a directory, not through a symlink. */
  static boolean isRealDirectory(Path p) {
    return Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS);
  }

  /**
   * Entries about to be placed under {@code base} (an extracted archive waiting in {@code
   * staged}): for a path under {@code base}, what is at the same place under {@code staged}.
   */
  public record Overlay(Path base, Path staged) {
    enum Kind {
      DIR,
      OTHER,
      LINK
    }

    Kind kindOf(Path p) {
      if (!p.startsWith(base) || p.equals(base)) {
        return null;
      }
      Path s = staged.resolve(base.relativize(p).toString());
      if (Files.isSymbolicLink(s)) {
        return Kind.LINK;
      }
      if (Files.isDirectory(s, LinkOption.NOFOLLOW_LINKS)) {
        return Kind.DIR;
      }
      return Files.exists(s, LinkOption.NOFOLLOW_LINKS) ? Kind.OTHER : null;
    }

    Path linkTarget(Path p) throws OpException {
      Path s = staged.resolve(base.relativize(p).toString());
      try {
        return Files.readSymbolicLink(s);
      } catch (IOException e) {
        throw OpException.io("cannot read staged symlink " + s + ": " + e.getMessage(), e);
      }
    }
  }
}
