package dev.grange.bench.channel;

import dev.grange.node.store.LogStore;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSession;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSessionRegistry;

/**
 * The store alone: the node's own {@link LogStore#append} on the farm's Cassandra, from this
 * JVM, writing 256 KiB chunks of one step's log (one partition, as a build's step is) with at
 * most four writes in flight: the node grants an agent 1 MiB of credit and gives it back only
 * for stored bytes, so the real path never has more than 1 MiB = 4 chunks waiting on the store.
 * Its own keyspace, so the farm's tables are untouched.
 */
final class LogStoreAlone {
  static final String KEYSPACE = "grange_bench_store";
  private static final int IN_FLIGHT = 4;

  private LogStoreAlone() {}

  /** Writes {@code bytes} bytes; MB/s. */
  static double run(ActorSystem<?> system, long bytes) throws Exception {
    CassandraSession session = CassandraSessionRegistry.get(system).sessionFor("pekko.persistence.cassandra");
    session.executeDDL("CREATE KEYSPACE IF NOT EXISTS " + KEYSPACE
        + " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}").toCompletableFuture().get(60, TimeUnit.SECONDS);
    session.executeDDL(LogStore.tableDdl(KEYSPACE)).toCompletableFuture().get(60, TimeUnit.SECONDS);
    LogStore store = LogStore.create(system, KEYSPACE, false);
    byte[] chunk = Payload.chunk();
    // One write first: prepares the statement and opens the connection outside the timing.
    store.append("warm", 1, 0, 0, 1, chunk).toCompletableFuture().get(60, TimeUnit.SECONDS);
    Semaphore window = new Semaphore(IN_FLIGHT);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    String build = "logstore-alone-" + System.currentTimeMillis();
    long t0 = System.nanoTime();
    for (long offset = 0; offset < bytes && failure.get() == null; offset += chunk.length) {
      window.acquire();
      store.append(build, 1, 0, offset, 1, chunk).whenComplete((d, e) -> {
        if (e != null) {
          failure.compareAndSet(null, e);
        }
        window.release();
      });
    }
    window.acquire(IN_FLIGHT);
    long t1 = System.nanoTime();
    if (failure.get() != null) {
      throw new IllegalStateException("LogStore write failed: " + failure.get(), failure.get());
    }
    return Payload.mbPerSecond(bytes, t1 - t0);
  }
}
