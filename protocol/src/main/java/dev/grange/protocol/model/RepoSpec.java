package dev.grange.protocol.model;

import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A repository the farm mirrors ({@code grange.repos.<name>}): where its upstream is, the branches
 * whose new commits are built after submit, where the mirror pushes, how often it looks, and the
 * secret its webhooks are signed with.
 *
 * @param url the upstream: {@code https://}, {@code http://}, {@code ssh://}, {@code
 *     user@host:path}, {@code file://} or an absolute path
 * @param branches the branches built after submit; at least one
 * @param pushTargets URLs the mirror pushes every branch and tag to (same forms as {@code url})
 * @param pollIntervalMs how often upstream is fetched without a webhook
 * @param webhookSecret the HMAC key of its webhooks; "" refuses every webhook for it
 * @param backfill how many commits of a branch are built when the mirror first sees it
 */
public record RepoSpec(
    String name, String url, List<String> branches, List<String> pushTargets, long pollIntervalMs, String webhookSecret,
    int backfill) {

  public static final long DEFAULT_POLL_MS = 5 * 60_000;
  public static final int DEFAULT_BACKFILL = 10;

  private static final Pattern SCP_LIKE = Pattern.compile("[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^/].*|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:/.*");

  public RepoSpec {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(url, "url");
    branches = List.copyOf(branches);
    pushTargets = pushTargets == null ? List.of() : List.copyOf(pushTargets);
    webhookSecret = webhookSecret == null ? "" : webhookSecret;
    if (branches.isEmpty()) {
      throw new IllegalArgumentException("repo " + name + " needs at least one branch");
    }
    if (pollIntervalMs < 1000) {
      throw new IllegalArgumentException("repo " + name + ": poll interval under 1 s");
    }
    if (backfill < 1) {
      throw new IllegalArgumentException("repo " + name + ": backfill must be at least 1");
    }
  }

  /** Why {@code url} is not a git URL this farm can fetch from or push to, or null when it is. */
  public static String urlProblem(String url) {
    if (url == null || url.isBlank()) {
      return "must not be empty";
    }
    if (url.chars().anyMatch(c -> c < 0x20 || c == 0x7f || c == ' ')) {
      return "must not contain spaces or control characters";
    }
    if (url.startsWith("https://") || url.startsWith("http://") || url.startsWith("ssh://") || url.startsWith("file://")) {
      return url.indexOf("://") + 3 < url.length() ? null : "has no host or path after the scheme";
    }
    if (url.startsWith("/")) {
      return null;
    }
    if (SCP_LIKE.matcher(url).matches()) {
      return null;
    }
    return "must be https://, http://, ssh://, user@host:path, file:// or an absolute path, got \"" + url + "\"";
  }

  /** Whether {@code url} is fetched or pushed over ssh: an {@code ssh://} URL or scp-style {@code user@host:path}. */
  public static boolean usesSsh(String url) {
    return url != null && (url.startsWith("ssh://") || SCP_LIKE.matcher(url).matches());
  }

  /** Whether this repo's upstream or any of its push targets is reached over ssh. */
  public boolean needsSsh() {
    return usesSsh(url) || pushTargets.stream().anyMatch(RepoSpec::usesSsh);
  }

  /** Whether the webhooks of this repo are accepted at all. */
  public boolean acceptsWebhooks() {
    return !webhookSecret.isEmpty();
  }

  /** Never the secret: a spec is logged and shown. */
  @Override
  public String toString() {
    return "RepoSpec[" + name + " " + url + " branches=" + branches + " push=" + pushTargets.size() + " target(s) poll="
        + pollIntervalMs + "ms webhook=" + (acceptsWebhooks() ? "signed" : "off") + " backfill=" + backfill + "]";
  }
}
