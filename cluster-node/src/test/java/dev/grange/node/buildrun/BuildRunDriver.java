package dev.grange.node.buildrun;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grange.node.buildlet.Buildlet;
import dev.grange.node.buildlet.BuildletSession;
import dev.grange.node.buildlet.ExecEvent;
import dev.grange.node.schedule.HostPool;
import dev.grange.node.testing.EntityTests;
import dev.grange.node.testing.TestPeers;
import dev.grange.protocol.model.StepSpec;
import dev.grange.protocol.schedule.PriorityClass;
import dev.grange.protocol.wire.ExitStates;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;

/**
 * One {@link BuildRun} under test and the probes around it (host pool, buildlets, their
 * sessions, the shard), with the moves a test makes: start it, hand it a buildlet, answer what
 * its attempt runner asks of the session. A build has two steps, {@code make} then {@code test}.
 */
final class BuildRunDriver {
  static final String HOST_TYPE = "linux-amd64";
  private static final AtomicInteger BUILDS = new AtomicInteger();

  final String buildId = "build" + BUILDS.incrementAndGet();
  final BuildSpec spec = spec(buildId);
  final TestPeers peers;
  final TestProbe<ClusterSharding.ShardCommand> shard;
  final EventSourcedBehaviorTestKit<BuildRun.Command, BuildRunEvents.Event, BuildRunState> kit;
  private final ActorTestKit testKit;
  /** What the log store says when the build asks whether a step has stored output. */
  final java.util.concurrent.atomic.AtomicBoolean outputStored = new java.util.concurrent.atomic.AtomicBoolean();
  /** How long a build waits for a buildlet that lost its session to come back. */
  static final Duration RESUME_WAIT = Duration.ofSeconds(2);

  BuildRunDriver(ActorTestKit testKit, int maxRetries, Duration passivateAfter) {
    this.testKit = testKit;
    this.peers = new TestPeers(testKit);
    this.shard = testKit.createTestProbe();
    this.kit = EntityTests.entity(testKit, BuildRun.create(buildId, peers, shard.ref(), maxRetries, passivateAfter,
        new BuildRun.Resumption(
            (b, a, st) -> java.util.concurrent.CompletableFuture.completedFuture(outputStored.get()), RESUME_WAIT, Duration.ofMillis(50))));
  }

  static BuildSpec spec(String buildId) {
    return new BuildSpec(buildId, "linux-amd64-test", HOST_TYPE,
        List.of(step("make"), step("test")), "https://example.com/repo.git",
        "0123456789abcdef0123456789abcdef01234567", "master", 1_700_000_000_000L, "Fix the frobnicator",
        "master", PriorityClass.TRY, "alice", 1_700_000_100_000L);
  }

  private static StepSpec step(String name) {
    return new StepSpec(name, "./" + name + ".bash", List.of("-v"), List.of("GOFLAGS=-count=1"), ".", 60_000, false);
  }

  /** Starts the build and returns what it asked its host pool for. */
  HostPool.Acquire start() {
    var r = kit.<StatusReply<Done>>runCommand(rt -> new BuildRun.Start(spec, rt));
    assertTrue(r.reply().isSuccess(), () -> "start refused: " + r.reply());
    assertEquals(new BuildRunEvents.BuildQueued(spec), r.event());
    return acquired();
  }

  /** The host pool hands the build a buildlet; returns the session its attempt talks to. */
  TestProbe<BuildletSession.Command> assign(String agentId) {
    TestProbe<BuildletSession.Command> session = testKit.createTestProbe();
    var r = kit.runCommand(new BuildRun.BuildletAssigned(granted(agentId, session)));
    assertEquals(BuildRunEvents.AttemptStarted.class, r.event().getClass());
    return session;
  }

  static Buildlet.Granted granted(String agentId, TestProbe<BuildletSession.Command> session) {
    return new Buildlet.Granted(agentId, "host-" + agentId, "pekko://node", session.ref());
  }

  BuildletSession.PutSource sourceAsked(TestProbe<BuildletSession.Command> session) {
    return next(session, BuildletSession.PutSource.class);
  }

  /** The next command the build sent this session, passing over acks and forgets. */
  <T extends BuildletSession.Command> T next(TestProbe<BuildletSession.Command> session, Class<T> type) {
    return peers.expectSkipping(session, type, BuildletSession.Forget.class, BuildletSession.AckOutput.class);
  }

  /** Ships the source (the session says done) and returns the first step's exec. */
  BuildletSession.Exec shipSource(TestProbe<BuildletSession.Command> session) {
    sourceAsked(session).replyTo().tell(StatusReply.success(new BuildletSession.SourcePut(BuildletSession.SourcePut.PUSHED, 1, 10)));
    return exec(session);
  }

  BuildletSession.Exec exec(TestProbe<BuildletSession.Command> session) {
    return next(session, BuildletSession.Exec.class);
  }

  static void exit(BuildletSession.Exec e, String state, int exitCode) {
    e.listener().tell(new ExecEvent.Exited(e.spec().execId(), state, exitCode, 1_234, 42));
  }

  static void lose(BuildletSession.Exec e, String cause) {
    e.listener().tell(new ExecEvent.Lost(e.spec().execId(), cause, 0));
  }

  /** Ships the source and runs every step to a clean exit. */
  void runAllStepsOk(TestProbe<BuildletSession.Command> session) {
    BuildletSession.Exec e = shipSource(session);
    for (int step = 0; step < spec.steps().size(); step++) {
      if (step > 0) {
        e = exec(session);
      }
      assertEquals(step, e.step());
      exit(e, ExitStates.OK, 0);
    }
  }

  /** The infrastructure failure the build reported to this buildlet (before it released it). */
  Buildlet.RecordInfraFailure failureReported(String agentId) {
    Buildlet.RecordInfraFailure r = peers.expect(peers.buildletProbe(agentId), Buildlet.RecordInfraFailure.class);
    assertEquals(buildId, r.buildId());
    return r;
  }

  /** The release the build sent this buildlet. */
  Buildlet.Release released(String agentId) {
    Buildlet.Release r = peers.expect(peers.buildletProbe(agentId), Buildlet.Release.class);
    assertEquals(buildId, r.buildId());
    return r;
  }

  /** The next request for a buildlet the build sent its host pool. */
  HostPool.Acquire acquired() {
    return peers.expect(peers.pool(HOST_TYPE), HostPool.Acquire.class);
  }

  BuildRunState state() {
    return kit.getState();
  }

  StatusReply<Done> cancel() {
    return kit.<StatusReply<Done>>runCommand(BuildRun.Cancel::new).reply();
  }

  void assertJournalRoundTrips() {
    EntityTests.assertJournalRoundTrips(testKit, kit, "BuildRun|" + buildId);
  }
}
