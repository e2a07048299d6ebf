package dev.grange.node.store;

import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSession;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSessionRegistry;

/**
 * Build logs in their own Cassandra table, keyed by (build, attempt, step, offset), written as output
 * streams in and never into events (DESIGN.md section 5). A chunk is written at the offset the
 * agent gave it, so writing the same chunk twice (after a resume) stores it once, and a reader
 * can start at any offset.
 */
public final class LogStore {
  /** One stored piece of a step's output. {@code kind} is 1 for stdout, 2 for stderr. */
  public record LogChunk(long offset, int kind, byte[] data) {
    public long end() {
      return offset + data.length;
    }
  }

  private final CassandraSession session;
  private final String keyspace;
  private final CompletionStage<PreparedStatement> insert;
  private final CompletionStage<PreparedStatement> select;

  private LogStore(CassandraSession session, String keyspace) {
    this.session = session;
    this.keyspace = keyspace;
    this.insert =
        session.prepare(
            "INSERT INTO " + keyspace + ".build_logs (build_id, attempt, step, offset, kind, data) VALUES (?, ?, ?, ?, ?, ?)");
    this.select =
        session.prepare(
            "SELECT offset, kind, data FROM " + keyspace
                + ".build_logs WHERE build_id = ? AND attempt = ? AND step = ? AND offset >= ? LIMIT ?");
  }

  /**
   * The store on the Cassandra session the persistence plugin uses. {@code createTable}: create
   * the table if missing (the embedded default and tests; production runs ddl/ first).
   */
  public static LogStore create(ActorSystem<?> system, String keyspace, boolean createTable) {
    CassandraSession session =
        CassandraSessionRegistry.get(system).sessionFor("pekko.persistence.cassandra");
    if (createTable) {
      createSchema(system, session, keyspace);
    }
    return new LogStore(session, keyspace);
  }

  /**
   * Creates the keyspace, the persistence plugin's journal and snapshot tables and the log table,
   * and waits for them: the plugin creates its own lazily, and an entity that recovers before the
   * snapshot table exists fails.
   */
  private static void createSchema(ActorSystem<?> system, CassandraSession session, String keyspace) {
    org.apache.pekko.persistence.cassandra.KeyspaceAndTableStatements s =
        new org.apache.pekko.persistence.cassandra.KeyspaceAndTableStatements(
            system,
            "pekko.persistence.cassandra",
            org.apache.pekko.persistence.cassandra.PluginSettings.apply(
                system.classicSystem(), system.settings().config().getConfig("pekko.persistence.cassandra")));
    List<String> all = new ArrayList<>();
    all.add("CREATE KEYSPACE IF NOT EXISTS " + keyspace
        + " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
    all.add(s.createJournalKeyspaceStatement());
    all.addAll(s.getCreateJournalTablesStatements());
    all.add(s.createSnapshotKeyspaceStatement());
    all.addAll(s.getCreateSnapshotTablesStatements());
    all.add(tableDdl(keyspace));
    for (String cql : all) {
      session.executeDDL(cql).toCompletableFuture().join();
    }
  }

  /** The CQL of the log table (also in cluster-node/ddl/). */
  public static String tableDdl(String keyspace) {
    return "CREATE TABLE IF NOT EXISTS " + keyspace + ".build_logs ("
        + "build_id text, attempt int, step int, offset bigint, kind tinyint, data blob, "
        + "PRIMARY KEY ((build_id, attempt, step), offset))";
  }

  /** Stores one chunk of a step's output at its offset. */
  public CompletionStage<Done> append(String buildId, int attempt, int step, long offset, int kind, byte[] data) {
    return insert.thenCompose(
        ps -> {
          BoundStatement b =
              ps.bind(buildId, attempt, step, offset, (byte) kind, ByteBuffer.wrap(data));
          return session.executeWrite(b);
        });
  }

  /**
   * Up to {@code limit} chunks of a step's output that end after {@code from}, in offset order;
   * the first one may start before {@code from} (the caller trims it).
   */
  public CompletionStage<List<LogChunk>> read(String buildId, int attempt, int step, long from, int limit) {
    // A chunk that starts before `from` may cover it: look one chunk-size back.
    long start = Math.max(0, from - dev.grange.protocol.wire.Limits.MAX_PAYLOAD_BYTES);
    return select
        .thenCompose(ps -> session.selectAll(ps.bind(buildId, attempt, step, start, limit + 1)))
        .thenApply(
            rows -> {
              List<LogChunk> out = new ArrayList<>();
              for (Row r : rows) {
                ByteBuffer bb = r.getByteBuffer("data");
                byte[] data = new byte[bb == null ? 0 : bb.remaining()];
                if (bb != null) {
                  bb.get(data);
                }
                LogChunk c = new LogChunk(r.getLong("offset"), r.getByte("kind"), data);
                if (c.end() > from && out.size() < limit) {
                  out.add(c);
                }
              }
              return out;
            });
  }

  public String keyspace() {
    return keyspace;
  }
}
