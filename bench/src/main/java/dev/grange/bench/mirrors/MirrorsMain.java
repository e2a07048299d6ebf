package dev.grange.bench.mirrors;

import dev.grange.bench.FarmFlags;
import dev.grange.bench.Flags;
import dev.grange.bench.Steps;
import dev.grange.bench.Main;
import dev.grange.bench.farm.BenchFarm;
import dev.grange.bench.farm.FarmApi;
import dev.grange.bench.farm.NodeConf;
import dev.grange.bench.farm.Poll;
import dev.grange.bench.report.Report;
import dev.grange.node.postsubmit.PostSubmitBuilds;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code bench/mirrors}, the figures of issue 5: upstream commit -> post-submit build queued, by
 * webhook and by polling, and archive serving of a ~100 MB tree beside {@code git archive | gzip}
 * (README, "Repository mirrors"). Makes three upstream repositories in its run directory with the
 * git CLI ({@code hooked}: polled hourly, webhook secret; {@code polled}: every 5 s; {@code big}:
 * the {@link BigTree}), starts a {@link BenchFarm} whose node mirrors them (a builder of {@code
 * main} for the first two, {@code true} as its step), measures, prints a table (also written to
 * {@code bench/target/mirrors-results.md} and the run directory) and stops the farm, also on
 * failure and on Ctrl-C. A step that fails is named with its reason, and exit code 1; 2 for a bad
 * command line.
 */
public final class MirrorsMain {
  static final String HOOKED = "hooked";
  static final String POLLED = "polled";
  static final String BIG = "big";
  static final String HOOKED_BUILDER = "mirror-hooked";
  static final String POLLED_BUILDER = "mirror-polled";
  private static final int AGENTS = 2;
  private static final Duration MIRRORED_DEADLINE = Duration.ofMinutes(5);

  static final String USAGE = """
      usage: bench/mirrors [--quick] [--webhook-commits N] [--poll-commits N] [--poll-seconds S]
                           [--big-mb M] [--big-files N] [--warm N] [--keep-data]
        (no flag)           30 commits by webhook, 8 by polling every 5 s, a 100 MB tree of 11,000 files
        --quick             5 commits by webhook, 2 by polling, a 10 MB tree of 1,100 files (as MirrorsBenchIT)
        --webhook-commits N commits brought by a webhook
        --poll-commits N    commits found by polling
        --poll-seconds S    the polled repository's poll interval (default 5)
        --big-mb M          megabytes (10^6) of the big tree
        --big-files N       files of the big tree
        --warm N            warm /src requests (median reported; default 5, quick 3); git archive runs 3 times
        --keep-data         keep the run directory's Cassandra data, mirrors and big upstream
        --push-payload F    the push webhook's body (default: shared/data/github-webhooks/push.json)
      """;

  /** What one run measured, and its table. */
  public record Result(Landings.Result webhook, Landings.Result polling, ArchiveServing.Result archive, String table) {}

  private MirrorsMain() {}

  public static void main(String[] args) {
    Options o = Flags.parseOrExit("bench/mirrors", USAGE, args, Options::parse);
    Steps.main("bench/mirrors", USAGE, o, o.help, x -> run(x, System.out).table());
  }

  /** Runs the benchmark; the farm is stopped before it returns or throws. */
  public static Result run(Options o, PrintStream out) throws Exception {
    Steps.RunStart start = Steps.RunStart.begin("bench/mirrors", "mirrors", o.root, o.quick, out);
    Path target = start.target();
    Path runDir = start.runDir();

    Path ups = runDir.resolve("upstream");
    Upstream hooked = Steps.step("creating the upstream " + HOOKED, () -> Upstream.create(ups.resolve(HOOKED), "README"));
    Upstream polled = Steps.step("creating the upstream " + POLLED, () -> Upstream.create(ups.resolve(POLLED), "README"));
    long t0 = System.nanoTime();
    BigTree.Written tree = Steps.step("writing the big tree",
        () -> BigTree.write(ups.resolve(BIG), o.bigFiles, o.bigMb * 1_000_000L, BigTree.SEED));
    Upstream big = Steps.step("committing the big tree", () -> Upstream.create(ups.resolve(BIG), "README"));
    long t1 = System.nanoTime();
    Steps.step("packing the big upstream (git gc)", () -> {
      big.pack();
      return null;
    });
    String bigSha = Steps.step("reading the big upstream's head", big::head);
    out.printf("Upstreams made with git %s: big is %,d files, %,d bytes (%,d random in %,d files), written and committed in"
        + " %.1f s, packed in %.1f s%n", Steps.step("asking git its version", () -> hooked.git("version")).replace("git version ", ""),
        tree.files(), tree.bytes(), tree.binaryBytes(), tree.binaryFiles(), (t1 - t0) / 1e9, (System.nanoTime() - t1) / 1e9);

    byte[] secret = new byte[16];
    new SecureRandom().nextBytes(secret);
    String webhookSecret = HexFormat.of().formatHex(secret);
    byte[] payload = Steps.step("reading the GitHub push payload", () -> {
      if (!Files.isRegularFile(o.pushPayload)) {
        throw new IOException("there is no file " + o.pushPayload + " (shared/data/github-webhooks/push.json beside the"
            + " checkout, or --push-payload)");
      }
      return Files.readAllBytes(o.pushPayload);
    });

    AtomicReference<BenchFarm> farmRef = new AtomicReference<>();
    Thread hook = new Thread(() -> {
      BenchFarm f = farmRef.get();
      if (f != null) {
        System.err.println("bench/mirrors: interrupted; stopping the farm ...");
        f.close();
      }
    }, "bench-mirrors-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    BenchFarm.Launch launch = new BenchFarm.Launch(o.java, o.nodeClasspath, o.agentClasspath, o.cassandraClasspathFile, List.of());
    String extra = conf(hooked, polled, big, webhookSecret, o.pollSeconds);
    Result result;
    try (BenchFarm farm = Steps.step("starting the farm",
        () -> BenchFarm.start(launch, runDir, target.resolve("mirrors.pids"), AGENTS, 1 << 20, 1 << 20, extra, out))) {
      farmRef.set(farm);
      NodeClient node = new NodeClient(farm.nodeBase());
      long m0 = System.nanoTime();
      Steps.step("waiting for the node to mirror the three upstreams (see " + farm.nodeLog() + ")", () -> {
        awaitMirrored(node, HOOKED, hooked.head());
        awaitMirrored(node, POLLED, polled.head());
        return awaitMirrored(node, BIG, bigSha);
      });
      Steps.step("waiting for the first commits' post-submit builds", () -> {
        awaitBuilt(node, HOOKED_BUILDER, hooked.head());
        return awaitBuilt(node, POLLED_BUILDER, polled.head());
      });
      out.printf("Upstreams mirrored and their first commits built %.1f s after the farm was ready; quiet after %.0f s more%n",
          (System.nanoTime() - m0) / 1e9, farm.awaitQuiet(Duration.ofSeconds(60)));

      Landings landings = new Landings(node, out);
      out.printf("Commit -> queued by webhook, %d commits:%n", o.webhookCommits);
      Landings.Result byHook = Steps.step("measuring the webhook path",
          () -> landings.byWebhook(hooked, HOOKED, HOOKED_BUILDER, payload, webhookSecret, o.webhookCommits));
      out.printf("Commit -> queued by polling every %d s, %d commits:%n", o.pollSeconds, o.pollCommits);
      Landings.Result byPoll = Steps.step("measuring the polling path",
          () -> landings.byPolling(polled, POLLED_BUILDER, Duration.ofSeconds(o.pollSeconds), o.pollCommits, BigTree.SEED));
      out.printf("Archive serving of big at %s:%n", bigSha.substring(0, 12));
      ArchiveServing.Result archive = Steps.step("measuring archive serving",
          () -> new ArchiveServing(node, out).run(big, bigSha, tree, o.warm, o.gitRuns));

      Report.Context c = start.context(o.command());
      String table = MirrorsReport.render(c, AGENTS, byHook, byPoll, o.pollSeconds, archive, o.warm, o.gitRuns);
      result = new Result(byHook, byPoll, archive, table);
    } finally {
      farmRef.set(null);
      Runtime.getRuntime().removeShutdownHook(hook);
    }
    Files.writeString(runDir.resolve("mirrors-results.md"), result.table(), StandardCharsets.UTF_8);
    Files.writeString(target.resolve("mirrors-results.md"), result.table(), StandardCharsets.UTF_8);
    if (!o.keepData) {
      // Logs stay; the bulk goes (a full run leaves ~400 MB otherwise).
      for (Path p : List.of(runDir.resolve("cassandra").resolve("data"), runDir.resolve("var"), ups.resolve(BIG))) {
        Main.deleteTree(p);
      }
    }
    out.println("Run directory (node log, node.conf): " + runDir);
    return result;
  }

  /** The node's repositories and the builders of their {@code main}, appended to its config. */
  static String conf(Upstream hooked, Upstream polled, Upstream big, String secret, int pollSeconds) {
    return """
        grange.repos {
          %s { url = "%s", branches = [main], poll = 1h, webhook-secret = "%s", backfill = 1 }
          %s { url = "%s", branches = [main], poll = %ds, backfill = 1 }
          %s { url = "%s", branches = [main], poll = 1h, backfill = 1 }
        }
        grange.builders {
          %s { host-type = %s, repos = [ { repo = %s, branches = [main] } ], steps = [ { name = t, cmd = "true", sys = true, timeout = 1m } ] }
          %s { host-type = %s, repos = [ { repo = %s, branches = [main] } ], steps = [ { name = t, cmd = "true", sys = true, timeout = 1m } ] }
        }
        """.formatted(HOOKED, hooked.url(), secret, POLLED, polled.url(), pollSeconds, BIG, big.url(),
        HOOKED_BUILDER, NodeConf.HOST_TYPE, HOOKED, POLLED_BUILDER, NodeConf.HOST_TYPE, POLLED);
  }

  private static Boolean awaitMirrored(NodeClient node, String name, String sha) throws Exception {
    return Poll.until("mirror " + name + " at " + sha, MIRRORED_DEADLINE, Duration.ofMillis(250),
        () -> sha.equals(node.mirroredMain(name)) ? Boolean.TRUE : null);
  }

  private static Boolean awaitBuilt(NodeClient node, String builder, String sha) throws Exception {
    String id = PostSubmitBuilds.buildId(builder, sha);
    return Poll.until("post-submit build " + id + " of " + builder + " at " + sha + " over", Duration.ofMinutes(2),
        Duration.ofMillis(250), () -> {
          var b = node.buildOrNull(id);
          return b != null && FarmApi.isOver(b) ? Boolean.TRUE : null;
        });
  }

  /** The command line (bench/mirrors passes the root and the classpaths; they default to the checkout's build). */
  public static final class Options extends FarmFlags {
    Path pushPayload;
    boolean quick;
    int webhookCommits = 30;
    int pollCommits = 8;
    int pollSeconds = 5;
    int bigMb = 100;
    int bigFiles = 11_000;
    int warm = 5;
    int gitRuns = 3;
    boolean keepData;
    private String command;

    public static Options parse(String... args) {
      Options o = new Options();
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        int farm = o.farmFlag(args, i);
        if (farm >= 0) {
          i = farm;
          continue;
        }
        switch (a) {
          case "--quick" -> {
            o.quick = true;
            o.webhookCommits = 5;
            o.pollCommits = 2;
            o.bigMb = 10;
            o.bigFiles = 1_100;
            o.warm = 3;
          }
          case "--keep-data" -> o.keepData = true;
          case "--webhook-commits" -> o.webhookCommits = Flags.positive(args, ++i, a);
          case "--poll-commits" -> o.pollCommits = Flags.positive(args, ++i, a);
          case "--poll-seconds" -> o.pollSeconds = Flags.positive(args, ++i, a);
          case "--big-mb" -> o.bigMb = Flags.positive(args, ++i, a);
          case "--big-files" -> o.bigFiles = Flags.positive(args, ++i, a);
          case "--warm" -> o.warm = Flags.positive(args, ++i, a);
          case "--push-payload" -> o.pushPayload = Path.of(Flags.value(args, ++i, a));
          default -> throw new IllegalArgumentException("unknown argument " + a);
        }
      }
      o.command = command(args);
      if (o.bigFiles < 11) {
        throw new IllegalArgumentException("--big-files must be at least 11");
      }
      if ((long) o.bigMb * 1_000_000L < o.bigFiles) {
        throw new IllegalArgumentException("--big-mb " + o.bigMb + " is too small for " + o.bigFiles + " files");
      }
      if (o.pushPayload == null) {
        o.pushPayload = pushPayload(o.root);
      }
      o.farmDefaults();
      return o;
    }

    /** The command that reproduces the run, as the report shows it. */
    String command() {
      return command;
    }

    private static String command(String[] args) {
      Set<String> passed = new java.util.HashSet<>(PASSED);
      passed.add("--push-payload");
      return Flags.command("bench/mirrors", args, passed);
    }

    /**
     * GitHub's own push payload, {@code shared/data/github-webhooks/push.json} beside the checkout
     * or one of the directories above it (as PostSubmitIT finds it); sent as is.
     */
    private static Path pushPayload(Path root) {
      Path rel = Path.of("shared", "data", "github-webhooks", "push.json");
      for (Path d = root; d != null && d.getParent() != null; d = d.getParent()) {
        if (Files.isRegularFile(d.resolveSibling(rel.toString()))) {
          return d.resolveSibling(rel.toString());
        }
      }
      return root.resolveSibling(rel.toString());
    }
  }
}
