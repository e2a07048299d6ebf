package dev.grange.mirror;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The bare mirrors this node serves from: a {@link RepoMirror} running here adds its directory
 * once a fetch has filled it and takes it out when it stops (moved to another node, node
 * stopping). Only then is the directory known to be the live one: a copy left behind on a node
 * the entity has left is stale. Readers (the source archives, git over HTTP) ask here first and
 * fall back to a cache of their own. Node-local, thread-safe.
 */
public final class MirrorsHere {
  private final Map<String, Path> serving = new ConcurrentHashMap<>();

  /** The live mirror of repository {@code name} on this node, if its entity runs here and has fetched. */
  public Optional<Path> dir(String name) {
    return Optional.ofNullable(serving.get(name));
  }

  void serving(String name, Path dir) {
    serving.put(name, dir);
  }

  void stopped(String name, Path dir) {
    serving.remove(name, dir);
  }
}
