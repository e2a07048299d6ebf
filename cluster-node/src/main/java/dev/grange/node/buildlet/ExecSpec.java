package dev.grange.node.buildlet;

import dev.grange.protocol.CborSerializable;
import java.util.List;

/** A command to run on a buildlet: the exec request of PROTOCOL.md section 3 without its wire ids. */
public record ExecSpec(
    String execId,
    String cmd,
    List<String> args,
    List<String> env,
    String dir,
    List<String> path,
    boolean sys,
    long timeoutMs)
    implements CborSerializable {
  public ExecSpec {
    args = args == null ? List.of() : List.copyOf(args);
    env = env == null ? List.of() : List.copyOf(env);
    path = path == null ? List.of() : List.copyOf(path);
    dir = dir == null || dir.isEmpty() ? "." : dir;
  }
}
