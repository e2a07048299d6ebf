package dev.grange.mirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.cbor.CBORFactory;
import com.typesafe.config.ConfigFactory;
import dev.grange.mirror.RepoMirrorEvents.CommitsLanded;
import dev.grange.mirror.RepoMirrorEvents.LandingsQueued;
import dev.grange.mirror.RepoMirrorEvents.State;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.serialization.jackson.JacksonObjectMapperProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A journal and snapshots written before landings were acknowledged still replay: their landings
 * count and are not sent again (they were handed over then); new landings are pending until acked.
 */
class RepoMirrorEventsTest {
  private static ActorTestKit kit;
  private static ObjectMapper cbor;
  private static final GitMirror.LandedCommit C = new GitMirror.LandedCommit("a".repeat(40), 1000, "Ada <ada@example.com>", "one");

  @BeforeAll
  static void start() {
    kit = ActorTestKit.create(ConfigFactory.parseString(
        "pekko.actor.serialization-bindings { \"dev.grange.protocol.CborSerializable\" = jackson-cbor }"));
    cbor = JacksonObjectMapperProvider.get(kit.system()).getOrCreate("jackson-cbor", Optional.of(new CBORFactory()));
  }

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  @Test
  void anOldJournalsLandingCountsAndIsNotPending() throws Exception {
    byte[] old = cbor.writeValueAsBytes(Map.of("branch", "main", "commits", List.of(C), "atMs", 5));
    CommitsLanded l = cbor.readValue(old, CommitsLanded.class);
    assertFalse(l.awaitsAck());
    State s = State.empty().apply(l);
    assertEquals(1, s.landedCommits());
    assertTrue(s.pending().isEmpty(), "handed over under the old journal: not sent again");
  }

  @Test
  void anOldSnapshotReadsWithNothingPending() throws Exception {
    byte[] old = cbor.writeValueAsBytes(Map.of("refs", Map.of("refs/heads/main", C.sha()), "landedCommits", 7));
    State s = cbor.readValue(old, State.class);
    assertEquals(7, s.landedCommits());
    assertTrue(s.pending().isEmpty());
    State next = s.apply(new CommitsLanded("main", List.of(C), 9, true));
    assertEquals(1, next.pending().size());
    assertEquals(8, next.landedCommits());
  }

  @Test
  void aLandingIsPendingUntilItsAckAndOnlyItsOwn() {
    State s = State.empty()
        .apply(new CommitsLanded("main", List.of(C), 1, true))
        .apply(new CommitsLanded("release", List.of(C), 2, true));
    assertEquals(List.of(1L, 2L), s.pending().stream().map(RepoMirrorEvents.Pending::seq).toList());
    s = s.apply(new LandingsQueued(List.of(2L), 3));
    assertEquals(List.of("main"), s.pending().stream().map(RepoMirrorEvents.Pending::branch).toList());
    assertEquals(1, s.pending().get(0).atMs(), "the oldest still pending, with when it landed");
  }
}
