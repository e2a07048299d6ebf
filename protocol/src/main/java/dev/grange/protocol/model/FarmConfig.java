package dev.grange.protocol.model;

import com.typesafe.config.Config;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Every host type and builder of the farm, read once at start from HOCON and passed down.
 *
 * <p>The config lives under {@code grange.hosts} (host types by name) and {@code grange.builders}
 * (builders by name); both may be absent, which means none:
 *
 * <pre>{@code
 * grange.hosts {
 *   linux-amd64-local {
 *     pool = local                 # reverse | local | kubernetes | gce (required)
 *     local { min = 0, max = 4 }   # pool = local only; max required (>= 1), min default 0
 *     expected = 2                 # default 0
 *     cost = 1                     # quota units per machine, default 1
 *     boot-timeout = 60s           # default 5m
 *     hermetic = false             # one build per machine, default false
 *     notes = "Debian on the node itself"   # default ""
 *   }
 *   linux-arm64-lab { pool = reverse, expected = 3 }
 *   linux-amd64-k8s {
 *     pool = kubernetes
 *     kubernetes { image = "ghcr.io/grange/linux-amd64:1", cpu = "2", memory = "4Gi",
 *                  node-selector { arch = amd64 }, env = ["GOCACHE=/cache"] }
 *   }                              # image required; cpu default "1", memory default "2Gi"
 *   linux-amd64-gce {
 *     pool = gce
 *     gce { machine-type = e2-standard-8, image = "grange-linux-amd64", zones = [us-central1-a],
 *           disk-gb = 50, cpus = 8 }  # machine-type, image, zones required; disk-gb 10, cpus 1
 *   }
 * }
 * grange.repos {                              # mirrored repositories (RepoSpec)
 *   go {
 *     url = "https://go.googlesource.com/go"  # required: https, http, ssh, user@host:path, file, /path
 *     branches = [master, "release-branch.go1.22"]   # required: built after submit
 *     push = ["git@github.com:golang/go.git"]  # default []
 *     poll = 5m                                # default 5m, at least 1s
 *     webhook-secret = ${?GO_WEBHOOK_SECRET}   # default "": webhooks refused
 *     backfill = 10                            # commits built when a branch is first seen, default 10
 *   }
 * }
 * grange.builders {
 *   linux-amd64 {
 *     host-type = linux-amd64-local          # required, must be a host type above
 *     repos = [ { repo = go, branches = [master, "release-branch.go1.22"] } ]   # default []; repos above, branches they build
 *     steps = [                               # required, at least one
 *       { name = make, cmd = "./make.bash", args = [], env = ["GOOS=linux"], dir = src,
 *         timeout = 20m, sys = false }
 *     ]
 *     notes = "..."                           # default ""
 *   }
 * }
 * }</pre>
 *
 * <p>Step keys: {@code name} and {@code cmd} required; {@code args} and {@code env} default
 * {@code []}; {@code dir} defaults to {@code "."} and is relative to the buildlet's work directory
 * (no absolute path, no {@code ..}); {@code timeout} defaults to 30m; {@code sys} (look {@code
 * cmd} up on the system PATH) defaults to false. Step names are unique within a builder. Host type
 * and builder names match {@code [a-z0-9][a-z0-9._-]*}, at most 64 characters (quote a name with
 * a dot: {@code "linux-amd64.v2" { ... }}). Environment entries are {@code NAME=VALUE}.
 *
 * <p>Unknown keys are refused with the list of allowed ones, so a typo never silently falls back to
 * a default. {@link #fromConfig} checks everything before it fails, and then throws one {@link
 * InvalidConfigException} listing every problem with its full key path.
 *
 * @param hosts host types by name (sorted, unmodifiable)
 * @param builders builders by name (sorted, unmodifiable); each names a host type in {@code hosts}
 * @param repos mirrored repositories by name (sorted, unmodifiable); a builder's repos name them
 */
public record FarmConfig(Map<String, HostTypeSpec> hosts, Map<String, BuilderSpec> builders, Map<String, RepoSpec> repos) {
  /** What a host type or builder name must look like (besides being at most 64 characters). */
  public static final Pattern NAME_PATTERN = Pattern.compile("[a-z0-9][a-z0-9._-]*");

  /** The longest host type or builder name. */
  public static final int MAX_NAME_LENGTH = 64;

  /** A farm without mirrored repositories. */
  public FarmConfig(Map<String, HostTypeSpec> hosts, Map<String, BuilderSpec> builders) {
    this(hosts, builders, Map.of());
  }

  public FarmConfig {
    hosts = sorted(hosts);
    builders = sorted(builders);
    repos = sorted(repos);
    repos.forEach((k, v) -> requireKeyIsName(k, v.name()));
    hosts.forEach((k, v) -> requireKeyIsName(k, v.name()));
    for (Map.Entry<String, BuilderSpec> e : builders.entrySet()) {
      requireKeyIsName(e.getKey(), e.getValue().name());
      if (!hosts.containsKey(e.getValue().hostType())) {
        throw new IllegalArgumentException(
            "builder " + e.getKey() + " runs on unknown host type " + e.getValue().hostType());
      }
    }
  }

  /**
   * Reads and validates {@code grange.hosts} and {@code grange.builders} of {@code root}.
   *
   * @throws InvalidConfigException listing every problem found, each with its full key path
   */
  public static FarmConfig fromConfig(Config root) {
    return FarmConfigReader.read(root);
  }

  /** Whether {@code name} is acceptable as a host type or builder name. */
  public static boolean isValidName(String name) {
    return name != null
        && name.length() <= MAX_NAME_LENGTH
        && NAME_PATTERN.matcher(name).matches();
  }

  /** The host type called {@code name}, if configured. */
  public Optional<HostTypeSpec> host(String name) {
    return Optional.ofNullable(hosts.get(name));
  }

  /** The mirrored repository called {@code name}, if configured. */
  public Optional<RepoSpec> repo(String name) {
    return Optional.ofNullable(repos.get(name));
  }

  /** The configured repository whose upstream is {@code url} exactly (the first by name if several are). */
  public Optional<RepoSpec> repoWithUrl(String url) {
    return repos.values().stream().filter(r -> r.url().equals(url)).findFirst();
  }

  /** The builders that build {@code branch} of {@code repo} after submit. */
  public java.util.List<BuilderSpec> buildersOf(String repo, String branch) {
    return builders.values().stream()
        .filter(b -> b.repos().stream().anyMatch(r -> r.repo().equals(repo) && r.branches().contains(branch)))
        .toList();
  }

  /** The builder called {@code name}, if configured. */
  public Optional<BuilderSpec> builder(String name) {
    return Optional.ofNullable(builders.get(name));
  }

  private static <V> Map<String, V> sorted(Map<String, V> map) {
    return map == null
        ? Collections.emptySortedMap()
        : Collections.unmodifiableSortedMap(new TreeMap<>(map));
  }

  private static void requireKeyIsName(String key, String name) {
    if (!key.equals(name)) {
      throw new IllegalArgumentException("entry " + key + " holds a spec named " + name);
    }
  }
}
