package dev.grange.mirror;

import dev.grange.protocol.CborSerializable;
import java.util.List;
import java.util.Map;

/** What a {@link RepoMirror} persists: the refs it saw upstream, and the commits that landed on its branches. */
public final class RepoMirrorEvents {
  private RepoMirrorEvents() {}

  public sealed interface Event extends CborSerializable {}

  /** Refs that moved or appeared ({@code refs/heads/...}, {@code refs/tags/...} to sha), and refs gone upstream. */
  public record RefsUpdated(Map<String, String> changed, List<String> deleted, long atMs) implements Event {
    public RefsUpdated {
      changed = Map.copyOf(changed);
      deleted = List.copyOf(deleted);
    }
  }

  /** New commits on a built branch, newest first: each is a post-submit build for every builder of the branch. */
  public record CommitsLanded(String branch, List<GitMirror.LandedCommit> commits, long atMs) implements Event {
    public CommitsLanded {
      commits = List.copyOf(commits);
    }
  }

  /** The refs seen so far: all a mirror needs to rebuild itself on another node without landing anything twice. */
  public record State(Map<String, String> refs, long landedCommits) implements CborSerializable {
    public State {
      refs = Map.copyOf(refs);
    }

    public static State empty() {
      return new State(Map.of(), 0);
    }

    public State apply(Event e) {
      if (e instanceof RefsUpdated u) {
        Map<String, String> next = new java.util.TreeMap<>(refs);
        next.putAll(u.changed());
        u.deleted().forEach(next::remove);
        return new State(next, landedCommits);
      }
      CommitsLanded l = (CommitsLanded) e;
      return new State(refs, landedCommits + l.commits().size());
    }
  }
}
