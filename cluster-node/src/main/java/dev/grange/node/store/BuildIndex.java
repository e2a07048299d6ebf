package dev.grange.node.store;

import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSession;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSessionRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The read side of the dashboard grid: one row per build, by repository and branch, newest commit
 * first. Written by each {@code BuildRun} after it persists a change of state and again when it
 * recovers (which repairs a write lost to a crash or an outage), never read by the entities. A
 * projection would be the textbook way; pekko-projection-cassandra does not resolve here
 * (DEPENDENCIES.md), and the entity's own upsert is idempotent: the row's key is fixed when the
 * build is accepted. A failed write is tried again a few times and then logged: the build goes on.
 */
public final class BuildIndex {
  private static final Logger log = LoggerFactory.getLogger(BuildIndex.class);
  private static final int TRIES = 5;

  /**
   * One build as the grid shows it. {@code branch} is "" for a build asked for by commit. Once it
   * is over, {@code finishedAtMs} and {@code durationMs} (its last attempt's start to its end; 0
   * for a build that never ran) and {@code queuedMs} (submitted to that start); 0 before.
   */
  public record Entry(String repo, String branch, long commitTimeMs, String rev, String builder, long submittedAtMs,
      String buildId, String state, String subject, String author, long finishedAtMs, long durationMs, long queuedMs) {

    public Entry {
      author = author == null ? "" : author;
    }

    /** A build not over yet, of a commit whose author is not known. */
    public Entry(String repo, String branch, long commitTimeMs, String rev, String builder, long submittedAtMs,
        String buildId, String state, String subject) {
      this(repo, branch, commitTimeMs, rev, builder, submittedAtMs, buildId, state, subject, "", 0, 0, 0);
    }
  }

  /** A finished build of a builder, for its durations chart. */
  public record Finished(String buildId, long finishedAtMs, long durationMs, long queuedMs, String state) {}

  /** How long a builder's durations are kept. */
  private static final int DURATIONS_TTL_SECONDS = 30 * 24 * 3600;

  /** How the entity reaches the index (tests use a list). */
  public interface Writer {
    Writer NONE = e -> {};

    void record(Entry e);
  }

  private final ActorSystem<?> system;
  private final CassandraSession session;
  private final String keyspace;
  private final AtomicReference<CompletableFuture<PreparedStatement>> insert = new AtomicReference<>();
  private final AtomicReference<CompletableFuture<PreparedStatement>> insertRepo = new AtomicReference<>();
  private final AtomicReference<CompletableFuture<PreparedStatement>> insertFinished = new AtomicReference<>();

  private BuildIndex(ActorSystem<?> system, CassandraSession session, String keyspace) {
    this.system = system;
    this.session = session;
    this.keyspace = keyspace;
  }

  /** On the persistence plugin's session; {@code createTables}: create them if missing (embedded default, tests). */
  public static BuildIndex create(ActorSystem<?> system, String keyspace, boolean createTables) {
    CassandraSession session = CassandraSessionRegistry.get(system).sessionFor("pekko.persistence.cassandra");
    if (createTables) {
      for (String cql : tablesDdl(keyspace)) {
        session.executeDDL(cql).toCompletableFuture().join();
      }
      addColumn(session, keyspace + ".build_index", "author text");
    }
    return new BuildIndex(system, session, keyspace);
  }

  /**
   * A column added to a table made by an older version (CREATE TABLE IF NOT EXISTS leaves an
   * existing table as it is); nothing when the table has it already.
   */
  private static void addColumn(CassandraSession session, String table, String column) {
    try {
      session.executeDDL("ALTER TABLE " + table + " ADD " + column).toCompletableFuture().join();
    } catch (java.util.concurrent.CompletionException e) {
      String msg = String.valueOf(e.getCause() == null ? e : e.getCause().getMessage());
      if (!msg.contains("already exist") && !msg.contains("conflicts with an existing column")) {
        throw e;
      }
    }
  }

  /** The CQL of the index tables (also in cluster-node/ddl/). */
  public static List<String> tablesDdl(String keyspace) {
    return List.of(
        "CREATE TABLE IF NOT EXISTS " + keyspace + ".build_index ("
            + "repo text, branch text, commit_time_ms bigint, rev text, builder text, submitted_at_ms bigint, build_id text, "
            + "state text, subject text, author text, "
            + "PRIMARY KEY ((repo, branch), commit_time_ms, rev, builder, submitted_at_ms, build_id)) "
            + "WITH CLUSTERING ORDER BY (commit_time_ms DESC, rev ASC, builder ASC, submitted_at_ms DESC, build_id ASC)",
        "CREATE TABLE IF NOT EXISTS " + keyspace + ".build_repos (bucket int, repo text, branch text, last_ms bigint, "
            + "PRIMARY KEY (bucket, repo, branch))",
        "CREATE TABLE IF NOT EXISTS " + keyspace + ".builder_durations (builder text, finished_at_ms bigint, build_id text, "
            + "duration_ms bigint, queued_ms bigint, state text, PRIMARY KEY ((builder), finished_at_ms, build_id)) "
            + "WITH CLUSTERING ORDER BY (finished_at_ms DESC, build_id ASC)");
  }

  /** Upserts the build's row, trying a few times; never fails the caller. */
  public void record(Entry e) {
    write(e, 1);
  }

  private void write(Entry e, int tries) {
    prepared(insert, "INSERT INTO " + keyspace + ".build_index (repo, branch, commit_time_ms, rev, builder, submitted_at_ms, build_id, "
            + "state, subject, author) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .thenCompose(ps -> session.executeWrite(ps.bind(e.repo(), e.branch(), e.commitTimeMs(), e.rev(), e.builder(),
            e.submittedAtMs(), e.buildId(), e.state(), e.subject(), e.author())))
        .thenCompose(d -> prepared(insertRepo, "INSERT INTO " + keyspace + ".build_repos (bucket, repo, branch, last_ms) VALUES (0, ?, ?, ?)"))
        .thenCompose(ps -> session.executeWrite(ps.bind(e.repo(), e.branch(), e.submittedAtMs())))
        .thenCompose(d -> e.finishedAtMs() == 0 ? CompletableFuture.completedFuture(d)
            : prepared(insertFinished, "INSERT INTO " + keyspace + ".builder_durations (builder, finished_at_ms, build_id, duration_ms, "
                    + "queued_ms, state) VALUES (?, ?, ?, ?, ?, ?) USING TTL " + DURATIONS_TTL_SECONDS)
                .thenCompose(ps -> session.executeWrite(ps.bind(e.builder(), e.finishedAtMs(), e.buildId(), e.durationMs(),
                    e.queuedMs(), e.state()))))
        .whenComplete((d, err) -> {
          if (err == null) {
            return;
          }
          if (tries >= TRIES) {
            log.warn("Build index: row of [{}] not written after [{}] tries (written again when the build recovers): {}",
                e.buildId(), tries, err.toString());
            return;
          }
          system.scheduler().scheduleOnce(Duration.ofMillis(200L << tries), () -> write(e, tries + 1), system.executionContext());
        });
  }

  /** The builds of a repository and branch, newest commit first, at most {@code limit} rows. */
  public CompletionStage<List<Entry>> builds(String repo, String branch, int limit) {
    return session
        .selectAll("SELECT commit_time_ms, rev, builder, submitted_at_ms, build_id, state, subject, author FROM " + keyspace
            + ".build_index WHERE repo = ? AND branch = ? LIMIT " + limit, repo, branch)
        .thenApply(rows -> {
          List<Entry> out = new ArrayList<>(rows.size());
          for (Row r : rows) {
            out.add(new Entry(repo, branch, r.getLong("commit_time_ms"), r.getString("rev"), r.getString("builder"),
                r.getLong("submitted_at_ms"), r.getString("build_id"), r.getString("state"), r.getString("subject"),
                r.getString("author"), 0, 0, 0));
          }
          return out;
        });
  }

  /**
   * A build of {@code builder} at {@code rev} of {@code repo} asked for on {@code branch} or by
   * commit (branch ""), if the index has one: its id.
   */
  public CompletionStage<java.util.Optional<String>> existing(String repo, String branch, long commitTimeMs, String rev, String builder) {
    String cql = "SELECT build_id FROM " + keyspace + ".build_index WHERE repo = ? AND branch = ? AND commit_time_ms = ? AND rev = ? "
        + "AND builder = ? LIMIT 1";
    CompletionStage<java.util.Optional<Row>> onBranch = session.selectOne(cql, repo, branch, commitTimeMs, rev, builder);
    return onBranch.thenCompose(r -> r.isPresent() || branch.isEmpty()
            ? CompletableFuture.completedFuture(r)
            : session.selectOne(cql, repo, "", commitTimeMs, rev, builder))
        .thenApply(r -> r.map(row -> row.getString("build_id")));
  }

  /** A builder's finished builds, newest first, at most {@code limit}. */
  public CompletionStage<List<Finished>> durations(String builder, int limit) {
    return session
        .selectAll("SELECT finished_at_ms, build_id, duration_ms, queued_ms, state FROM " + keyspace
            + ".builder_durations WHERE builder = ? LIMIT " + limit, builder)
        .thenApply(rows -> rows.stream()
            .map(r -> new Finished(r.getString("build_id"), r.getLong("finished_at_ms"), r.getLong("duration_ms"),
                r.getLong("queued_ms"), r.getString("state")))
            .toList());
  }

  /** A repository and branch with builds, and when its latest build was asked for. */
  public record RepoBranch(String repo, String branch, long lastMs) {}

  public CompletionStage<List<RepoBranch>> repos() {
    return session.selectAll("SELECT repo, branch, last_ms FROM " + keyspace + ".build_repos WHERE bucket = 0")
        .thenApply(rows -> {
          List<RepoBranch> out = new ArrayList<>();
          for (Row r : rows) {
            out.add(new RepoBranch(r.getString("repo"), r.getString("branch"), r.getLong("last_ms")));
          }
          return out;
        });
  }

  private CompletionStage<PreparedStatement> prepared(AtomicReference<CompletableFuture<PreparedStatement>> ref, String cql) {
    CompletableFuture<PreparedStatement> f = ref.get();
    if (f == null || f.isCompletedExceptionally()) {
      CompletableFuture<PreparedStatement> mine = session.prepare(cql).toCompletableFuture();
      ref.set(mine);
      return mine;
    }
    return f;
  }

  /**
   * The writer of this actor system's builds ({@link Writer#NONE} until the node sets one): how
   * the sharded {@code BuildRun} entities reach the index without it in every factory.
   */
  public static final class Registered implements org.apache.pekko.actor.typed.Extension {
    public static final org.apache.pekko.actor.typed.ExtensionId<Registered> ID = new org.apache.pekko.actor.typed.ExtensionId<>() {
      @Override
      public Registered createExtension(ActorSystem<?> system) {
        return new Registered();
      }
    };

    private volatile Writer writer = Writer.NONE;

    public static Registered get(ActorSystem<?> system) {
      return ID.apply(system);
    }

    public Writer writer() {
      return writer;
    }

    public void use(Writer w) {
      this.writer = w;
    }
  }
}
