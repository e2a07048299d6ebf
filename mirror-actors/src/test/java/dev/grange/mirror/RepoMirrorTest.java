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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Predicate;
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
 * from upstream and lands nothing twice. Over ssh (a real SSH server on loopback) it fetches and
 * pushes with the configured key, and refuses a host whose key is not in its known_hosts file.
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
    return mirror(spec, mirrors, landed, GitSsh.NONE);
  }

  private EventSourcedBehaviorTestKit<RepoMirror.Command, RepoMirrorEvents.Event, RepoMirrorEvents.State> mirror(
      RepoSpec spec, Path mirrors, TestProbe<Landed> landed, GitSsh ssh) {
    PostSubmit ps = (repo, branch, commits) -> landed.ref().tell(new Landed(repo, branch, commits));
    return EventSourcedBehaviorTestKit.create(kit.system(),
        RepoMirror.create(spec.name(), spec, settings(mirrors, ssh), ps),
        EventSourcedBehaviorTestKit.enabledSerializationSettings());
  }

  private RepoMirror.Settings settings(Path mirrors) {
    return settings(mirrors, GitSsh.NONE);
  }

  private RepoMirror.Settings settings(Path mirrors, GitSsh ssh) {
    return new RepoMirror.Settings(mirrors, blocking, 30, ssh, here, "http://127.0.0.1:8080");
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
  void aBranchDeletedUpstreamIsDeletedInTheMirrorAndTargetsGetEverything() throws Exception {
    try (Upstream up = new Upstream(tmp.resolve("up"))) {
      String main = up.commit("one");
      up.branch("feature");
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

      up.deleteBranch("feature");
      m.runCommand(new RepoMirror.Fetch("webhook"));
      awaitStatus(m, x -> x.refs() == 1);
      assertFalse(new GitMirror(tmp.resolve("mirrors/pushy.git"), 30).refs().containsKey("refs/heads/feature"));
    }
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
      PostSubmit ps = (repo, branch, commits) -> landed.ref().tell(new Landed(repo, branch, commits));
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
