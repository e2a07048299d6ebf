package dev.grange.node.store;

import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import dev.grange.protocol.wire.Limits;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSession;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSessionRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Build logs in their own Cassandra table, keyed by (build, attempt, step, offset), written as output
 * streams in and never into events (DESIGN.md section 5). A chunk is written at the offset the
 * agent gave it, so writing the same chunk twice (after a resume) stores it once, and a reader
 * can start at any offset.
 *
 * <p>After a resume from below what was stored, the same bytes may be written again with other
 * boundaries, so chunks overlap: {@link #read} assembles them ({@link LogAssembly}) and hands out
 * each byte once. {@link #append} rides out a store outage: it retries with backoff (100 ms
 * doubling to 2 s) until its write deadline ({@code grange.store.log-write-deadline}) and only
 * then fails; its caller grants the agent credit only for stored bytes, so memory stays bounded
 * while the agent spools on its disk.
 */
public final class LogStore {
  private static final Logger log = LoggerFactory.getLogger(LogStore.class);
  /** The write deadline when none is configured. */
  public static final Duration DEFAULT_WRITE_DEADLINE = Duration.ofMinutes(5);
  private static final Duration BACKOFF_MIN = Duration.ofMillis(100);
  private static final Duration BACKOFF_MAX = Duration.ofSeconds(2);

  /** One stored piece of a step's output. {@code kind} is 1 for stdout, 2 for stderr. */
  public record LogChunk(long offset, int kind, byte[] data) {
    public long end() {
      return offset + data.length;
    }
  }

  private final ActorSystem<?> system;
  private final CassandraSession session;
  private final String keyspace;
  private final Duration writeDeadline;
  private final Statement insert;
  private final Statement select;

  private LogStore(ActorSystem<?> system, CassandraSession session, String keyspace, Duration writeDeadline) {
    this.system = system;
    this.session = session;
    this.keyspace = keyspace;
    this.writeDeadline = writeDeadline;
    this.insert = new Statement(session,
        "INSERT INTO " + keyspace + ".build_logs (build_id, attempt, step, offset, kind, data) VALUES (?, ?, ?, ?, ?, ?)");
    this.select = new Statement(session,
        "SELECT offset, kind, data FROM " + keyspace
            + ".build_logs WHERE build_id = ? AND attempt = ? AND step = ? AND offset >= ? AND offset < ?");
  }

  /**
   * The store on the Cassandra session the persistence plugin uses, with the default write
   * deadline. {@code createTable}: create the table if missing (the embedded default and tests;
   * production runs ddl/ first).
   */
  public static LogStore create(ActorSystem<?> system, String keyspace, boolean createTable) {
    return create(system, keyspace, createTable, DEFAULT_WRITE_DEADLINE);
  }

  /** As {@link #create(ActorSystem, String, boolean)}, with how long an append may retry. */
  public static LogStore create(ActorSystem<?> system, String keyspace, boolean createTable, Duration writeDeadline) {
    if (writeDeadline.isNegative() || writeDeadline.isZero()) {
      throw new IllegalArgumentException("grange.store.log-write-deadline must be positive, got " + writeDeadline);
    }
    CassandraSession session =
        CassandraSessionRegistry.get(system).sessionFor("pekko.persistence.cassandra");
    if (createTable) {
      createSchema(system, session, keyspace);
    }
    return new LogStore(system, session, keyspace, writeDeadline);
  }

  /** The {@code grange.store.log-write-deadline} key. */
  public static Duration writeDeadline(com.typesafe.config.Config config) {
    Duration d = config.getDuration("grange.store.log-write-deadline");
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException("grange.store.log-write-deadline: must be a positive duration, got " + d);
    }
    return d;
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

  /**
   * Stores one chunk of a step's output at its offset. A failed write is tried again, 100 ms
   * doubling to 2 s apart, until the write deadline; the stage fails only after it (or at once for
   * a write the store refuses as invalid, which no retry mends).
   */
  public CompletionStage<Done> append(String buildId, int attempt, int step, long offset, int kind, byte[] data) {
    if (data.length > Limits.MAX_PAYLOAD_BYTES) {
      // Readers look back one payload size for a chunk that covers their offset.
      throw new IllegalArgumentException("a log chunk holds at most " + Limits.MAX_PAYLOAD_BYTES + " bytes, got " + data.length);
    }
    long deadline = System.nanoTime() + writeDeadline.toNanos();
    CompletableFuture<Done> result = new CompletableFuture<>();
    attemptWrite(buildId, attempt, step, offset, kind, data, deadline, BACKOFF_MIN, 1, result);
    return result;
  }

  private void attemptWrite(String buildId, int attempt, int step, long offset, int kind, byte[] data, long deadline,
      Duration backoff, int tries, CompletableFuture<Done> result) {
    insert.get()
        .thenCompose(ps -> session.executeWrite(ps.bind(buildId, attempt, step, offset, (byte) kind, ByteBuffer.wrap(data))))
        .whenComplete((done, err) -> {
          if (err == null) {
            if (tries > 1) {
              log.debug("Log chunk of [{}] step [{}] at [{}] stored after [{}] tries", buildId, step, offset, tries);
            }
            result.complete(Done.getInstance());
            return;
          }
          Throwable cause = unwrap(err);
          long left = deadline - System.nanoTime();
          if (!retryable(cause) || left <= 0) {
            if (retryable(cause)) {
              log.warn("Log chunk of [{}] step [{}] at [{}] not stored within [{}] ([{}] tries): {}",
                  buildId, step, offset, writeDeadline, tries, cause.toString());
            }
            result.completeExceptionally(new LogWriteException(
                "log chunk of build " + buildId + " step " + step + " at offset " + offset + " not stored after "
                    + tries + " tries within " + (writeDeadline.toMillis() < 1000 ? writeDeadline.toMillis() + " ms" : writeDeadline.toSeconds() + " s") + ": " + cause.getMessage(), cause));
            return;
          }
          Duration wait = Duration.ofNanos(Math.min(backoff.toNanos(), left));
          Duration nextBackoff = backoff.multipliedBy(2).compareTo(BACKOFF_MAX) > 0 ? BACKOFF_MAX : backoff.multipliedBy(2);
          system.scheduler().scheduleOnce(wait,
              () -> attemptWrite(buildId, attempt, step, offset, kind, data, deadline, nextBackoff, tries + 1, result),
              system.executionContext());
        });
  }

  /** An append that did not reach the store within its deadline. */
  public static final class LogWriteException extends RuntimeException {
    LogWriteException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** Invalid statements and schema errors stay wrong however often they are tried. */
  private static boolean retryable(Throwable t) {
    return !(t instanceof com.datastax.oss.driver.api.core.servererrors.InvalidQueryException
        || t instanceof com.datastax.oss.driver.api.core.servererrors.SyntaxError
        || t instanceof com.datastax.oss.driver.api.core.servererrors.UnauthorizedException
        || t instanceof IllegalArgumentException);
  }

  static Throwable unwrap(Throwable t) {
    while ((t instanceof java.util.concurrent.CompletionException || t instanceof java.util.concurrent.ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  /**
   * A step's output from {@code from} as non-overlapping chunks in offset order, at most
   * {@code maxBytes}: each stored byte once however the chunks repeat or overlap, and only the
   * run that is stored without a gap from {@code from} (empty when nothing is stored there yet).
   */
  public CompletionStage<List<LogChunk>> read(String buildId, int attempt, int step, long from, int maxBytes) {
    if (from < 0 || maxBytes <= 0) {
      throw new IllegalArgumentException("read needs from >= 0 and maxBytes > 0, got " + from + ", " + maxBytes);
    }
    // A chunk that starts before `from` may cover it: look one chunk-size back (no chunk is longer).
    long start = Math.max(0, from - Limits.MAX_PAYLOAD_BYTES);
    return select.get()
        .thenCompose(ps -> session.selectAll(ps.bind(buildId, attempt, step, start, from + maxBytes)))
        .thenApply(rows -> {
          List<LogChunk> stored = new ArrayList<>(rows.size());
          for (Row r : rows) {
            ByteBuffer bb = r.getByteBuffer("data");
            byte[] data = new byte[bb == null ? 0 : bb.remaining()];
            if (bb != null) {
              bb.get(data);
            }
            stored.add(new LogChunk(r.getLong("offset"), r.getByte("kind"), data));
          }
          return LogAssembly.contiguous(stored, from, maxBytes);
        });
  }

  /** The session the persistence plugin and this store use (for {@link StoreHealth}'s probe). */
  CassandraSession session() {
    return session;
  }

  /**
   * A statement prepared on first use and again after a failed preparation: a node that starts
   * while Cassandra is down must not keep a failed preparation for ever.
   */
  private static final class Statement {
    private final CassandraSession session;
    private final String cql;
    private final AtomicReference<CompletableFuture<PreparedStatement>> prepared = new AtomicReference<>();

    Statement(CassandraSession session, String cql) {
      this.session = session;
      this.cql = cql;
    }

    CompletionStage<PreparedStatement> get() {
      CompletableFuture<PreparedStatement> p = prepared.get();
      if (p == null || p.isCompletedExceptionally()) {
        CompletableFuture<PreparedStatement> fresh = session.prepare(cql).toCompletableFuture();
        if (prepared.compareAndSet(p, fresh)) {
          return fresh;
        }
        return prepared.get();
      }
      return p;
    }
  }

  public String keyspace() {
    return keyspace;
  }
}
