package dev.grange.agent.files;

import dev.grange.agent.channel.OpException;
import dev.grange.protocol.wire.WorkPaths;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Unpacks a tar (or tar.gz) into a fresh staging directory under the rules of PROTOCOL.md
 * section 4, entry by entry as it arrives: regular files, directories, and symlinks whose target
 * stays inside the workdir; hard links, devices, fifos and any other type refused; names
 * through {@link WorkPaths#normalize} (no "..", nothing absolute); modes masked to 0777; caps on
 * entries and total bytes. A refusal throws {@link OpException} and the staging directory is
 * deleted, so the workdir never saw anything of the archive.
 *
 * <p>A {@link Staged} archive is moved into place by {@link Placement} only after the caller
 * checked the stream's end (count and digest). Refusal codes: names and symlink targets {@code
 * forbidden_path}; entry types and malformed archives {@code bad_request}; caps {@code
 * too_large}; disk and transfer failures {@code io_error}.
 */
public final class TarExtractor {
  private final WorkDir workDir;
  private final long maxBytes;
  private final long maxEntries;

  public TarExtractor(WorkDir workDir, long maxBytes, long maxEntries) {
    this.workDir = workDir;
    this.maxBytes = maxBytes;
    this.maxEntries = maxEntries;
  }

  /**
   * Reads the whole archive from {@code raw} (stopping at the tar end-of-archive marker) into a
   * staging directory meant for {@code target} (a resolved directory inside the workdir).
   */
  public Staged stage(Path target, InputStream raw, boolean gzip) throws OpException {
    Path dir;
    try {
      dir = workDir.newStagingDir();
    } catch (IOException e) {
      throw OpException.io("cannot create a staging directory: " + e.getMessage(), e);
    }
    Staged staged = new Staged(workDir, target, dir);
    try {
      Source source = new Source(raw);
      TarArchiveInputStream tar;
      try {
        InputStream in = gzip ? new GZIPInputStream(source, 64 << 10) : source;
        tar = new TarArchiveInputStream(in);
      } catch (IOException e) {
        throw readFailure(source, e);
      }
      new Unpacker(staged, tar, source).run();
      return staged;
    } catch (OpException | RuntimeException e) {
      staged.close();
      throw e;
    }
  }

  private OpException readFailure(Source source, IOException e) {
    if (source.failed) {
      return OpException.io("receiving the archive failed: " + e.getMessage(), e);
    }
    String what = e instanceof EOFException ? "is truncated" : "is not a valid tar";
    return OpException.badRequest("the archive " + what + ": " + e.getMessage());
  }

  /** One pass over the entries of one archive. */
  private final class Unpacker {
    private final Staged staged;
    private final TarArchiveInputStream tar;
    private final Source source;
    private final Set<Path> madeDirs = new HashSet<>();
    private final long startMillis = System.currentTimeMillis();
    private final byte[] buf = new byte[64 << 10];
    private long entries;

    Unpacker(Staged staged, TarArchiveInputStream tar, Source source) {
      this.staged = staged;
      this.tar = tar;
      this.source = source;
      madeDirs.add(staged.dir);
    }

    void run() throws OpException {
      TarArchiveEntry e;
      while ((e = next()) != null) {
        entries++;
        if (entries > maxEntries) {
          throw OpException.tooLarge(
              "the archive has more than " + maxEntries + " entries (the agent's --max-archive-entries)");
        }
        unpack(e);
      }
    }

    private TarArchiveEntry next() throws OpException {
      try {
        return tar.getNextEntry();
      } catch (IOException e) {
        throw readFailure(source, e);
      } catch (IllegalArgumentException e) {
        throw OpException.badRequest("the archive is not a valid tar: " + e.getMessage());
      }
    }

    private void unpack(TarArchiveEntry e) throws OpException {
      String name = e.getName();
      Kind kind = kindOf(e);
      String rel;
      try {
        rel = WorkPaths.normalize(name);
      } catch (WorkPaths.ForbiddenPathException x) {
        throw OpException.forbidden("archive entry \"" + name + "\": " + x.getMessage());
      }
      if (rel.equals(".")) {
        if (kind != Kind.DIR) {
          throw OpException.badRequest("archive entry \"" + name + "\" has no name");
        }
        return;
      }
      Path p = staged.dir.resolve(rel);
      try {
        switch (kind) {
          case DIR -> dir(rel, p, e);
          case FILE -> file(rel, p, e);
          case LINK -> link(rel, p, e);
        }
      } catch (IOException x) {
        if (source.failed) {
          throw OpException.io("receiving the archive failed: " + x.getMessage(), x);
        }
        if (x instanceof EOFException || x.getMessage() != null && x.getMessage().contains("runcated")) {
          throw OpException.badRequest("the archive is truncated in entry \"" + name + "\"");
        }
        throw OpException.io("cannot stage archive entry \"" + name + "\": " + x.getMessage(), x);
      }
    }

    private Kind kindOf(TarArchiveEntry e) throws OpException {
      String name = e.getName();
      if (e.isLink()) {
        throw refusedType(name, "a hard link");
      }
      if (e.isCharacterDevice() || e.isBlockDevice()) {
        throw refusedType(name, "a device");
      }
      if (e.isFIFO()) {
        throw refusedType(name, "a fifo");
      }
      if (e.isSymbolicLink()) {
        return Kind.LINK;
      }
      byte flag = e.getLinkFlag();
      if (flag == TarConstants.LF_DIR) {
        return Kind.DIR;
      }
      if (flag == TarConstants.LF_NORMAL || flag == TarConstants.LF_OLDNORM || flag == TarConstants.LF_CONTIG) {
        // Old tars mark directories only by the trailing slash.
        return name.endsWith("/") ? Kind.DIR : Kind.FILE;
      }
      throw refusedType(name, "of tar type '" + (char) flag + "'");
    }

    private void dir(String rel, Path p, TarArchiveEntry e) throws IOException, OpException {
      parents(rel, p);
      if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
        if (!WorkDir.isRealDirectory(p)) {
          throw conflict(rel);
        }
      } else {
        Files.createDirectory(p);
      }
      madeDirs.add(p);
      staged.dirModes.put(rel, e.getMode() & 0777);
    }

    private void file(String rel, Path p, TarArchiveEntry e) throws IOException, OpException {
      long size = e.getSize();
      staged.bytes += size;
      if (staged.bytes > maxBytes) {
        throw OpException.tooLarge(
            "the archive holds more than " + maxBytes + " bytes (the agent's --max-archive-bytes)");
      }
      parents(rel, p);
      replaceable(rel, p);
      long copied = 0;
      // CREATE_NEW never follows a symlink: the path was just cleared, and a link raced in is an error.
      try (OutputStream out = Files.newOutputStream(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        int n;
        while ((n = tar.read(buf)) > 0) {
          out.write(buf, 0, n);
          copied += n;
        }
      }
      if (copied != size) {
        throw new EOFException("archive entry \"" + rel + "\" is truncated: " + copied + " of " + size + " bytes");
      }
      Trees.setMode(p, e.getMode() & 0777);
      // A clock behind the archive's maker would leave files "from the future" (golang.org/issue/19062).
      FileTime modified = e.getLastModifiedTime();
      long mtime = modified == null ? 0 : Math.min(modified.toMillis(), startMillis);
      if (mtime > 0) {
        Files.setLastModifiedTime(p, FileTime.fromMillis(mtime));
      }
      staged.files++;
    }

    private void link(String rel, Path p, TarArchiveEntry e) throws IOException, OpException {
      String target = e.getLinkName();
      if (target == null || target.isEmpty()) {
        throw OpException.badRequest("archive entry \"" + rel + "\" is a symlink without a target");
      }
      parents(rel, p);
      replaceable(rel, p);
      // An early look with what is staged so far; Placement looks again with the whole archive.
      staged.checkLink(rel, Path.of(target));
      Files.createSymbolicLink(p, Path.of(target));
    }

    /** Creates the entry's missing parents; refuses a parent that the archive made a link or file. */
    private void parents(String rel, Path p) throws IOException, OpException {
      Path parent = p.getParent();
      if (madeDirs.contains(parent)) {
        return;
      }
      Path cur = staged.dir;
      for (Path part : staged.dir.relativize(parent)) {
        cur = cur.resolve(part.toString());
        if (madeDirs.contains(cur)) {
          continue;
        }
        if (Files.isSymbolicLink(cur)) {
          throw OpException.forbidden(
              "archive entry \"" + rel + "\" goes through the archive's own symlink \""
                  + staged.dir.relativize(cur) + "\"");
        }
        if (Files.exists(cur, LinkOption.NOFOLLOW_LINKS) && !WorkDir.isRealDirectory(cur)) {
          throw conflict(staged.dir.relativize(cur).toString());
        }
        if (!Files.exists(cur, LinkOption.NOFOLLOW_LINKS)) {
          Files.createDirectory(cur);
        }
        madeDirs.add(cur);
      }
    }

    /** A later entry of the same name replaces an earlier file or link, never a directory. */
    private void replaceable(String rel, Path p) throws IOException, OpException {
      if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
        if (WorkDir.isRealDirectory(p)) {
          throw conflict(rel);
        }
        Files.delete(p);
      }
    }
  }

  private static OpException refusedType(String name, String what) {
    return OpException.badRequest(
        "archive entry \"" + name + "\" is " + what
            + "; archives may hold only regular files, directories and symlinks inside the workdir");
  }

  private static OpException conflict(String rel) {
    return OpException.badRequest("archive has both a directory and a non-directory at \"" + rel + "\"");
  }

  private enum Kind {
    DIR,
    FILE,
    LINK
  }

  /**
   * An archive unpacked in staging, waiting for the caller's end check. {@link #place()} moves
   * it into the workdir; {@link #close()} deletes whatever is left of it.
   */
  public static final class Staged implements AutoCloseable {
    private final WorkDir workDir;
    private final Path target;
    private final Path dir;
    private final Map<String, Integer> dirModes = new HashMap<>();
    private long files;
    private long bytes;

    Staged(WorkDir workDir, Path target, Path dir) {
      this.workDir = workDir;
      this.target = target;
      this.dir = dir;
    }

    /** Regular files in the archive. */
    public long files() {
      return files;
    }

    /** Bytes of regular-file content in the archive. */
    public long bytes() {
      return bytes;
    }

    /** Checks every rule that depends on the workdir as it is now, then moves the archive in. */
    public void place() throws OpException {
      new Placement(workDir, target, dir, dirModes).run();
    }

    void checkLink(String rel, Path linkTarget) throws OpException {
      Placement.checkLink(workDir, target, dir, rel, linkTarget);
    }

    @Override
    public void close() {
      Trees.deleteQuietly(dir);
    }
  }

  /** The raw stream, remembering whether it failed (a transfer problem, not a bad archive). */
  private static final class Source extends FilterInputStream {
    private boolean failed;

    Source(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      try {
        return super.read();
      } catch (IOException e) {
        failed = true;
        throw e;
      }
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      try {
        return super.read(b, off, len);
      } catch (IOException e) {
        failed = true;
        throw e;
      }
    }

    @Override
    public void close() {
      // The caller owns the raw stream: it still has to read it to its end and check it.
    }
  }
}
