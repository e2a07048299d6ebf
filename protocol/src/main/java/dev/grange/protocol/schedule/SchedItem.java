package dev.grange.protocol.schedule;

import java.util.Comparator;
import java.util.Objects;

/**
 * One request waiting for a buildlet of some host type, as the host pool's queue sees it: enough to
 * decide who is served next, nothing else. Times are epoch milliseconds.
 *
 * @param cls what kind of work it is
 * @param requestedAtMs when the request reached the queue
 * @param commitTimeMs commit time of the newest commit in the work being built (for a subrepo
 *     built against Go, the newer of the two); only consulted for {@link PriorityClass#POST_SUBMIT}
 * @param branch branch the work is on, e.g. {@code master} or {@code release-branch.go1.22}; empty
 *     when there is none (a remote session)
 * @param buildId id of the build (or remote session) that asks; makes the order total
 */
public record SchedItem(
    PriorityClass cls, long requestedAtMs, long commitTimeMs, String branch, String buildId) {

  /** Prefix of the Go project's release branches. */
  public static final String RELEASE_BRANCH_PREFIX = "release-branch.";

  /**
   * "Served first sorts first": the order in which a host pool hands out buildlets.
   *
   * <ol>
   *   <li>By class: {@link PriorityClass#RELEASE release}, then {@link PriorityClass#INTERACTIVE
   *       interactive}, then {@link PriorityClass#TRY try}, then {@link PriorityClass#POST_SUBMIT
   *       post-submit}.
   *   <li>Within release, interactive and try: first come, first served (earlier {@code
   *       requestedAtMs} first). Someone is waiting on each of these, so the longest wait goes
   *       first.
   *   <li>Within post-submit: newest commit first (larger {@code commitTimeMs} first), so the
   *       dashboard learns about the current tip of a branch before it fills in history. Among
   *       items with the same commit time, those on a {@code release-branch.} branch come first.
   *   <li>Then, so that the order is total and the same whatever order the items arrived in:
   *       earlier {@code requestedAtMs}, then {@code buildId}, then the remaining fields. Two
   *       items compare equal only when they are equal records.
   * </ol>
   *
   * <p><b>The release-branch tie-break, and what happened to it in golang/build.</b> The Go
   * coordinator's {@code SchedItem.Less} (internal/coordinator/pool/queue) once gained a rule meant
   * to stop release-branch work from starving: its comment says such work waits too long because
   * its Go commits are old, and asks for release-branch items to go before items of other
   * branches. The rule never took effect, for two reasons. First, the small helper that was to
   * tell whether an item is on a release branch took the item as its argument but looked at the
   * receiver's branch instead, so "is {@code a} on a release branch" and "is {@code b} on a release
   * branch" were always the same answer and the branches never differed. Second, it was guarded to
   * apply to try work only, which is ordered by request time; the starvation its comment describes
   * comes from ordering by commit time, which only post-submit work does. Its {@code Less} was also
   * not a total order: items with equal times were neither less nor greater, and the waiter was
   * picked from an unordered map, so ties went to whichever came out first.
   *
   * <p>Here the check compares the two items' own branches, sits in the post-submit class where
   * commit time does the ordering, and is a tie-break on equal commit time rather than a precedence
   * over newer commits: making every release-branch commit beat every master commit would let a
   * backlog of old release-branch history hold back the tip of master. Release work that must not
   * wait at all is queued as {@link PriorityClass#RELEASE}. Further tie-breaks make the order total.
   */
  public static final Comparator<SchedItem> ORDER = SchedItem::compareForService;

  public SchedItem {
    Objects.requireNonNull(cls, "cls");
    Objects.requireNonNull(branch, "branch");
    Objects.requireNonNull(buildId, "buildId");
  }

  /** Whether the work is on a Go release branch ({@code release-branch.*}). */
  public boolean onReleaseBranch() {
    return branch.startsWith(RELEASE_BRANCH_PREFIX);
  }

  private static int compareForService(SchedItem a, SchedItem b) {
    int c = a.cls.compareTo(b.cls);
    if (c != 0) {
      return c;
    }
    if (a.cls == PriorityClass.POST_SUBMIT) {
      c = Long.compare(b.commitTimeMs, a.commitTimeMs); // newest commit first
      if (c != 0) {
        return c;
      }
      c = Boolean.compare(b.onReleaseBranch(), a.onReleaseBranch()); // release branch first
      if (c != 0) {
        return c;
      }
    }
    c = Long.compare(a.requestedAtMs, b.requestedAtMs); // first come, first served
    if (c != 0) {
      return c;
    }
    c = a.buildId.compareTo(b.buildId);
    if (c != 0) {
      return c;
    }
    // Only distinct items with the same class, request time and build id get here.
    c = Long.compare(b.commitTimeMs, a.commitTimeMs);
    return c != 0 ? c : a.branch.compareTo(b.branch);
  }
}
