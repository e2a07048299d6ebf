package dev.grange.agent.files;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Everything observable about a directory tree (names, types, modes, mtimes, contents, link
 * targets), to prove that a refused operation changed nothing, byte for byte.
 */
public final class TreeSnapshot {
  private TreeSnapshot() {}

  public static Map<String, String> of(Path root) {
    Map<String, String> m = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : (Iterable<Path>) walk::iterator) {
        BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        String desc = FileModes.goString(FileModes.stMode(p, a)) + " " + a.lastModifiedTime().toMillis();
        if (a.isSymbolicLink()) {
          desc += " -> " + Files.readSymbolicLink(p);
        } else if (a.isRegularFile()) {
          desc += " sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
        }
        m.put(root.relativize(p).toString(), desc);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    return m;
  }
}
