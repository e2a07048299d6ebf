package dev.grange.node.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigUtil;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;

/**
 * What the entity unit tests share: the config of their {@link ActorTestKit} (the in-memory
 * journal and snapshot store of {@link EventSourcedBehaviorTestKit}, the node's own jackson-cbor
 * bindings, no cluster), deadlines generous enough for a loaded 2-core machine, and the checks
 * that what an entity persists survives jackson-cbor the way Cassandra will store it.
 */
public final class EntityTests {
  /** How long a test waits for something that should happen: long, as it only costs time when a test fails. */
  public static final Duration DEADLINE = Duration.ofSeconds(30);

  private static final String CBOR_BINDING =
      ConfigUtil.joinPath("pekko", "actor", "serialization-bindings", "dev.grange.protocol.CborSerializable");

  private EntityTests() {}

  /** A test kit for one test class (kept for the class: {@code @TestInstance(PER_CLASS)}). */
  public static ActorTestKit testKit() {
    return new JUnit5TestKitBuilder().withCustomConfig(config()).build();
  }

  /** {@link EventSourcedBehaviorTestKit#config()}, cluster-node's serialization bindings, a local provider. */
  public static Config config() {
    Config bindings = ConfigFactory.defaultReference().withOnlyPath("pekko.actor.serialization-bindings");
    if (!bindings.hasPath(CBOR_BINDING) || !bindings.getString(CBOR_BINDING).equals("jackson-cbor")) {
      throw new IllegalStateException("cluster-node's reference.conf no longer binds CborSerializable to jackson-cbor");
    }
    return ConfigFactory.parseString(
            "pekko.actor.provider = local\n"
                + "pekko.actor.testkit.typed.single-expect-default = " + DEADLINE.toSeconds() + "s\n"
                + "pekko.actor.testkit.typed.default-timeout = " + DEADLINE.toSeconds() + "s\n"
                + "pekko.persistence.testkit.events.assert-timeout = " + DEADLINE.toSeconds() + "s\n"
                + "pekko.persistence.testkit.snapshots.assert-timeout = " + DEADLINE.toSeconds() + "s\n")
        .withFallback(EventSourcedBehaviorTestKit.config())
        .withFallback(bindings);
  }

  /** Serialization checks on: every command, event and state is round-tripped through jackson-cbor. */
  public static <C, E, S> EventSourcedBehaviorTestKit<C, E, S> entity(
      ActorTestKit kit, org.apache.pekko.actor.typed.Behavior<C> behavior) {
    return EventSourcedBehaviorTestKit.create(kit.system(), behavior, EventSourcedBehaviorTestKit.enabledSerializationSettings());
  }

  /**
   * Every event in an entity's journal survives jackson-cbor: the kit checks the events of the
   * commands a test runs, not those an entity persists on its own messages (timers, asks, children).
   */
  public static void assertJournalRoundTrips(ActorTestKit kit, EventSourcedBehaviorTestKit<?, ?, ?> entity, String persistenceId) {
    for (Object e : entity.persistenceTestKit().persistedInStorage(persistenceId)) {
      kit.serializationTestKit().verifySerialization(e, true);
    }
  }

  /** A refusal, and one whose message has all these words in it (what a user reads to act on it). */
  public static String assertRefused(StatusReply<?> reply, String... words) {
    assertTrue(reply.isError(), () -> "expected a refusal, got " + reply);
    String message = reply.getError().getMessage();
    for (String w : words) {
      assertTrue(message.contains(w), () -> "the refusal \"" + message + "\" should mention \"" + w + "\"");
    }
    return message;
  }

  /**
   * Reads a probe's messages up to the first one that matches, and returns that one: for peers
   * that may get other messages first (a buildlet re-announces itself on a timer).
   */
  public static <M> M receiveUntil(TestProbe<M> probe, Predicate<M> wanted) {
    List<M> kept = probe.fishForMessage(DEADLINE, m -> wanted.test(m) ? FishingOutcomes.complete() : FishingOutcomes.continueAndIgnore());
    return kept.get(kept.size() - 1);
  }
}
