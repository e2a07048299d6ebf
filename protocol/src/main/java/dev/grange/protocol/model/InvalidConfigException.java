package dev.grange.protocol.model;

import java.util.List;

/**
 * The builder and host-type config is wrong. Thrown once by {@link FarmConfig#fromConfig} with
 * every problem found, so an operator fixes them all in one round. Each problem is one line that
 * starts with the full key path, e.g. {@code grange.builders.linux-amd64.host-type: unknown host
 * type "linux-amd64-locl" (known: linux-amd64-local)}.
 */
public final class InvalidConfigException extends RuntimeException {
  private final List<String> problems;

  /**
   * @param problems one line per problem, each naming its key; at least one
   */
  public InvalidConfigException(List<String> problems) {
    super(message(problems));
    this.problems = List.copyOf(problems);
  }

  /** The problems, one per entry, in the order found (hosts, then builders, by name). */
  public List<String> problems() {
    return problems;
  }

  private static String message(List<String> problems) {
    if (problems.isEmpty()) {
      throw new IllegalArgumentException("an InvalidConfigException needs at least one problem");
    }
    String count = problems.size() == 1 ? "1 problem" : problems.size() + " problems";
    return "Invalid builder and host-type config, " + count + ":\n" + String.join("\n", problems);
  }
}
