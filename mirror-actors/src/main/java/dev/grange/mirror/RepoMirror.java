package dev.grange.mirror;

import dev.grange.mirror.RepoMirrorEvents.CommitsLanded;
import dev.grange.mirror.RepoMirrorEvents.Event;
import dev.grange.mirror.RepoMirrorEvents.LandingsQueued;
import dev.grange.mirror.RepoMirrorEvents.Pending;
import dev.grange.mirror.RepoMirrorEvents.RefsUpdated;
import dev.grange.mirror.RepoMirrorEvents.State;
import dev.grange.protocol.CborSerializable;
import dev.grange.protocol.model.RepoSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * The mirror of one configured repository ({@code grange.repos.<name>}; entity id = its name),
 * sharded: wherever it runs, it fetches upstream into a bare mirror on that node's disk ({@link
 * GitMirror}, on the blocking executor) every poll interval and at once on {@link Fetch} (a
 * webhook, a start), pushes what it has to its targets, and turns the commits that landed on a
 * built branch into a persisted {@link CommitsLanded}, handed to {@link PostSubmit}. It persists
 * the refs it saw ({@link RefsUpdated}), so on another node it rebuilds its mirror from upstream
 * and lands nothing twice. A landing stays pending in its state until post-submit says every
 * build of it was accepted ({@link LandingsQueued}); until then it is handed over again, with
 * backoff while this entity lives and at once when it recovers (a crash, another node), so a
 * landing is never lost between its persist and its builds. A failing fetch, push or hand-over is
 * retried with backoff (1 s doubling, at most the poll interval for a fetch, 1 min otherwise) and
 * shown in {@link Status}; nothing else stops. One push at a time per target: a push asked for
 * while one runs is made once after it.
 */
public final class RepoMirror extends EventSourcedBehaviorWithEnforcedReplies<RepoMirror.Command, Event, State> {
  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "RepoMirror");

  public sealed interface Command extends CborSerializable {}

  /** Fetch now ({@code why}: "webhook", "poll", "start"); a fetch under way is followed by one more. */
  public record Fetch(String why) implements Command {}

  public record GetStatus(ActorRef<Status> replyTo) implements Command {}

  /**
   * What the mirrors page shows of a repository. {@code lastFetchOkMs} 0: never fetched. {@code
   * pendingLandings}: landings post-submit has not yet taken, the oldest landed at {@code
   * oldestPendingMs} (0: none), {@code landingError} why the last hand-over failed (null: it did
   * not). {@code node}: the HTTP address of the node it runs on.
   */
  public record Status(String name, String url, Map<String, String> branches, int refs, long lastFetchMs, long lastFetchOkMs,
      String lastError, int failuresInARow, boolean fetching, long landedCommits, int pendingLandings, long oldestPendingMs,
      String landingError, List<TargetStatus> targets, String node) implements CborSerializable {}

  /** A push target: when a push last worked, and the last error (null when the last push worked). */
  public record TargetStatus(String url, long lastSuccessMs, long lastAttemptMs, String lastError) implements CborSerializable {}

  /**
   * How mirrors run on this node: where their bare mirrors go, the executor for git work, its
   * timeout, how it speaks ssh ({@link GitSsh#NONE}: not at all), the registry of the mirrors
   * served here, and this node's HTTP address (shown).
   */
  public record Settings(Path mirrorsDir, Executor blocking, int gitTimeoutSeconds, GitSsh ssh, MirrorsHere here, String node) {}

  private record FetchDone(Map<String, String> refs, Map<String, List<GitMirror.LandedCommit>> landed, String error) implements Command {}

  private record Push(String target) implements Command {}

  private record PushDone(String target, String error) implements Command {}

  private record HandedOver(long seq, String error) implements Command {}

  private enum HandOverAgain implements Command { INSTANCE }

  private static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);
  private static final Duration MAX_BACKOFF = Duration.ofMinutes(1);

  public static Behavior<Command> create(String name, RepoSpec spec, Settings settings, PostSubmit postSubmit) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(t -> new RepoMirror(name, spec, settings, postSubmit, ctx, t)));
  }

  private final String name;
  private final RepoSpec spec;
  private final Settings settings;
  private final PostSubmit postSubmit;
  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final GitMirror git;
  private boolean fetching;
  private boolean again;
  private long lastFetchMs;
  private long lastFetchOkMs;
  private String lastError;
  private int failures;
  private final Map<String, TargetStatus> targets = new LinkedHashMap<>();
  private final Map<String, Integer> pushFailures = new LinkedHashMap<>();
  private final Set<String> pushing = new HashSet<>();
  private final Set<String> pushAgain = new HashSet<>();
  /** The landings whose hand-over is under way (not sent again before it answers). */
  private final Set<Long> handingOver = new HashSet<>();
  private int handOverFailures;
  private String handOverError;

  private RepoMirror(String name, RepoSpec spec, Settings settings, PostSubmit postSubmit, ActorContext<Command> ctx,
      TimerScheduler<Command> timers) {
    super(PersistenceId.of(ENTITY_KEY.name(), name),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(10), 0.2));
    this.name = name;
    this.spec = spec;
    this.settings = settings;
    this.postSubmit = postSubmit;
    this.ctx = ctx;
    this.timers = timers;
    this.git = new GitMirror(settings.mirrorsDir().resolve(name + ".git"), settings.gitTimeoutSeconds(), settings.ssh());
    if (spec != null) {
      spec.pushTargets().forEach(u -> targets.put(u, new TargetStatus(u, 0, 0, null)));
    }
  }

  @Override
  public State emptyState() {
    return State.empty();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 2);
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), s -> {
          if (spec == null) {
            ctx.getLog().warn("Repo mirror [{}] is not in grange.repos: it does nothing", name);
            return;
          }
          // Timers do not survive a restart: started on every recovery.
          timers.startTimerWithFixedDelay("poll", new Fetch("poll"), Duration.ofMillis(spec.pollIntervalMs()));
          ctx.getSelf().tell(new Fetch("start"));
          if (!s.pending().isEmpty()) {
            ctx.getLog().info("Repo mirror [{}]: {} landing(s) not yet taken by post-submit, handing them over again", name,
                s.pending().size());
          }
          handOver(s);
        })
        .onSignal(PostStop.class, (st, sig) -> settings.here().stopped(name, git.dir()))
        .build();
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    return newCommandHandlerWithReplyBuilder().forAnyState()
        .onCommand(Fetch.class, this::onFetch)
        .onCommand(FetchDone.class, this::onFetchDone)
        .onCommand(Push.class, this::onPush)
        .onCommand(PushDone.class, this::onPushDone)
        .onCommand(HandedOver.class, this::onHandedOver)
        .onCommand(HandOverAgain.class, (s, c) -> {
          handOver(s);
          return Effect().noReply();
        })
        .onCommand(GetStatus.class, (s, c) -> Effect().reply(c.replyTo(), status(s)))
        .build();
  }

  private ReplyEffect<Event, State> onFetch(State s, Fetch c) {
    if (spec == null) {
      return Effect().noReply();
    }
    if (fetching) {
      again = true;
      return Effect().noReply();
    }
    fetching = true;
    lastFetchMs = System.currentTimeMillis();
    Map<String, String> before = s.refs();
    ctx.getLog().debug("Repo mirror [{}]: fetching ({})", name, c.why());
    CompletableFuture<FetchDone> f = CompletableFuture.supplyAsync(() -> {
      try {
        Map<String, String> refs = git.fetch(spec.url());
        return new FetchDone(refs, landedOn(before, refs), null);
      } catch (Exception e) {
        return new FetchDone(Map.of(), Map.of(), describe(e));
      }
    }, settings.blocking());
    ctx.pipeToSelf(f, (done, err) -> done != null ? done : new FetchDone(Map.of(), Map.of(), describe(err)));
    return Effect().noReply();
  }

  /** Blocking, on the executor: per built branch that moved, the commits that landed on it. */
  private Map<String, List<GitMirror.LandedCommit>> landedOn(Map<String, String> before, Map<String, String> now) throws java.io.IOException {
    Map<String, List<GitMirror.LandedCommit>> out = new LinkedHashMap<>();
    for (String branch : spec.branches()) {
      String ref = "refs/heads/" + branch;
      String sha = now.get(ref);
      if (sha == null || sha.equals(before.get(ref))) {
        continue;
      }
      String old = before.get(ref);
      // A branch seen for the first time is backfilled; a moved one lands what is new (bounded
      // too, so a force-push onto an unrelated history does not queue it all).
      List<GitMirror.LandedCommit> commits = git.landed(old, sha, old == null ? spec.backfill() : Math.max(spec.backfill(), 100));
      if (!commits.isEmpty()) {
        out.put(branch, commits);
      }
    }
    return out;
  }

  private ReplyEffect<Event, State> onFetchDone(State s, FetchDone d) {
    fetching = false;
    if (d.error() != null) {
      failures++;
      lastError = d.error();
      long backoff = backoffMs(failures, spec.pollIntervalMs());
      ctx.getLog().warn("Repo mirror [{}]: fetch failed ({} in a row), again in {} ms: {}", name, failures, backoff, d.error());
      timers.startSingleTimer("retry", new Fetch("retry"), Duration.ofMillis(backoff));
      return Effect().noReply();
    }
    failures = 0;
    lastError = null;
    lastFetchOkMs = System.currentTimeMillis();
    settings.here().serving(name, git.dir());
    long now = lastFetchOkMs;
    Map<String, String> changed = new LinkedHashMap<>();
    d.refs().forEach((ref, sha) -> {
      if (!sha.equals(s.refs().get(ref))) {
        changed.put(ref, sha);
      }
    });
    List<String> deleted = s.refs().keySet().stream().filter(r -> !d.refs().containsKey(r)).toList();
    List<Event> events = new ArrayList<>();
    if (!changed.isEmpty() || !deleted.isEmpty()) {
      events.add(new RefsUpdated(changed, deleted, now));
    }
    d.landed().forEach((branch, commits) -> events.add(new CommitsLanded(branch, commits, now, true)));
    boolean first = s.refs().isEmpty() && lastPushNever();
    if (events.isEmpty()) {
      if (first) {
        pushAll();
      }
      fetchAgainIfAsked();
      return Effect().noReply();
    }
    return Effect().persist(events).thenRun(ns -> {
      d.landed().forEach((branch, commits) -> {
        ctx.getLog().info("Repo mirror [{}]: {} commit(s) landed on [{}], newest {}", name, commits.size(), branch,
            commits.get(0).sha());
      });
      handOver(ns);
      pushAll();
      fetchAgainIfAsked();
    }).thenNoReply();
  }

  private boolean lastPushNever() {
    return targets.values().stream().allMatch(t -> t.lastAttemptMs() == 0);
  }

  private void fetchAgainIfAsked() {
    if (again) {
      again = false;
      ctx.getSelf().tell(new Fetch("asked while fetching"));
    }
  }

  private void pushAll() {
    targets.keySet().forEach(t -> ctx.getSelf().tell(new Push(t)));
  }

  /** Hands each pending landing not under way to post-submit; each answers with a {@link HandedOver}. */
  private void handOver(State s) {
    for (Pending p : s.pending()) {
      if (!handingOver.add(p.seq())) {
        continue;
      }
      CompletionStage<Void> f;
      try {
        f = postSubmit.landed(name, p.branch(), p.commits());
      } catch (RuntimeException e) {
        f = CompletableFuture.failedFuture(e);
      }
      ctx.pipeToSelf(f, (ok, err) -> new HandedOver(p.seq(), err == null ? null : describe(err)));
    }
  }

  private ReplyEffect<Event, State> onHandedOver(State s, HandedOver h) {
    handingOver.remove(h.seq());
    if (h.error() != null) {
      handOverError = h.error();
      if (!timers.isTimerActive(HandOverAgain.INSTANCE)) {
        handOverFailures++;
        long backoff = backoffMs(handOverFailures, MAX_BACKOFF.toMillis());
        ctx.getLog().warn("Repo mirror [{}]: post-submit did not take landing {} ({} in a row), again in {} ms: {}", name, h.seq(),
            handOverFailures, backoff, h.error());
        timers.startSingleTimer(HandOverAgain.INSTANCE, HandOverAgain.INSTANCE, Duration.ofMillis(backoff));
      }
      return Effect().noReply();
    }
    handOverFailures = 0;
    handOverError = null;
    if (s.pending().stream().noneMatch(p -> p.seq() == h.seq())) {
      return Effect().noReply();
    }
    return Effect().persist(new LandingsQueued(List.of(h.seq()), System.currentTimeMillis())).thenNoReply();
  }

  private static long backoffMs(int failures, long maxMs) {
    return Math.min(maxMs, FIRST_BACKOFF.toMillis() << Math.min(failures - 1, 20));
  }

  private ReplyEffect<Event, State> onPush(State s, Push c) {
    if (!pushing.add(c.target())) {
      pushAgain.add(c.target()); // one more after the push under way, never two at once
      return Effect().noReply();
    }
    CompletableFuture<PushDone> f = CompletableFuture.supplyAsync(() -> {
      try {
        List<String> refused = git.push(c.target());
        return new PushDone(c.target(), refused.isEmpty() ? null : "refused: " + String.join("; ", refused));
      } catch (Exception e) {
        return new PushDone(c.target(), describe(e));
      }
    }, settings.blocking());
    ctx.pipeToSelf(f, (done, err) -> done != null ? done : new PushDone(c.target(), describe(err)));
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> onPushDone(State s, PushDone d) {
    pushing.remove(d.target());
    boolean again = pushAgain.remove(d.target());
    TargetStatus was = targets.get(d.target());
    long now = System.currentTimeMillis();
    if (d.error() == null) {
      targets.put(d.target(), new TargetStatus(d.target(), now, now, null));
      pushFailures.remove(d.target());
      if (again) {
        ctx.getSelf().tell(new Push(d.target()));
      }
    } else {
      // The retry below also pushes what was asked for meanwhile.
      int n = pushFailures.merge(d.target(), 1, Integer::sum);
      targets.put(d.target(), new TargetStatus(d.target(), was == null ? 0 : was.lastSuccessMs(), now, d.error()));
      long backoff = backoffMs(n, MAX_BACKOFF.toMillis());
      ctx.getLog().warn("Repo mirror [{}]: push to [{}] failed ({} in a row), again in {} ms: {}", name, redact(d.target()), n, backoff,
          d.error());
      timers.startSingleTimer("push-" + d.target(), new Push(d.target()), Duration.ofMillis(backoff));
    }
    return Effect().noReply();
  }

  private Status status(State s) {
    Map<String, String> branches = new LinkedHashMap<>();
    if (spec != null) {
      spec.branches().forEach(b -> branches.put(b, s.refs().getOrDefault("refs/heads/" + b, "")));
    }
    List<TargetStatus> shown = targets.values().stream()
        .map(t -> new TargetStatus(redact(t.url()), t.lastSuccessMs(), t.lastAttemptMs(), t.lastError())).toList();
    return new Status(name, spec == null ? "" : redact(spec.url()), branches, s.refs().size(), lastFetchMs, lastFetchOkMs,
        lastError, failures, fetching, s.landedCommits(), s.pending().size(), s.pending().isEmpty() ? 0 : s.pending().get(0).atMs(),
        handOverError, shown, settings.node());
  }

  /** A URL without the password it may carry ({@code https://user:token@host/...}). */
  static String redact(String url) {
    return url.replaceAll("([a-z+]+://)[^/@\\s]*@", "$1***@");
  }

  private static String describe(Throwable t) {
    Throwable c = t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
    String msg = c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
    return redact(msg);
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(State::apply);
  }
}
