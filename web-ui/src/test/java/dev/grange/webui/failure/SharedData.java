package dev.grange.webui.failure;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The third-party test data beside the checkout ({@code ../shared/data}), found from the module's
 * directory upwards; {@code -Dgrange.shared.data=DIR} names it elsewhere. Missing data fails the
 * test that needs it, saying where it looked: a golden test with no cases proves nothing.
 */
final class SharedData {
  private SharedData() {}

  static Path dir(String sub) {
    String named = System.getProperty("grange.shared.data");
    if (named != null) {
      return existing(Path.of(named).resolve(sub), "-Dgrange.shared.data=" + named);
    }
    Path start = Path.of("").toAbsolutePath();
    for (Path d = start; d != null; d = d.getParent()) {
      Path candidate = d.resolve("shared").resolve("data").resolve(sub);
      if (Files.isDirectory(candidate)) {
        return candidate;
      }
      Path sibling = d.resolveSibling("shared").resolve("data").resolve(sub);
      if (d.getParent() != null && Files.isDirectory(sibling)) {
        return sibling;
      }
    }
    throw new AssertionError("test data shared/data/" + sub + " not found in " + start
        + " or any directory above it (nor beside one); name it with -Dgrange.shared.data=DIR");
  }

  private static Path existing(Path p, String how) {
    if (!Files.isDirectory(p)) {
      throw new AssertionError("test data " + p + " (from " + how + ") is not a directory");
    }
    return p;
  }
}
