package dev.grange.agent.files;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a gzip'd tar of a directory for get_tar: names relative to it ("/" after directories),
 * regular files with their mode and mtime, symlinks as symlinks (never followed, so a link out
 * of the workdir cannot pull outside files in). Sockets, fifos and devices are skipped; files
 * that vanish during the walk too. Names are sorted, so the same tree gives the same archive.
 */
public final class TarPacker {
  private static final Logger log = LoggerFactory.getLogger(TarPacker.class);

  private TarPacker() {}

  /** Writes the archive of {@code dir} to {@code out} and finishes the gzip stream (not {@code out}). */
  public static void pack(Path dir, OutputStream out) throws IOException {
    GZIPOutputStream gz = new GZIPOutputStream(new Unclosable(out), 64 << 10);
    TarArchiveOutputStream tar = new TarArchiveOutputStream(gz);
    tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
    tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
    walk(dir, "", tar, new byte[64 << 10]);
    tar.finish();
    gz.finish();
    gz.flush();
  }

  private static void walk(Path dir, String prefix, TarArchiveOutputStream tar, byte[] buf) throws IOException {
    List<Path> children = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      ds.forEach(children::add);
    } catch (NoSuchFileException e) {
      return;
    }
    children.sort((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()));
    for (Path p : children) {
      String name = prefix + p.getFileName();
      BasicFileAttributes attrs;
      try {
        attrs = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      } catch (NoSuchFileException e) {
        continue;
      }
      int mode = FileModes.stMode(p, attrs) & 0777;
      if (attrs.isSymbolicLink()) {
        TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_SYMLINK);
        e.setLinkName(Files.readSymbolicLink(p).toString());
        e.setMode(0777);
        e.setModTime(attrs.lastModifiedTime());
        tar.putArchiveEntry(e);
        tar.closeArchiveEntry();
      } else if (attrs.isDirectory()) {
        TarArchiveEntry e = new TarArchiveEntry(name + "/");
        e.setMode(TarArchiveEntry.DEFAULT_DIR_MODE & ~0777 | mode);
        e.setModTime(attrs.lastModifiedTime());
        tar.putArchiveEntry(e);
        tar.closeArchiveEntry();
        walk(p, name + "/", tar, buf);
      } else if (attrs.isRegularFile()) {
        file(p, name, mode, attrs, tar, buf);
      } else {
        log.debug("get_tar skips [{}]: not a file, directory or symlink", p);
      }
    }
  }

  private static void file(Path p, String name, int mode, BasicFileAttributes attrs, TarArchiveOutputStream tar, byte[] buf)
      throws IOException {
    InputStream in;
    try {
      in = Files.newInputStream(p, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      return;
    }
    try (in) {
      long size = attrs.size();
      TarArchiveEntry e = new TarArchiveEntry(name);
      e.setMode(TarArchiveEntry.DEFAULT_FILE_MODE & ~0777 | mode);
      e.setSize(size);
      e.setModTime(attrs.lastModifiedTime());
      tar.putArchiveEntry(e);
      // The header promised `size` bytes: a file that grows is cut, one that shrinks is padded.
      long left = size;
      while (left > 0) {
        int n = in.read(buf, 0, (int) Math.min(buf.length, left));
        if (n < 0) {
          log.warn("get_tar: [{}] shrank while being archived; padding with zeros", p);
          java.util.Arrays.fill(buf, (byte) 0);
          while (left > 0) {
            int z = (int) Math.min(buf.length, left);
            tar.write(buf, 0, z);
            left -= z;
          }
          break;
        }
        tar.write(buf, 0, n);
        left -= n;
      }
      tar.closeArchiveEntry();
    }
  }

  /** Lets the gzip stream finish without closing the stream the caller still has to end. */
  private static final class Unclosable extends java.io.FilterOutputStream {
    Unclosable(OutputStream out) {
      super(out);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
    }

    @Override
    public void close() throws IOException {
      flush();
    }
  }
}
