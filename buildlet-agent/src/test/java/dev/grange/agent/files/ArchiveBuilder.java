package dev.grange.agent.files;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/** Builds real tar and tar.gz archives for tests, including the entries the agent must refuse. */
public final class ArchiveBuilder {
  private record Item(TarArchiveEntry entry, byte[] content) {}

  private final List<Item> items = new ArrayList<>();

  public ArchiveBuilder file(String name, String content) {
    return file(name, content.getBytes(StandardCharsets.UTF_8), 0644);
  }

  public ArchiveBuilder file(String name, byte[] content, int mode) {
    TarArchiveEntry e = new TarArchiveEntry(name, true);
    e.setSize(content.length);
    e.setMode(0100000 | mode);
    items.add(new Item(e, content));
    return this;
  }

  public ArchiveBuilder dir(String name) {
    TarArchiveEntry e = new TarArchiveEntry(name.endsWith("/") ? name : name + "/", true);
    e.setMode(040755);
    items.add(new Item(e, new byte[0]));
    return this;
  }

  public ArchiveBuilder symlink(String name, String target) {
    TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_SYMLINK, true);
    e.setLinkName(target);
    items.add(new Item(e, new byte[0]));
    return this;
  }

  public ArchiveBuilder hardLink(String name, String target) {
    TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_LINK, true);
    e.setLinkName(target);
    items.add(new Item(e, new byte[0]));
    return this;
  }

  public ArchiveBuilder special(String name, byte linkFlag) {
    TarArchiveEntry e = new TarArchiveEntry(name, linkFlag, true);
    items.add(new Item(e, new byte[0]));
    return this;
  }

  public byte[] tar() {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      try (TarArchiveOutputStream tar = new TarArchiveOutputStream(out)) {
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        for (Item i : items) {
          tar.putArchiveEntry(i.entry());
          tar.write(i.content());
          tar.closeArchiveEntry();
        }
      }
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public byte[] tarGz() {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
        gz.write(tar());
      }
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
