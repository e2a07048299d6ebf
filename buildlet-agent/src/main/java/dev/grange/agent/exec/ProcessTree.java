package dev.grange.agent.exec;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Kills a process and everything it started. A build's command is usually a shell or a go
 * tool that forks compilers and test binaries; killing only the top process would leave them
 * running and holding the output pipes open. The Go buildlet had the same need
 * (killProcessTree).
 *
 * <p>Descendants are collected before anything is killed, since a killed parent's children are
 * re-parented and no longer found through it; the collection is repeated until a round finds no
 * new process, which catches children forked while the first round ran.
 */
final class ProcessTree {
  private static final int MAX_ROUNDS = 5;

  private ProcessTree() {}

  /** Sends SIGKILL (or its platform equivalent) to {@code root} and all its descendants. */
  static void kill(ProcessHandle root) {
    Map<Long, ProcessHandle> seen = new LinkedHashMap<>();
    for (int round = 0; round < MAX_ROUNDS; round++) {
      Map<Long, ProcessHandle> found = new LinkedHashMap<>();
      Stream.concat(Stream.of(root), seen.values().stream())
          .flatMap(ProcessHandle::descendants)
          .forEach(h -> found.putIfAbsent(h.pid(), h));
      found.put(root.pid(), root);
      boolean fresh = false;
      for (ProcessHandle h : found.values()) {
        if (seen.putIfAbsent(h.pid(), h) == null) {
          fresh = true;
        }
      }
      // Every handle was taken before any kill, so the order of the kills does not matter.
      for (ProcessHandle h : seen.values()) {
        h.destroyForcibly();
      }
      if (!fresh) {
        return;
      }
    }
  }
}
