package dev.grange.mirror;

import dev.grange.protocol.CborSerializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a {@link RepoMirror} persists: the refs it saw upstream, the commits that landed on its
 * branches, and which landings post-submit has taken.
 */
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

  /**
   * New commits on a built branch, newest first: each is a post-submit build for every builder of
   * the branch. {@code awaitsAck}: pending until a {@link LandingsQueued} names it (false in a
   * journal written before acks existed: those landings were handed over then and are not sent again).
   */
  public record CommitsLanded(String branch, List<GitMirror.LandedCommit> commits, long atMs, boolean awaitsAck) implements Event {
    public CommitsLanded {
      commits = List.copyOf(commits);
    }
  }

  /** Post-submit accepted every build of these landings (their {@link Pending#seq()}): they are not sent again. */
  public record LandingsQueued(List<Long> landings, long atMs) implements Event {
    public LandingsQueued {
      landings = List.copyOf(landings);
    }
  }

  /** A landing post-submit has not yet acknowledged; {@code seq}: the how-manyth landing of this mirror it is. */
  public record Pending(long seq, String branch, List<GitMirror.LandedCommit> commits, long atMs) implements CborSerializable {
    public Pending {
      commits = List.copyOf(commits);
    }
  }

  /**
   * The refs seen so far: all a mirror needs to rebuild itself on another node without landing
   * anything twice; and the landings post-submit has not acknowledged, oldest first, to send
   * again. ({@code landings}, {@code pending}: absent from a snapshot taken before acks existed.)
   */
  public record State(Map<String, String> refs, long landedCommits, long landings, List<Pending> pending) implements CborSerializable {
    public State {
      refs = Map.copyOf(refs);
      pending = pending == null ? List.of() : List.copyOf(pending);
    }

    public static State empty() {
      return new State(Map.of(), 0, 0, List.of());
    }

    public State apply(Event e) {
      if (e instanceof RefsUpdated u) {
        Map<String, String> next = new java.util.TreeMap<>(refs);
        next.putAll(u.changed());
        u.deleted().forEach(next::remove);
        return new State(next, landedCommits, landings, pending);
      }
      if (e instanceof LandingsQueued q) {
        Set<Long> acked = Set.copyOf(q.landings());
        return new State(refs, landedCommits, landings, pending.stream().filter(p -> !acked.contains(p.seq())).toList());
      }
      CommitsLanded l = (CommitsLanded) e;
      long seq = landings + 1;
      List<Pending> next = pending;
      if (l.awaitsAck()) {
        next = new ArrayList<>(pending);
        next.add(new Pending(seq, l.branch(), l.commits(), l.atMs()));
      }
      return new State(refs, landedCommits + l.commits().size(), seq, next);
    }
  }
}
