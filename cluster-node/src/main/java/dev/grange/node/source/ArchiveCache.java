package dev.grange.node.source;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the source archives under {@code <cache>/archives} within a size: a file's modification
 * time is when it was last served ({@link #used}), and when the archives are over the limit the
 * least recently served go first, never the one just made. An archive being streamed while it is
 * deleted is read to its end (the open file outlives its name); the next request makes it again.
 */
final class ArchiveCache {
  private static final Logger log = LoggerFactory.getLogger(ArchiveCache.class);

  private ArchiveCache() {}

  /** Marks {@code archive} as served now. */
  static void used(Path archive) {
    try {
      Files.setLastModifiedTime(archive, FileTime.fromMillis(System.currentTimeMillis()));
    } catch (NoSuchFileException gone) {
      // Trimmed meanwhile: served from the open file all the same.
    } catch (IOException e) {
      log.debug("Cannot mark [{}] as used: {}", archive, e.toString());
    }
  }

  /**
   * Deletes the least recently served archives under {@code dir} until they hold at most {@code
   * maxBytes}, keeping {@code keep}. Returns how many were deleted.
   */
  static int trim(Path dir, long maxBytes, Path keep) {
    if (maxBytes == Long.MAX_VALUE || !Files.isDirectory(dir)) {
      return 0;
    }
    record Entry(Path path, long size, long usedMs) {}
    List<Entry> all = new ArrayList<>();
    long total = 0;
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        if (!p.getFileName().toString().endsWith(".tar.gz")) {
          continue;
        }
        try {
          BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
          if (a.isRegularFile()) {
            all.add(new Entry(p, a.size(), a.lastModifiedTime().toMillis()));
            total += a.size();
          }
        } catch (NoSuchFileException gone) {
          // Trimmed by another request meanwhile.
        }
      }
    } catch (IOException | UncheckedIOException e) {
      log.warn("Cannot list the source archives in [{}]: {}", dir, e.toString());
      return 0;
    }
    all.sort(Comparator.comparingLong(Entry::usedMs));
    int deleted = 0;
    for (Entry e : all) {
      if (total <= maxBytes) {
        break;
      }
      if (e.path().equals(keep)) {
        continue;
      }
      try {
        if (Files.deleteIfExists(e.path())) {
          deleted++;
        }
        total -= e.size();
      } catch (IOException ex) {
        log.warn("Cannot delete the source archive [{}]: {}", e.path(), ex.toString());
      }
    }
    if (deleted > 0) {
      log.info("Source archives over {} bytes: deleted the {} least recently served, {} bytes left", maxBytes, deleted, total);
    }
    return deleted;
  }
}
