package dev.grange.mirror;

import java.util.List;

/**
 * Where a {@link RepoMirror} sends the commits that landed on a built branch (the node queues a
 * post-submit build per builder of that branch and commit). Called after the landing is
 * persisted, possibly again for the same commits after a crash: it must not duplicate a build.
 */
public interface PostSubmit {
  PostSubmit NONE = (repo, branch, commits) -> {};

  /** {@code commits} newest first. */
  void landed(String repo, String branch, List<GitMirror.LandedCommit> commits);
}
