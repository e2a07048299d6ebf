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
    long submittedAtMs)
    implements CborSerializable {
  public BuildSpec {
    steps = List.copyOf(steps);
  }
}
