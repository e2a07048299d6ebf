package dev.grange.mirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.grange.mirror.testing.GitSshServer;
import dev.grange.protocol.model.RepoSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A mirror of a real upstream repository on disk: the first fetch backfills a built branch newest
 * first, a new commit lands alone, a branch deleted upstream is deleted in the mirror, the mirror
 * pushes to its target, and an upstream that cannot be reached is shown and retried without
 * landing anything. A mirror that starts where its directory is gone (another node) rebuilds it
 * from upstream and lands nothing twice. A landing post-submit did not take is handed over again
 * (with backoff, and after a restart) until it does. Push targets lose what upstream deleted,
 * failing ones are retried with backoff, and a target never has two pushes at once. Over ssh (a
 * real SSH server on loopback) it fetches and pushes with the configured key, and refuses a host
 * whose key is not in its known_hosts file.
 */
class RepoMirrorTest {
  private static final Duration DEADLINE = Duration.ofSeconds(30);
  private static ActorTestKit kit;
  private static ExecutorService blocking;

  @TempDir Path tmp;
  private final MirrorsHere here = new MirrorsHere();

  record Landed(String repo, String branch, List<GitMirror.LandedCommit> commits) {}

  @BeforeAll
  static void start() {
    kit = ActorTestKit.create(ConfigFactory.parseString("""
            pekko.actor.serialization-bindings { "dev.grange.protocol.CborSerializable" = jackson-cbor }
            pekko.actor.testkit.typed.single-expect-default = 30s
            """)
        .withFallback(EventSourcedBehaviorTestKit.config()));
    blocking = Executors.newFixedThreadPool(2);
  }

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
    blocking.shutdownNow();
  }

  private EventSourcedBehaviorTestKit<RepoMirror.Command, RepoMirrorEvents.Event, RepoMirrorEvents.State> mirror(
      RepoSpec spec, Path mirrors, TestProbe<Landed> landed) {
    return mirror(spec, settings(mirrors), takes(landed, () -> CompletableFuture.completedFuture(null)));
  }

  private EventSourcedBehaviorTestKit<RepoMirror.Command, RepoMirrorEvents.Event, RepoMirrorEvents.State> mirror(
      RepoSpec spec, Path mirrors, TestProbe<Landed> landed, GitSsh ssh) {
    return mirror(spec, settings(mirrors, blocking, ssh), takes(landed, () -> CompletableFuture.completedFuture(null)));
  }

  private static EventSourcedBehaviorTestKit<RepoMirror.Command, RepoMirrorEvents.Event, RepoMirrorEvents.State> mirror(
      RepoSpec spec, RepoMirror.Settings settings, PostSubmit ps) {
    return EventSourcedBehaviorTestKit.create(kit.system(), RepoMirror.create(spec.name(), spec, settings, ps),
        EventSourcedBehaviorTestKit.enabledSerializationSettings());
  }

  /** A post-submit that tells {@code landed} of each hand-over and answers it with {@code answer}. */
  private static PostSubmit takes(TestProbe<Landed> landed, Supplier<CompletableFuture<Void>> answer) {
    return (repo, branch, commits) -> {
      landed.ref().tell(new Landed(repo, branch, commits));
      return answer.get();
    };
  }

  private RepoMirror.Settings settings(Path mirrors) {
    return settings(mirrors, blocking, GitSsh.NONE);
  }

  private RepoMirror.Settings settings(Path mirrors, Executor executor) {
    return settings(mirrors, executor, GitSsh.NONE);
  }

  private RepoMirror.Settings settings(Path mirrors, Executor executor, GitSsh ssh) {
    return new RepoMirror.Settings(mirrors, executor, 30, ssh, here, "http://127.0.0.1:8080");
  }

  private static RepoSpec spec(String name, String url, List<String> push, int backfill) {
    return new RepoSpec(name, url, List.of("main"), push, 3_600_000, "", backfill);
  }

  private static RepoMirror.Status awaitStatus(EventSourcedBehaviorTestKit<RepoMirror.Command, ?, ?> m, Predicate<RepoMirror.Status> until) {
    long end = System.nanoTime() + DEADLINE.toNanos();
    RepoMirror.Status s;
    do {
      TestProbe<RepoMirror.Status> p = kit.createTestProbe();
      m.runCommand(new RepoMirror.GetStatus(p.ref()));
      s = p.receiveMessage();
      if (until.test(s)) {
        return s;
      }
      p.expectNoMessage(Duration.ofMillis(50)); // the poll's pace, not a synchronisation
    } while (System.nanoTime() < end);
    throw new AssertionError("the mirror's status never held; last: " + s);
  }

  @Test
  void aBranchIsBackfilledNewestFirstThenEachNewCommitLandsOnce() throws Exception {
    try (Upstream up = new Upstream(tmp.resolve("up"))) {
      up.commit("one");
      String two = up.commit("two");
      String three = up.commit("three");
      TestProbe<Landed> landed = kit.createTestProbe();
      var m = mirror(spec("demo", up.url(), List.of(), 2), tmp.resolve("mirrors"), landed);

      Landed first = landed.receiveMessage();
      assertEquals("demo", first.repo());
      assertEquals("main", first.branch());
      assertEquals(List.of(three, two), first.commits().stream().map(GitMirror.LandedCommit::sha).toList(), "backfill 2, newest first");
      assertEquals("three", first.commits().get(0).subject());
      assertEquals("Ada Lovelace <ada@example.com>", first.commits().get(0).author());
      assertTrue(Files.isDirectory(tmp.resolve("mirrors/demo.git/objects")), "a bare mirror under the mirrors dir");
      assertEquals(java.util.Optional.of(tmp.resolve("mirrors/demo.git")), here.dir("demo"), "served here once fetched");

      String four = up.commit("four");
      m.runCommand(new RepoMirror.Fetch("webhook"));
      Landed next = landed.receiveMessage();
      assertEquals(List.of(four), next.commits().stream().map(GitMirror.LandedCommit::sha).toList());

      m.runCommand(new RepoMirror.Fetch("poll"));
      RepoMirror.Status s = awaitStatus(m, x -> !x.fetching() && x.lastFetchOkMs() > 0);
      landed.expectNoMessage(Duration.ofMillis(300));
      assertEquals(four, s.branches().get("main"));
      assertEquals(3, s.landedCommits());

      // The entity starts on a node without its mirror on disk: it recovers the refs it saw from
      // its journal and rebuilds the mirror from upstream, landing nothing twice.
      deleteTree(tmp.resolve("mirrors/demo.git"));
      m.restart();
      m.runCommand(new RepoMirror.Fetch("start"));
      awaitStatus(m, x -> !x.fetching() && x.lastFetchOkMs() > 0 && x.refs() == 1);
      assertTrue(Files.isDirectory(tmp.resolve("mirrors/demo.git/objects")), "rebuilt from upstream");
      assertEquals(four, new GitMirror(tmp.resolve("mirrors/demo.git"), 30).refs().get("refs/heads/main"));
      landed.expectNoMessage(Duration.ofMillis(300)); // nothing lands twice
    }
  }

  private static void deleteTree(Path p) throws java.io.IOException {
    try (var walk = Files.walk(p)) {
      for (Path x : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(x);
      }
    }
  }

  @Test
  void aBranchOrTagDeletedUpstreamIsDeletedInTheMirrorAndInItsPushTargets() throws Exception {
    try (Upstream up = new Upstream(tmp.resolve("up"))) {
      String main = up.commit("one");
      up.branch("feature");
      up.tag("v1");
      Path target = tmp.resolve("target.git");
      try (var t = org.eclipse.jgit.api.Git.init().setBare(true).setDirectory(target.toFile()).call()) {
        // an empty bare repository to push to
      }
      TestProbe<Landed> landed = kit.createTestProbe();
      var m = mirror(spec("pushy", up.url(), List.of(target.toUri().toString()), 5), tmp.resolve("mirrors"), landed);
      landed.receiveMessage();
      RepoMirror.Status s = awaitStatus(m, x -> x.targets().get(0).lastSuccessMs() > 0);
      assertNull(s.targets().get(0).lastError());
      GitMirror pushed = new GitMirror(target, 30);
      assertEquals(main, pushed.refs().get("refs/heads/main"));
      assertTrue(pushed.refs().containsKey("refs/heads/feature"));
      assertTrue(pushed.refs().containsKey("refs/tags/v1"));
      // The target's own refs outside branches and tags are not the mirror's to delete.
      try (var t = org.eclipse.jgit.api.Git.open(target.toFile())) {
        var u = t.getRepository().updateRef("refs/changes/01/1/1");
        u.setNewObjectId(org.eclipse.jgit.lib.ObjectId.fromString(main));
        u.update();
      }
      long pushedAt = s.targets().get(0).lastSuccessMs();

      up.deleteBranch("feature");
      up.deleteTag("v1");
      m.runCommand(new RepoMirror.Fetch("webhook"));
      s = awaitStatus(m, x -> x.refs() == 1 && x.targets().get(0).lastSuccessMs() > pushedAt);
      assertNull(s.targets().get(0).lastError(), s.toString());
      assertFalse(new GitMirror(tmp.resolve("mirrors/pushy.git"), 30).refs().containsKey("refs/heads/feature"));
      assertEquals(java.util.Map.of("refs/heads/main", main), pushed.refs(), "the branch and the tag are gone from the target too");
      try (var t = org.eclipse.jgit.api.Git.open(target.toFile())) {
        assertEquals(main, t.getRepository().exactRef("refs/changes/01/1/1").getObjectId().name(), "left alone");
      }
    }
  }

  @Test
  void aFailingTargetShowsItsErrorAndIsRetriedWithBackoffUntilItWorks() throws Exception {
    try (Upstream up = new Upstream(tmp.resolve("up"))) {
      String main = up.commit("one");
      Path target = tmp.resolve("not-yet.git"); // nothing there: the push fails
      TestProbe<Landed> landed = kit.createTestProbe();
      var m = mirror(spec("retried", up.url(), List.of(target.toUri().toString()), 5), tmp.resolve("mirrors"), landed);
      RepoMirror.Status s = awaitStatus(m, x -> x.targets().get(0).lastError() != null);
      assertEquals(0, s.targets().get(0).lastSuccessMs());
      long first = s.targets().get(0).lastAttemptMs();
      // No fetch asks for them (the poll is an hour): these are the retries, 1 s then 2 s apart.
      long second = awaitStatus(m, x -> x.targets().get(0).lastAttemptMs() > first).targets().get(0).lastAttemptMs();
      long third = awaitStatus(m, x -> x.targets().get(0).lastAttemptMs() > second).targets().get(0).lastAttemptMs();
      assertTrue(second - first >= 900, "backoff, not a loop: " + (second - first) + " ms");
      assertTrue(third - second >= 1800, "the backoff doubles: " + (third - second) + " ms");

      try (var t = org.eclipse.jgit.api.Git.init().setBare(true).setDirectory(target.toFile()).call()) {
        // the target is there now
      }
      s = awaitStatus(m, x -> x.targets().get(0).lastSuccessMs() > 0);
      assertNull(s.targets().get(0).lastError(), "a push that works clears the error: " + s);
      assertEquals(main, new GitMirror(target, 30).refs().get("refs/heads/main"));
    }
  }

  @Test
  void twoPushTriggersWhileAPushRunsGiveOnePushAfterItNotTwoAtOnce() throws Exception {
    try (Upstream up = new Upstream(tmp.resolve("up"))) {
      up.commit("one");
      Path target = tmp.resolve("target.git");
      try (var t = org.eclipse.jgit.api.Git.init().setBare(true).setDirectory(target.toFile()).call()) {
        // an empty bare repository to push to
      }
      // The mirror's git work runs when the test says: a push "runs" from when it is queued until it is run.
      BlockingQueue<Runnable> work = new LinkedBlockingQueue<>();
      TestProbe<Landed> landed = kit.createTestProbe();
      var m = mirror(spec("serial", up.url(), List.of(target.toUri().toString()), 5), settings(tmp.resolve("mirrors"), work::add),
          takes(landed, () -> CompletableFuture.completedFuture(null)));
      next(work).run(); // the start's fetch
      landed.receiveMessage();
      Runnable firstPush = next(work);

      for (String subject : List.of("two", "three")) {
        up.commit(subject);
        m.runCommand(new RepoMirror.Fetch("webhook"));
        next(work).run(); // a fetch that moved main: a push trigger
        landed.receiveMessage();
        assertNull(work.poll(500, TimeUnit.MILLISECONDS), "no second push while the first runs");
      }

      firstPush.run();
      Runnable after = next(work);
      assertNull(work.poll(500, TimeUnit.MILLISECONDS), "two triggers, one push after the running one");
      after.run();
      String three = new GitMirror(tmp.resolve("mirrors/serial.git"), 30).refs().get("refs/heads/main");
      RepoMirror.Status s = awaitStatus(m, x -> x.targets().get(0).lastSuccessMs() > 0 && !x.fetching());
      assertNull(s.targets().get(0).lastError());
      assertEquals(three, new GitMirror(target, 30).refs().get("refs/heads/main"));
      assertNull(work.poll(300, TimeUnit.MILLISECONDS), "nothing more");
    }
  }

  private static Runnable next(BlockingQueue<Runnable> work) throws InterruptedException {
    Runnable r = work.poll(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    if (r == null) {
      throw new AssertionError("the mirror queued no git work within " + DEADLINE);
    }
    return r;
  }

  @Test
  void aLandingPostSubmitDidNotTakeIsHandedOverAgainAfterARestartAndThenAcked() throws Exception {
    try (Upstream up = new Upstream(tmp.resolve("up"))) {
      String one = up.commit("one");
      TestProbe<Landed> landed = kit.createTestProbe();
      // First the hand-over is never answered (the node died before the builds were queued).
      AtomicReference<CompletableFuture<Void>> answer = new AtomicReference<>(new CompletableFuture<>());
      var m = mirror(spec("acked", up.url(), List.of(), 5), settings(tmp.resolve("mirrors")), takes(landed, answer::get));
      assertEquals(List.of(one), shas(landed.receiveMessage()));
      RepoMirror.Status s = awaitStatus(m, x -> x.pendingLandings() == 1);
      assertTrue(s.oldestPendingMs() > 0, s.toString());
      assertEquals(1, m.getState().pending().size());

      answer.set(CompletableFuture.completedFuture(null));
      m.restart();
      assertEquals(List.of(one), shas(landed.receiveMessage()), "handed over again on recovery");
      s = awaitStatus(m, x -> x.pendingLandings() == 0);
      assertEquals(0, s.oldestPendingMs());
      assertEquals(1, s.landedCommits(), "landed once, handed over twice");

      m.restart();
      awaitStatus(m, x -> !x.fetching() && x.lastFetchOkMs() > 0);
      landed.expectNoMessage(Duration.ofMillis(300)); // acked: not handed over again
    }
  }

  @Test
  void aFailedHandOverIsRetriedWithBackoffWhileTheMirrorRunsUntilPostSubmitTakesIt() throws Exception {
    try (Upstream up = new Upstream(tmp.resolve("up"))) {
      String one = up.commit("one");
      TestProbe<Landed> landed = kit.createTestProbe();
      AtomicInteger calls = new AtomicInteger();
      var m = mirror(spec("retry", up.url(), List.of(), 5), settings(tmp.resolve("mirrors")),
          takes(landed, () -> calls.incrementAndGet() <= 2
              ? CompletableFuture.failedFuture(new IllegalStateException("build ps-1 not confirmed: sharding unavailable"))
              : CompletableFuture.completedFuture(null)));
      landed.receiveMessage();
      long t1 = System.nanoTime();
      RepoMirror.Status s = awaitStatus(m, x -> x.landingError() != null);
      assertTrue(s.landingError().contains("sharding unavailable"), s.toString());
      assertEquals(1, s.pendingLandings());
      assertEquals(List.of(one), shas(landed.receiveMessage()));
      long t2 = System.nanoTime();
      assertEquals(List.of(one), shas(landed.receiveMessage()));
      long t3 = System.nanoTime();
      assertTrue(Duration.ofNanos(t2 - t1).toMillis() >= 800, "backoff, not a loop");
      assertTrue(Duration.ofNanos(t3 - t2).toMillis() >= 1800, "the backoff doubles");
      s = awaitStatus(m, x -> x.pendingLandings() == 0);
      assertNull(s.landingError(), "taken: the error is gone");
      assertEquals(3, calls.get());
      assertTrue(m.getState().pending().isEmpty());
    }
  }

  private static List<String> shas(Landed l) {
    return l.commits().stream().map(GitMirror.LandedCommit::sha).toList();
  }

  @Test
  void anUnreachableUpstreamIsShownAndRetriedAndLandsNothing() throws Exception {
    TestProbe<Landed> landed = kit.createTestProbe();
    String url = "https://user:s3cret@127.0.0.1:1/nothing.git";
    var m = mirror(spec("gone", url, List.of(), 5), tmp.resolve("mirrors"), landed);
    RepoMirror.Status s = awaitStatus(m, x -> x.failuresInARow() >= 2);
    assertTrue(s.lastError() != null && !s.lastError().isBlank(), s.toString());
    assertFalse(s.toString().contains("s3cret"), "the password is never shown: " + s);
    assertEquals(0, s.lastFetchOkMs());
    assertEquals("http://127.0.0.1:8080", s.node());
    assertTrue(here.dir("gone").isEmpty(), "never fetched: not served from here");
    landed.expectNoMessage(Duration.ofMillis(200));
  }

  @Test
  void aMirrorIsServedFromThisNodeOnlyWhileItsEntityRunsHere() throws Exception {
    try (Upstream up = new Upstream(tmp.resolve("up"))) {
      up.commit("one");
      TestProbe<Landed> landed = kit.createTestProbe();
      PostSubmit ps = takes(landed, () -> CompletableFuture.completedFuture(null));
      var ref = kit.spawn(RepoMirror.create("moving", spec("moving", up.url(), List.of(), 1), settings(tmp.resolve("mirrors")), ps));
      landed.receiveMessage();
      assertEquals(java.util.Optional.of(tmp.resolve("mirrors/moving.git")), here.dir("moving"));
      // Moved to another node (or this one stopping): its copy here is no longer the live one.
      kit.stop(ref);
      assertTrue(here.dir("moving").isEmpty(), "a stopped mirror is not served from here");
      assertTrue(Files.isDirectory(tmp.resolve("mirrors/moving.git/objects")), "its directory stays (the next start fetches into it)");
    }
  }

  @Test
  void anSshUpstreamIsMirroredAndItsSshTargetGetsEverything() throws Exception {
    try (Upstream up = new Upstream(tmp.resolve("git/up"));
        GitSshServer server = GitSshServer.start(tmp.resolve("git"), tmp.resolve("keys"));
        GitSsh ssh = GitSsh.of(server.identity(), server.knownHosts(), true)) {
      String one = up.commit("one");
      Path target = tmp.resolve("git/target.git");
      try (var t = org.eclipse.jgit.api.Git.init().setBare(true).setDirectory(target.toFile()).call()) {
        // an empty bare repository to push to
      }
      TestProbe<Landed> landed = kit.createTestProbe();
      var m = mirror(spec("sshy", server.url("up"), List.of(server.url("target.git")), 5), tmp.resolve("mirrors"), landed, ssh);
      assertEquals(List.of(one), landed.receiveMessage().commits().stream().map(GitMirror.LandedCommit::sha).toList());
      RepoMirror.Status s = awaitStatus(m, x -> x.targets().get(0).lastSuccessMs() > 0);
      assertNull(s.lastError());
      assertNull(s.targets().get(0).lastError());
      assertEquals(one, new GitMirror(target, 30).refs().get("refs/heads/main"), "pushed over ssh");

      String two = up.commit("two");
      m.runCommand(new RepoMirror.Fetch("webhook"));
      assertEquals(List.of(two), landed.receiveMessage().commits().stream().map(GitMirror.LandedCommit::sha).toList());
    }
  }

  @Test
  void anSshHostWhoseKeyIsNotInKnownHostsIsRefusedAndTheMirrorSaysSo() throws Exception {
    try (Upstream up = new Upstream(tmp.resolve("git/up"));
        GitSshServer server = GitSshServer.start(tmp.resolve("git"), tmp.resolve("keys"));
        GitSsh ssh = GitSsh.of(server.identity(), server.strangerKnownHosts(), true)) {
      up.commit("one");
      TestProbe<Landed> landed = kit.createTestProbe();
      var m = mirror(spec("spoofed", server.url("up"), List.of(), 5), tmp.resolve("mirrors"), landed, ssh);
      RepoMirror.Status s = awaitStatus(m, x -> x.failuresInARow() >= 1);
      assertTrue(s.lastError().contains("host key is not in the known_hosts file " + server.strangerKnownHosts().toAbsolutePath()),
          s.lastError());
      assertEquals(0, s.lastFetchOkMs());
      landed.expectNoMessage(Duration.ofMillis(200));

      Path empty = Files.writeString(tmp.resolve("keys/empty_known_hosts"), "");
      try (GitSsh unknown = GitSsh.of(server.identity(), empty, true)) {
        Exception e = org.junit.jupiter.api.Assertions.assertThrows(Exception.class,
            () -> new GitMirror(tmp.resolve("other.git"), 30, unknown).fetch(server.url("up")));
        assertTrue(e.getMessage().contains("host key is not in the known_hosts file"), e.getMessage());
      }
      Exception none = org.junit.jupiter.api.Assertions.assertThrows(Exception.class,
          () -> new GitMirror(tmp.resolve("none.git"), 30).fetch(server.url("up")));
      assertTrue(none.getMessage().contains("ssh is not configured on this node"), none.getMessage());
    }
  }
}
