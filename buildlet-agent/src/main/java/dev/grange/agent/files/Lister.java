package dev.grange.agent.files;

import dev.grange.protocol.wire.AgentFrame;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Consumer;

/**
 * The walk behind {@code ls}: entries of a directory (and below, when recursive), sorted by name
 * at each level, a directory before its contents. Names are "/"-separated and relative to the
 * listed directory; {@code mode} is Go's FileMode string; {@code mtime} is milliseconds since the
 * epoch; {@code sha1} is set for regular files when asked. A {@code skip} entry leaves out that
 * path and everything under it. Symlinks are listed, never followed.
 *
 * <p>Entries come out in pages small enough for one text frame.
 */
public final class Lister {
  /** Entries per page at most. */
  static final int PAGE_ENTRIES = 1000;
  /** A page is cut before its estimated JSON passes this, well under the 1 MiB frame limit. */
  static final int PAGE_BYTES = 512 << 10;

  private final boolean recursive;
  private final boolean digest;
  private final List<String> skip;
  private final Consumer<List<AgentFrame.LsEntry>> pages;
  private final List<AgentFrame.LsEntry> page = new ArrayList<>();
  private final byte[] buf = new byte[64 << 10];
  private int pageBytes;
  private boolean sentAny;

  private Lister(boolean recursive, boolean digest, List<String> skip, Consumer<List<AgentFrame.LsEntry>> pages) {
    this.recursive = recursive;
    this.digest = digest;
    this.skip = skip.stream().map(Lister::clean).filter(s -> !s.isEmpty()).toList();
    this.pages = pages;
  }

  /** Lists {@code dir}, handing each full page (and the last, possibly empty one) to {@code pages}. */
  public static void list(
      Path dir, boolean recursive, boolean digest, List<String> skip, Consumer<List<AgentFrame.LsEntry>> pages)
      throws IOException {
    Lister l = new Lister(recursive, digest, skip, pages);
    l.walk(dir, "");
    // At least one page, even for an empty directory: the node waits for one before ok.
    if (!l.page.isEmpty() || !l.sentAny) {
      l.flush();
    }
  }

  private void walk(Path dir, String prefix) throws IOException {
    List<Path> children = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      ds.forEach(children::add);
    } catch (NoSuchFileException e) {
      return;
    }
    children.sort((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()));
    for (Path p : children) {
      String name = prefix + p.getFileName();
      if (skipped(name)) {
        continue;
      }
      BasicFileAttributes attrs;
      try {
        attrs = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      } catch (NoSuchFileException e) {
        continue;
      }
      String sha1 = digest && attrs.isRegularFile() ? sha1(p) : null;
      add(new AgentFrame.LsEntry(
          name,
          FileModes.goString(FileModes.stMode(p, attrs)),
          attrs.size(),
          attrs.lastModifiedTime().toMillis(),
          sha1));
      if (recursive && attrs.isDirectory()) {
        walk(p, name + "/");
      }
    }
  }

  private boolean skipped(String name) {
    for (String s : skip) {
      if (name.equals(s) || name.startsWith(s + "/")) {
        return true;
      }
    }
    return false;
  }

  private void add(AgentFrame.LsEntry e) {
    int size = e.name().length() * 2 + 160;
    if (!page.isEmpty() && (page.size() >= PAGE_ENTRIES || pageBytes + size > PAGE_BYTES)) {
      flush();
    }
    page.add(e);
    pageBytes += size;
  }

  private void flush() {
    pages.accept(List.copyOf(page));
    sentAny = true;
    page.clear();
    pageBytes = 0;
  }

  private String sha1(Path p) throws IOException {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-1");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    try (InputStream in = Files.newInputStream(p, LinkOption.NOFOLLOW_LINKS)) {
      int n;
      while ((n = in.read(buf)) > 0) {
        md.update(buf, 0, n);
      }
    } catch (NoSuchFileException e) {
      return null;
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private static String clean(String s) {
    String t = s;
    while (t.startsWith("./")) {
      t = t.substring(2);
    }
    while (t.endsWith("/")) {
      t = t.substring(0, t.length() - 1);
    }
    return t;
  }
}
