package dev.grange.protocol.model;

import java.util.List;
import java.util.Objects;

/**
 * One repository a builder builds after submit, and the branches of it that it follows.
 *
 * @param repo repository name as the mirror knows it, e.g. {@code go} or {@code tools}
 * @param branches branch names, e.g. {@code master}, {@code release-branch.go1.22}; at least one
 */
public record RepoBranches(String repo, List<String> branches) {
  public RepoBranches {
    Objects.requireNonNull(repo, "repo");
    branches = branches == null ? List.of() : List.copyOf(branches);
    if (branches.isEmpty()) {
      throw new IllegalArgumentException("repo " + repo + " needs at least one branch");
    }
  }
}
