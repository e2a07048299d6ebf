package dev.grange.protocol.model;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Reads {@code grange.hosts} and {@code grange.builders} into specs for {@link
 * FarmConfig#fromConfig}, checking as it goes. It never stops at the first problem: each one is
 * recorded with its full key path, the reading continues with the next key, and only at the end is
 * one {@link InvalidConfigException} thrown with all of them. A spec is built only from an entry
 * that had no problem, so the records' own checks never fire here.
 */
final class FarmConfigReader {
  private static final String HOSTS = "grange.hosts";
  private static final String BUILDERS = "grange.builders";
  private static final String REPOS = "grange.repos";
  private static final List<String> MIRROR_KEYS = List.of("backfill", "branches", "poll", "push", "url", "webhook-secret");

  private static final List<String> HOST_KEYS =
      List.of(
          "boot-timeout", "cost", "expected", "gce", "hermetic", "kubernetes", "local", "notes",
          "pool");
  private static final List<String> LOCAL_KEYS = List.of("max", "min");
  private static final List<String> KUBERNETES_KEYS =
      List.of("cpu", "env", "image", "memory", "node-selector");
  private static final List<String> GCE_KEYS =
      List.of("cpus", "disk-gb", "image", "machine-type", "zones");
  private static final List<String> BUILDER_KEYS = List.of("host-type", "notes", "repos", "steps");
  private static final List<String> REPO_KEYS = List.of("branches", "repo");
  private static final List<String> STEP_KEYS =
      List.of("args", "cmd", "dir", "env", "name", "sys", "timeout");

  /** A Windows drive prefix: buildlets run on Windows too, so {@code C:x} is not relative. */
  private static final Pattern DRIVE = Pattern.compile("[A-Za-z]:.*", Pattern.DOTALL);

  private final List<String> problems = new ArrayList<>();

  private FarmConfigReader() {}

  static FarmConfig read(Config root) {
    return new FarmConfigReader().readAll(root);
  }

  private FarmConfig readAll(Config root) {
    Map<String, ConfigValue> hostEntries = Map.of();
    Map<String, ConfigValue> builderEntries = Map.of();
    Map<String, ConfigValue> repoEntries = Map.of();
    if (isObjectOrAbsent(root, "grange")) {
      hostEntries = entries(root, HOSTS, "host types");
      builderEntries = entries(root, BUILDERS, "builders");
      repoEntries = entries(root, REPOS, "repositories");
    }
    Map<String, RepoSpec> repos = new TreeMap<>();
    repoEntries.forEach((name, value) -> readMirror(name, value).ifPresent(r -> repos.put(name, r)));

    Map<String, HostTypeSpec> hosts = new TreeMap<>();
    hostEntries.forEach((name, value) -> readHost(name, value).ifPresent(h -> hosts.put(name, h)));

    // Every configured name counts as known, even one with problems of its own, so that a
    // broken host type is reported once rather than again by each builder that uses it.
    List<String> knownHosts = List.copyOf(hostEntries.keySet());
    Map<String, BuilderSpec> builders = new TreeMap<>();
    builderEntries.forEach(
        (name, value) ->
            readBuilder(name, value, knownHosts).ifPresent(b -> builders.put(name, b)));

    java.util.Set<String> knownRepos = repoEntries.keySet();
    builders.values().forEach(b -> checkRepos(b, knownRepos, repos));
    if (!problems.isEmpty()) {
      throw new InvalidConfigException(problems);
    }
    return new FarmConfig(hosts, builders, repos);
  }

  private boolean isObjectOrAbsent(Config root, String path) {
    if (!root.hasPath(path)) {
      return true;
    }
    ConfigValue v = root.getValue(path);
    if (v.valueType() != ConfigValueType.OBJECT) {
      problem(path, "must be an object holding hosts and builders, got " + render(v));
      return false;
    }
    return true;
  }

  /** The entries of the object at {@code path}, sorted by name; absent or null means none. */
  private Map<String, ConfigValue> entries(Config root, String path, String what) {
    if (!root.hasPath(path)) {
      return Map.of();
    }
    ConfigValue v = root.getValue(path);
    if (v.valueType() != ConfigValueType.OBJECT) {
      problem(path, "must be an object of " + what + " by name, got " + render(v));
      return Map.of();
    }
    return new TreeMap<>((ConfigObject) v);
  }

  // ---- host types ----

  private Optional<HostTypeSpec> readHost(String name, ConfigValue value) {
    int before = problems.size();
    String path = HOSTS + "." + ConfigUtil.joinPath(name);
    checkName(path, name);
    if (value.valueType() != ConfigValueType.OBJECT) {
      problem(path, "must be an object (a host type), got " + render(value));
      return Optional.empty();
    }
    ConfigSection h = new ConfigSection(path, (ConfigObject) value, problems);
    h.onlyKeys(HOST_KEYS);

    PoolKind pool = null;
    String poolName = h.string("pool", null, "one of " + kinds());
    if (poolName != null) {
      pool = PoolKind.fromConfigName(poolName).orElse(null);
      if (pool == null) {
        problem(h.at("pool"), "unknown pool kind " + quote(poolName) + " (known: " + kinds() + ")");
      }
    }
    Integer expected = h.atLeast("expected", 0, 0, null);
    Integer cost = h.atLeast("cost", 1, 0, null);
    String notes = h.string("notes", "", null);
    Long bootTimeoutMs = h.durationMs("boot-timeout", HostTypeSpec.DEFAULT_BOOT_TIMEOUT_MS, "5m");
    Boolean hermetic = h.bool("hermetic", false);

    LocalPoolSpec local = null;
    KubernetesPoolSpec kubernetes = null;
    GcePoolSpec gce = null;
    if (pool != null) {
      for (PoolKind other : PoolKind.values()) {
        String key = other.configName();
        if (other != pool && h.has(key)) {
          problem(
              h.at(key),
              "only allowed with pool = " + key + " (this host type has pool = "
                  + pool.configName() + ")");
        }
      }
      switch (pool) {
        case LOCAL ->
            local =
                h.object("local", "pool = local needs e.g. local { max = 4 }")
                    .flatMap(this::readLocal)
                    .orElse(null);
        case KUBERNETES ->
            kubernetes =
                h.object("kubernetes", "pool = kubernetes needs kubernetes { image = \"...\" }")
                    .flatMap(this::readKubernetes)
                    .orElse(null);
        case GCE ->
            gce =
                h.object("gce", "pool = gce needs gce { machine-type, image, zones }")
                    .flatMap(this::readGce)
                    .orElse(null);
        case REVERSE -> {
          // Reverse machines dial in by themselves: nothing to describe.
        }
      }
    }
    if (problems.size() != before) {
      return Optional.empty();
    }
    return Optional.of(
        new HostTypeSpec(
            name, pool, expected, cost, notes, local, kubernetes, gce, bootTimeoutMs, hermetic));
  }

  private Optional<LocalPoolSpec> readLocal(ConfigSection l) {
    l.onlyKeys(LOCAL_KEYS);
    Integer max = l.atLeast("max", null, 1, "the most agents this node runs at once");
    Integer min = l.atLeast("min", 0, 0, null);
    if (max == null || min == null) {
      return Optional.empty();
    }
    if (min > max) {
      problem(l.at("min"), "must be between 0 and max (" + max + "), got " + min);
      return Optional.empty();
    }
    return Optional.of(new LocalPoolSpec(min, max));
  }

  private Optional<KubernetesPoolSpec> readKubernetes(ConfigSection k) {
    int before = problems.size();
    k.onlyKeys(KUBERNETES_KEYS);
    String image = k.nonEmptyString("image", null, "the container image that runs the agent");
    String cpu = k.nonEmptyString("cpu", KubernetesPoolSpec.DEFAULT_CPU, null);
    String memory = k.nonEmptyString("memory", KubernetesPoolSpec.DEFAULT_MEMORY, null);
    Map<String, String> nodeSelector = k.stringMap("node-selector");
    List<String> env = k.envList("env");
    if (problems.size() != before) {
      return Optional.empty();
    }
    return Optional.of(new KubernetesPoolSpec(image, cpu, memory, nodeSelector, env));
  }

  private Optional<GcePoolSpec> readGce(ConfigSection g) {
    int before = problems.size();
    g.onlyKeys(GCE_KEYS);
    String machineType = g.nonEmptyString("machine-type", null, "e.g. e2-standard-8");
    String image = g.nonEmptyString("image", null, "the boot image that runs the agent");
    List<String> zones = g.nonEmptyStringList("zones", "e.g. [us-central1-a]", "zone");
    Integer diskGb = g.atLeast("disk-gb", GcePoolSpec.DEFAULT_DISK_GB, 1, null);
    // What one VM counts against the quota: the machine type's vCPUs unless told otherwise.
    java.util.OptionalInt named = machineType == null ? java.util.OptionalInt.of(1) : GcePoolSpec.vcpusOf(machineType);
    Integer cpus = g.atLeast("cpus", named.isPresent() ? named.getAsInt() : null, 1,
        "the machine type " + machineType + " does not say its vCPUs: set them");
    if (problems.size() != before) {
      return Optional.empty();
    }
    return Optional.of(new GcePoolSpec(machineType, image, zones, diskGb, cpus));
  }

  // ---- builders ----

  private Optional<BuilderSpec> readBuilder(
      String name, ConfigValue value, List<String> knownHosts) {
    int before = problems.size();
    String path = BUILDERS + "." + ConfigUtil.joinPath(name);
    checkName(path, name);
    if (value.valueType() != ConfigValueType.OBJECT) {
      problem(path, "must be an object (a builder), got " + render(value));
      return Optional.empty();
    }
    ConfigSection b = new ConfigSection(path, (ConfigObject) value, problems);
    b.onlyKeys(BUILDER_KEYS);

    String hostType = b.string("host-type", null, "the host type this builder runs on");
    if (hostType != null && !knownHosts.contains(hostType)) {
      String known =
          knownHosts.isEmpty() ? "none under " + HOSTS : String.join(", ", knownHosts);
      problem(
          b.at("host-type"), "unknown host type " + quote(hostType) + " (known: " + known + ")");
    }
    String notes = b.string("notes", "", null);

    List<RepoBranches> repos = new ArrayList<>();
    for (ConfigSection r : b.objectList("repos", null, "{ repo = go, branches = [master] }")) {
      readRepo(r).ifPresent(repos::add);
    }

    List<StepSpec> steps = new ArrayList<>();
    String stepExample = "{ name = make, cmd = \"./make.bash\" }";
    String stepsHint = "a builder needs at least one step, e.g. [ " + stepExample + " ]";
    List<ConfigSection> stepSections = b.objectList("steps", stepsHint, stepExample);
    if (b.isEmptyList("steps")) {
      problem(b.at("steps"), "a builder needs at least one step, got []");
    }
    Map<String, Integer> stepIndexByName = new HashMap<>();
    for (int i = 0; i < stepSections.size(); i++) {
      ConfigSection s = stepSections.get(i);
      Optional<StepSpec> step = readStep(s);
      String stepName = s.peekString("name");
      if (stepName != null) {
        Integer first = stepIndexByName.putIfAbsent(stepName, i);
        if (first != null) {
          problem(
              s.at("name"),
              "duplicate step name " + quote(stepName) + " (also steps[" + first + "])");
        }
      }
      step.ifPresent(steps::add);
    }

    if (problems.size() != before) {
      return Optional.empty();
    }
    return Optional.of(new BuilderSpec(name, hostType, repos, steps, notes));
  }

  private Optional<RepoBranches> readRepo(ConfigSection r) {
    int before = problems.size();
    r.onlyKeys(REPO_KEYS);
    String repo = r.nonEmptyString("repo", null, "the repository name, e.g. go");
    List<String> branches = r.nonEmptyStringList("branches", "e.g. [master]", "branch");
    if (problems.size() != before) {
      return Optional.empty();
    }
    return Optional.of(new RepoBranches(repo, branches));
  }

  private Optional<StepSpec> readStep(ConfigSection s) {
    int before = problems.size();
    s.onlyKeys(STEP_KEYS);
    String name = s.nonEmptyString("name", null, "a short name for the step");
    String cmd = s.nonEmptyString("cmd", null, "the program to run");
    List<String> args = s.stringList("args", List.of());
    List<String> env = s.envList("env");
    String dir = s.string("dir", StepSpec.DEFAULT_DIR, null);
    if (dir != null) {
      checkRelativeDir(s.at("dir"), dir);
    }
    Long timeoutMs = s.durationMs("timeout", StepSpec.DEFAULT_TIMEOUT_MS, "10m");
    Boolean sys = s.bool("sys", false);
    if (problems.size() != before) {
      return Optional.empty();
    }
    return Optional.of(new StepSpec(name, cmd, args, env, dir, timeoutMs, sys));
  }

  // ---- mirrored repositories ----

  private Optional<RepoSpec> readMirror(String name, ConfigValue value) {
    int before = problems.size();
    String path = REPOS + "." + ConfigUtil.joinPath(name);
    checkName(path, name);
    if (value.valueType() != ConfigValueType.OBJECT) {
      problem(path, "must be an object (a repository), got " + render(value));
      return Optional.empty();
    }
    ConfigSection r = new ConfigSection(path, (ConfigObject) value, problems);
    r.onlyKeys(MIRROR_KEYS);
    String url = r.nonEmptyString("url", null, "the upstream, e.g. \"https://go.googlesource.com/go\"");
    if (url != null && RepoSpec.urlProblem(url) != null) {
      problem(r.at("url"), RepoSpec.urlProblem(url));
    }
    List<String> branches = r.nonEmptyStringList("branches", "the branches built after submit, e.g. [master]", "branch");
    List<String> push = r.stringList("push", List.of());
    if (push != null) {
      for (int i = 0; i < push.size(); i++) {
        String problem = RepoSpec.urlProblem(push.get(i));
        if (problem != null) {
          problem(r.at("push") + "[" + i + "]", problem);
        }
      }
    }
    Long poll = r.durationMs("poll", RepoSpec.DEFAULT_POLL_MS, "1m");
    if (poll != null && poll < 1000) {
      problem(r.at("poll"), "must be at least 1s, got " + poll + "ms");
    }
    String secret = r.string("webhook-secret", "", null);
    Integer backfill = r.atLeast("backfill", RepoSpec.DEFAULT_BACKFILL, 1, null);
    if (problems.size() != before) {
      return Optional.empty();
    }
    return Optional.of(new RepoSpec(name, url, branches, push, poll, secret, backfill));
  }

  /** A builder's repos name configured repositories, and branches of them that are built. */
  private void checkRepos(BuilderSpec b, java.util.Set<String> known, Map<String, RepoSpec> repos) {
    String path = BUILDERS + "." + ConfigUtil.joinPath(b.name()) + ".repos";
    for (int i = 0; i < b.repos().size(); i++) {
      RepoBranches rb = b.repos().get(i);
      if (!known.contains(rb.repo())) {
        String names = known.isEmpty() ? "none under " + REPOS : String.join(", ", new java.util.TreeSet<>(known));
        problem(path + "[" + i + "].repo", "unknown repository " + quote(rb.repo()) + " (known: " + names + ")");
        continue;
      }
      RepoSpec spec = repos.get(rb.repo());
      if (spec == null) {
        continue; // reported under grange.repos
      }
      for (String branch : rb.branches()) {
        if (!spec.branches().contains(branch)) {
          problem(path + "[" + i + "].branches", "branch " + quote(branch) + " is not one " + REPOS + "." + rb.repo()
              + " builds (it builds " + String.join(", ", spec.branches()) + ")");
        }
      }
    }
  }

  // ---- shared checks ----

  private void checkName(String path, String name) {
    if (!FarmConfig.isValidName(name)) {
      problem(
          path,
          "bad name " + quote(name) + ": must match " + FarmConfig.NAME_PATTERN.pattern()
              + " and be at most " + FarmConfig.MAX_NAME_LENGTH + " characters");
    }
  }

  private void checkRelativeDir(String path, String dir) {
    if (dir.isEmpty()) {
      problem(path, "must not be empty (use \".\" for the work directory)");
    } else if (dir.startsWith("/") || dir.startsWith("\\") || DRIVE.matcher(dir).matches()) {
      problem(path, "must be relative to the buildlet work directory, got " + quote(dir));
    } else if (List.of(dir.split("[/\\\\]")).contains("..")) {
      problem(
          path,
          "must not contain \"..\" (steps stay inside the buildlet work directory), got "
              + quote(dir));
    }
  }

  private void problem(String path, String what) {
    problems.add(path + ": " + what);
  }

  private static String kinds() {
    return String.join(", ", PoolKind.configNames());
  }

  private static String quote(String s) {
    return ConfigSection.quote(s);
  }

  private static String render(ConfigValue v) {
    return ConfigSection.render(v);
  }
}
