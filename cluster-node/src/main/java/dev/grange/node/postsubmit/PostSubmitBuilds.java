package dev.grange.node.postsubmit;

import dev.grange.mirror.GitMirror;
import dev.grange.mirror.PostSubmit;
import dev.grange.mirror.RepoMirror;
import dev.grange.node.buildrun.BuildRun;
import dev.grange.node.buildrun.BuildSpec;
import dev.grange.protocol.model.BuilderSpec;
import dev.grange.protocol.model.FarmConfig;
import dev.grange.protocol.model.RepoSpec;
import dev.grange.protocol.schedule.PriorityClass;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingSettings;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.pattern.StatusReply;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's side of the repo mirrors: starts the {@link RepoMirror} shard region (mirrors under
 * {@code var/mirrors/}, git work on the blocking dispatcher), wakes every configured mirror at
 * start, and turns the commits that landed on a built branch into post-submit builds, one per
 * builder of that repo and branch and commit, in the order they landed (newest first).
 *
 * <p>Never a second build of a builder at a commit: a build that exists already for them (asked
 * for by hand on that branch or by that commit, as the {@link Existing} read side knows it) is
 * left to stand for the commit; and a build's id is derived from its builder and commit ({@code
 * ps-<hash>}), so a landing handed over twice (a crash, two nodes) meets the {@link BuildRun}
 * that exists, which refuses the start (the spec's submit time differs) or acks it. A landing's
 * stage completes once every one of its starts was answered; a start that was not (sharding,
 * Cassandra) fails it, and the {@link RepoMirror}, which keeps the landing pending until then,
 * hands it over again with backoff.
 */
public final class PostSubmitBuilds implements PostSubmit {
  private static final Logger log = LoggerFactory.getLogger(PostSubmitBuilds.class);
  public static final String USER = "post-submit";

  /** Which build, if any, exists already for a builder at a commit of a repository (on {@code branch} or by commit). */
  public interface Existing {
    Existing NONE = (repo, branch, commitTimeMs, rev, builder) -> CompletableFuture.completedFuture(Optional.empty());

    CompletionStage<Optional<String>> find(String repo, String branch, long commitTimeMs, String rev, String builder);
  }

  private final ClusterSharding sharding;
  private final FarmConfig farm;
  private final Existing existing;
  private final Duration ask;
  /** The last landing's work: each landing is queued after the one before, in order. */
  private CompletionStage<?> tail = CompletableFuture.completedFuture(null);

  PostSubmitBuilds(ClusterSharding sharding, FarmConfig farm, Existing existing, Duration ask) {
    this.sharding = sharding;
    this.farm = farm;
    this.existing = existing;
    this.ask = ask;
  }

  /** Starts the mirrors of {@code farm} on this node and wakes each (the one node that runs it fetches). */
  public static void init(ActorSystem<?> system, ClusterSharding sharding, FarmConfig farm, RepoMirror.Settings settings,
      Existing existing, Duration ask) {
    PostSubmitBuilds builds = new PostSubmitBuilds(sharding, farm, existing, ask);
    // Remembered: when its node goes, sharding starts the mirror on another at once, so polling
    // goes on without waiting for a webhook or a page to wake it.
    sharding.init(Entity.of(RepoMirror.ENTITY_KEY,
            ctx -> RepoMirror.create(ctx.getEntityId(), farm.repo(ctx.getEntityId()).orElse(null), settings, builds))
        .withSettings(ClusterShardingSettings.create(system).withRememberEntities(true)));
    farm.repos().keySet().forEach(name -> sharding.entityRefFor(RepoMirror.ENTITY_KEY, name).tell(new RepoMirror.Fetch("node started")));
  }

  @Override
  public CompletionStage<Void> landed(String repo, String branch, List<GitMirror.LandedCommit> commits) {
    RepoSpec spec = farm.repo(repo).orElse(null);
    if (spec == null) {
      return CompletableFuture.completedFuture(null);
    }
    List<BuilderSpec> builders = farm.buildersOf(repo, branch);
    List<CompletableFuture<Void>> each = new ArrayList<>();
    synchronized (this) {
      for (GitMirror.LandedCommit c : commits) {
        for (BuilderSpec b : builders) {
          CompletableFuture<Void> one = tail.thenCompose(x -> queue(spec, branch, c, b)).toCompletableFuture();
          each.add(one);
          tail = one.exceptionally(t -> null);
        }
      }
    }
    return CompletableFuture.allOf(each.toArray(new CompletableFuture[0]));
  }

  /** Queues the build of {@code b} at {@code c} unless one exists; completes when that is settled. */
  private CompletionStage<Void> queue(RepoSpec spec, String branch, GitMirror.LandedCommit c, BuilderSpec b) {
    return existing.find(spec.url(), branch, c.commitTimeMs(), c.sha(), b.name())
        .exceptionally(t -> {
          // Better a duplicate than a commit left unbuilt: the derived id still stops a second post-submit.
          log.warn("Post-submit: could not look for an existing build of [{}] at [{}] ({}); queuing", b.name(), c.sha(), t.toString());
          return Optional.empty();
        })
        .thenCompose(found -> {
          if (found.isPresent()) {
            log.info("Post-submit: [{}] at [{}] of [{}] [{}] not queued: build [{}] exists for it", b.name(), c.sha(), spec.name(),
                branch, found.get());
            return CompletableFuture.completedFuture(null);
          }
          return start(spec, branch, c, b);
        });
  }

  /** One start of the build; fails if the {@link BuildRun} did not answer (any answer settles it: it exists now). */
  private CompletionStage<Void> start(RepoSpec spec, String branch, GitMirror.LandedCommit c, BuilderSpec b) {
    String id = buildId(b.name(), c.sha());
    BuildSpec build = new BuildSpec(id, b.name(), b.hostType(), b.steps(), spec.url(), c.sha(), c.sha(), c.commitTimeMs(),
        c.subject(), branch, PriorityClass.POST_SUBMIT, USER, System.currentTimeMillis(), c.author());
    CompletableFuture<Void> done = new CompletableFuture<>();
    sharding.entityRefFor(BuildRun.ENTITY_KEY, id)
        .<StatusReply<Done>>ask(rt -> new BuildRun.Start(build, rt, System.currentTimeMillis() + ask.toMillis()), ask)
        .whenComplete((r, err) -> {
          if (err == null) {
            if (r.isError()) {
              // Most often: it exists already (the landing was handed over again).
              log.debug("Post-submit build [{}]: {}", id, r.getError().getMessage());
            } else {
              log.info("Post-submit build [{}] queued: [{}] at [{}] of [{}] [{}]", id, b.name(), c.sha(), spec.name(), branch);
            }
            done.complete(null);
          } else {
            log.warn("Post-submit build [{}] of [{}] at [{}] not confirmed (its landing is handed over again): {}", id, b.name(), c.sha(),
                err.toString());
            done.completeExceptionally(
                new IllegalStateException("build " + id + " of " + b.name() + " at " + c.sha() + " not confirmed: " + err, err));
          }
        });
    return done;
  }
  /** The one id of the post-submit build of {@code builder} at {@code sha}. */
  public static String buildId(String builder, String sha) {
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest((builder + "\n" + sha).getBytes(StandardCharsets.UTF_8));
      return "ps-" + HexFormat.of().formatHex(h, 0, 10);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
