package dev.grange.agent.exec;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The PATH of an exec and the lookup of a system command in it, with the Go buildlet's
 * substitutions: an entry "$PATH" is the PATH the environment had, "$WORKDIR" inside an entry
 * is the workdir, and a path of exactly ["$EMPTY"] removes PATH altogether. An empty path list
 * leaves PATH as it is.
 */
final class PathEnv {
  private PathEnv() {}

  /** Applies {@code path} to {@code env} (changed in place). */
  static void apply(Map<String, String> env, List<String> path, Path workdir) {
    if (path.isEmpty()) {
      return;
    }
    String key = pathKey(env);
    if (path.size() == 1 && path.get(0).equals("$EMPTY")) {
      env.remove(key);
      return;
    }
    String original = env.getOrDefault(key, "");
    List<String> parts = new ArrayList<>();
    for (String p : path) {
      parts.add(p.equals("$PATH") ? original : p.replace("$WORKDIR", workdir.toString()));
    }
    env.put(key, String.join(File.pathSeparator, parts));
  }

  /**
   * Finds {@code cmd} (a bare name) in the PATH of {@code env}, the one the child will have; the
   * JDK would look in the agent's own PATH instead. Null when it is not there.
   */
  static Path lookup(String cmd, Map<String, String> env, Path dir) {
    String path = env.get(pathKey(env));
    if (path == null || path.isEmpty()) {
      return null;
    }
    for (String entry : path.split(File.pathSeparator, -1)) {
      // An empty entry means the current directory, as in execvp.
      Path base = entry.isEmpty() ? dir : dir.resolve(entry);
      Path candidate = base.resolve(cmd);
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        return candidate.toAbsolutePath();
      }
    }
    return null;
  }

  /** "PATH", or on Windows whatever case the environment spells it in. */
  private static String pathKey(Map<String, String> env) {
    if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows")) {
      return "PATH";
    }
    for (String k : env.keySet()) {
      if (k.equalsIgnoreCase("PATH")) {
        return k;
      }
    }
    return "Path";
  }
}
