package dev.grange.mirror;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Where a {@link RepoMirror} sends the commits that landed on a built branch (the node queues a
 * post-submit build per builder of that branch and commit). Called after the landing is
 * persisted, and again for the same commits until the returned stage completes normally (after
 * a crash, a restart on another node, or a failed hand-over): it must not duplicate a build.
 */
public interface PostSubmit {
  PostSubmit NONE = (repo, branch, commits) -> CompletableFuture.completedFuture(null);

  /**
   * {@code commits} newest first; completes once every build of them was accepted (or exists
   * already), exceptionally if any may not have been: the mirror sends the landing again.
   */
  CompletionStage<Void> landed(String repo, String branch, List<GitMirror.LandedCommit> commits);
}
