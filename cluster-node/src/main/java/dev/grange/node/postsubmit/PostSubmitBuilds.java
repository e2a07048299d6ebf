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
import java.util.HexFormat;
import java.util.List;
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
 * builder of that repo and branch and commit. A build's id is derived from its builder and
 * commit ({@code ps-<hash>}), so a landing handed over twice (a crash, two nodes) never makes a
 * second build: the {@link BuildRun} that exists refuses the start or acks it.
 */
public final class PostSubmitBuilds implements PostSubmit {
  private static final Logger log = LoggerFactory.getLogger(PostSubmitBuilds.class);
  public static final String USER = "post-submit";

  private final ClusterSharding sharding;
  private final FarmConfig farm;
  private final Duration ask;

  PostSubmitBuilds(ClusterSharding sharding, FarmConfig farm, Duration ask) {
    this.sharding = sharding;
    this.farm = farm;
    this.ask = ask;
  }

  /** Starts the mirrors of {@code farm} on this node and wakes each (the one node that runs it fetches). */
  public static void init(ActorSystem<?> system, ClusterSharding sharding, FarmConfig farm, RepoMirror.Settings settings,
      Duration ask) {
    PostSubmitBuilds builds = new PostSubmitBuilds(sharding, farm, ask);
    // Remembered: when its node goes, sharding starts the mirror on another at once, so polling
    // goes on without waiting for a webhook or a page to wake it.
    sharding.init(Entity.of(RepoMirror.ENTITY_KEY,
            ctx -> RepoMirror.create(ctx.getEntityId(), farm.repo(ctx.getEntityId()).orElse(null), settings, builds))
        .withSettings(ClusterShardingSettings.create(system).withRememberEntities(true)));
    farm.repos().keySet().forEach(name -> sharding.entityRefFor(RepoMirror.ENTITY_KEY, name).tell(new RepoMirror.Fetch("node started")));
  }

  @Override
  public void landed(String repo, String branch, List<GitMirror.LandedCommit> commits) {
    RepoSpec spec = farm.repo(repo).orElse(null);
    if (spec == null) {
      return;
    }
    List<BuilderSpec> builders = farm.buildersOf(repo, branch);
    long now = System.currentTimeMillis();
    for (GitMirror.LandedCommit c : commits) {
      for (BuilderSpec b : builders) {
        String id = buildId(b.name(), c.sha());
        BuildSpec build = new BuildSpec(id, b.name(), b.hostType(), b.steps(), spec.url(), c.sha(), c.sha(), c.commitTimeMs(),
            c.subject(), branch, PriorityClass.POST_SUBMIT, USER, now, c.author());
        sharding.entityRefFor(BuildRun.ENTITY_KEY, id)
            .<StatusReply<Done>>ask(rt -> new BuildRun.Start(build, rt, System.currentTimeMillis() + ask.toMillis()), ask)
            .whenComplete((r, err) -> {
              if (err != null) {
                log.warn("Post-submit build [{}] of [{}] at [{}] not queued: {}", id, b.name(), c.sha(), err.toString());
              } else if (r.isError()) {
                // Most often: it exists already (the landing was handed over again).
                log.debug("Post-submit build [{}]: {}", id, r.getError().getMessage());
              } else {
                log.info("Post-submit build [{}] queued: [{}] at [{}] of [{}] [{}]", id, b.name(), c.sha(), repo, branch);
              }
            });
      }
    }
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
