package dev.grange.node.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.cql.Row;
import dev.grange.node.testing.SharedCassandra;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link EmbeddedCassandra} against a real Cassandra 5.0 (the shared one of this test JVM): CQL
 * works, data survives a stop and restart, bad starts are refused with messages a user can act on,
 * and pekko-persistence-cassandra journals to it and recovers from it.
 */
class EmbeddedCassandraIT {

  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  @TempDir Path tempDir;

  @Test
  void rowWrittenBeforeStopIsReadAfterRestart() throws IOException {
    EmbeddedCassandra cassandra = SharedCassandra.get();
    String ks = SharedCassandra.uniqueKeyspace("restart");
    try (CqlSession session = connect(cassandra)) {
      session.execute(
          "CREATE KEYSPACE "
              + ks
              + " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
      session.execute("CREATE TABLE " + ks + ".builds (id text PRIMARY KEY, result text)");
      session.execute("INSERT INTO " + ks + ".builds (id, result) VALUES (?, ?)", "b1", "passed");
      assertEquals("passed", resultOf(session, ks, "b1"));
    }

    long firstPid = cassandra.pid();
    cassandra.stop();
    assertFalse(cassandra.isRunning(), "stopped Cassandra still runs");

    cassandra.restart();
    assertTrue(cassandra.isRunning());
    assertNotEquals(firstPid, cassandra.pid(), "restart must start a new process");
    try (CqlSession session = connect(cassandra)) {
      assertEquals("passed", resultOf(session, ks, "b1"), "row lost across stop and restart");
    }
  }

  @Test
  void secondServerOnTakenCqlPortIsRefused() {
    EmbeddedCassandra shared = SharedCassandra.get();
    int freeStoragePort = FreePorts.loopback(1)[0];
    EmbeddedCassandra.Settings settings =
        EmbeddedCassandra.Settings.defaults(tempDir.resolve("second"))
            .withPorts(shared.cqlPort(), freeStoragePort);

    IOException refused = assertThrows(IOException.class, () -> EmbeddedCassandra.start(settings));

    assertTrue(
        refused.getMessage().contains("port " + shared.cqlPort()),
        "message should name the taken port: " + refused.getMessage());
    assertTrue(shared.isRunning(), "the refused start must leave the running server alone");
  }

  @Test
  void missingClasspathFileSaysHowToBuildIt() {
    Path missing = tempDir.resolve("nowhere").resolve("cassandra.classpath");
    int[] ports = FreePorts.loopback(2);
    EmbeddedCassandra.Settings settings =
        EmbeddedCassandra.Settings.defaults(tempDir.resolve("nocp"))
            .withPorts(ports[0], ports[1])
            .withClasspathFile(missing);

    IOException refused = assertThrows(IOException.class, () -> EmbeddedCassandra.start(settings));

    assertTrue(
        refused.getMessage().contains(missing.toString()),
        "message should name the file: " + refused.getMessage());
    assertTrue(
        refused.getMessage().contains("mvn -B -DskipTests install"),
        "message should say how to build the file: " + refused.getMessage());
    assertFalse(Files.exists(tempDir.resolve("nocp")), "nothing should be written or started");
  }

  @Test
  void eventSourcedEntityRecoversItsEventsFromCassandra() {
    String ks = SharedCassandra.uniqueKeyspace("persistence");
    var config = SharedCassandra.pekkoConfig(ks).withFallback(ActorTestKit.applicationTestConfig());

    ActorTestKit writer = ActorTestKit.create("EmbeddedCassandraItWriter", config);
    try {
      TestProbe<Done> done = writer.createTestProbe();
      TestProbe<List<String>> items = writer.createTestProbe();
      ActorRef<Basket.Command> basket = writer.spawn(Basket.create("basket-1"));
      // The first write creates the keyspace and tables: give it time on a busy machine.
      basket.tell(new Basket.Add("go1.22", done.getRef()));
      done.expectMessage(SharedCassandra.FIRST_CALL_TIMEOUT, Done.getInstance());
      basket.tell(new Basket.Add("go1.23", done.getRef()));
      done.expectMessage(TIMEOUT, Done.getInstance());
      basket.tell(new Basket.Add("tip", done.getRef()));
      done.expectMessage(TIMEOUT, Done.getInstance());
      writer.stop(basket);

      ActorRef<Basket.Command> again = writer.spawn(Basket.create("basket-1"));
      again.tell(new Basket.Get(items.getRef()));
      items.expectMessage(TIMEOUT, List.of("go1.22", "go1.23", "tip"));
    } finally {
      writer.shutdownTestKit();
    }

    // A new actor system has no state in memory: what it recovers came from Cassandra.
    ActorTestKit reader = ActorTestKit.create("EmbeddedCassandraItReader", config);
    try {
      TestProbe<List<String>> items = reader.createTestProbe();
      reader.spawn(Basket.create("basket-1")).tell(new Basket.Get(items.getRef()));
      items.expectMessage(SharedCassandra.FIRST_CALL_TIMEOUT, List.of("go1.22", "go1.23", "tip"));
    } finally {
      reader.shutdownTestKit();
    }
  }

  private static CqlSession connect(EmbeddedCassandra cassandra) {
    return CqlSession.builder()
        .addContactPoint(new InetSocketAddress("127.0.0.1", cassandra.cqlPort()))
        .withLocalDatacenter("datacenter1")
        .withConfigLoader(
            DriverConfigLoader.programmaticBuilder()
                .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, TIMEOUT)
                .build())
        .build();
  }

  private static String resultOf(CqlSession session, String ks, String id) {
    Row row = session.execute("SELECT result FROM " + ks + ".builds WHERE id = ?", id).one();
    return row == null ? null : row.getString("result");
  }

  /** A tiny event-sourced entity: a list of items, one String event per item added. */
  static final class Basket extends EventSourcedBehavior<Basket.Command, String, List<String>> {

    sealed interface Command {}

    record Add(String item, ActorRef<Done> replyTo) implements Command {}

    record Get(ActorRef<List<String>> replyTo) implements Command {}

    static Behavior<Command> create(String id) {
      return new Basket(PersistenceId.ofUniqueId(id));
    }

    private Basket(PersistenceId persistenceId) {
      super(persistenceId);
    }

    @Override
    public List<String> emptyState() {
      return List.of();
    }

    @Override
    public CommandHandler<Command, String, List<String>> commandHandler() {
      return newCommandHandlerBuilder()
          .forAnyState()
          .onCommand(
              Add.class,
              add ->
                  Effect()
                      .persist(add.item())
                      .thenReply(add.replyTo(), state -> Done.getInstance()))
          .onCommand(Get.class, (state, get) -> Effect().reply(get.replyTo(), state))
          .build();
    }

    @Override
    public EventHandler<List<String>, String> eventHandler() {
      return newEventHandlerBuilder()
          .forAnyState()
          .onAnyEvent(
              (state, item) -> {
                List<String> next = new ArrayList<>(state);
                next.add(item);
                return List.copyOf(next);
              });
    }
  }
}
