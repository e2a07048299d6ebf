package dev.grange.node;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Starts the node's long-lived children (the embedded Cassandra, local agents) in a session of
 * their own, so that the terminal's Ctrl-C reaches only the node. The node then stops them in
 * order from its shutdown hook, its own work first: a Cassandra that took the same SIGINT would
 * die under a node that is still persisting. Uses {@code setsid}, which Debian and every other
 * Linux ships in util-linux; where it is missing the command is run as it is.
 *
 * <p>A child started by the JVM is never a process-group leader, so {@code setsid} execs the
 * command in place: the pid the JVM sees is the child's own.
 */
public final class ChildSession {
  private static final Path SETSID = findSetsid();

  private ChildSession() {}

  /** The command, prefixed so that it runs in its own session where this system can. */
  public static List<String> detached(List<String> command) {
    if (SETSID == null) {
      return command;
    }
    List<String> out = new ArrayList<>(command.size() + 1);
    out.add(SETSID.toString());
    out.addAll(command);
    return out;
  }

  private static Path findSetsid() {
    for (String dir : List.of("/usr/bin", "/bin")) {
      Path p = Path.of(dir, "setsid");
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    return null;
  }
}
