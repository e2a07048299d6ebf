package dev.grange.node.buildrun;

import dev.grange.protocol.CborSerializable;
import dev.grange.protocol.model.StepSpec;
import dev.grange.protocol.schedule.PriorityClass;
import java.util.List;

/**
 * What was asked for, fixed when the build is accepted: the builder's steps are copied so a
 * later config change does not change a build that exists.
 *
 * @param repo a git URL or a local repository path
 * @param rev the full commit sha the request's rev resolved to
 * @param requestedRev the rev as the user wrote it
 * @param author the commit's author ("" when not known: a build accepted before it was kept)
 */
public record BuildSpec(
    String buildId,
    String builder,
    String hostType,
    List<StepSpec> steps,
    String repo,
    String rev,
    String requestedRev,
    long commitTimeMs,
    String subject,
    String branch,
    PriorityClass priority,
    String user,
    long submittedAtMs,
    String author)
    implements CborSerializable {
  public BuildSpec {
    steps = List.copyOf(steps);
    author = author == null ? "" : author;
  }

  /** A build whose commit's author is not known. */
  public BuildSpec(String buildId, String builder, String hostType, List<StepSpec> steps, String repo, String rev,
      String requestedRev, long commitTimeMs, String subject, String branch, PriorityClass priority, String user,
      long submittedAtMs) {
    this(buildId, builder, hostType, steps, repo, rev, requestedRev, commitTimeMs, subject, branch, priority, user,
        submittedAtMs, "");
  }
}
