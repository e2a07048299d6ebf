package dev.grange.protocol.model;

import java.util.List;
import java.util.Objects;

/**
 * A builder: a named recipe (steps) that runs on machines of one host type, for the repositories
 * and branches it follows after submit. Post-submit builds are queued for every builder whose
 * {@code repos} name the repository and branch of a new commit; a builder with no repos only runs
 * when asked for by name (try sets, the API, gomote).
 *
 * @param name builder name, {@code [a-z0-9][a-z0-9._-]*}, at most 64 characters
 * @param hostType name of the {@link HostTypeSpec host type} it runs on
 * @param repos repositories and branches it builds after submit; may be empty
 * @param steps what it runs, in order; at least one
 * @param notes free text for people, shown on the builders page
 */
public record BuilderSpec(
    String name, String hostType, List<RepoBranches> repos, List<StepSpec> steps, String notes) {
  public BuilderSpec {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(hostType, "hostType");
    repos = repos == null ? List.of() : List.copyOf(repos);
    steps = steps == null ? List.of() : List.copyOf(steps);
    notes = notes == null ? "" : notes;
    if (steps.isEmpty()) {
      throw new IllegalArgumentException("builder " + name + " needs at least one step");
    }
  }
}
