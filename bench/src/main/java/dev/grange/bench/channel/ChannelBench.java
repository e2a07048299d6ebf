package dev.grange.bench.channel;

import dev.grange.bench.farm.BenchFarm;
import dev.grange.bench.farm.NodeConf;
import dev.grange.bench.farm.CpuMeter;
import dev.grange.bench.farm.Profiler;
import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * Benchmark 2, channel throughput: the real path of a build's output beside three baselines
 * measured in the same run with the same 256 KiB frames: raw loopback TCP, the WebSocket
 * transport alone (the agent's and the node's WebSocket libraries, no Grange code) and the
 * node's LogStore alone on the farm's Cassandra. Each measurement starts on a quiet farm.
 */
public final class ChannelBench {
  /** The figures, MB/s (10^6 bytes per second). */
  public record Result(long bytes, double rawTcp, double webSocket, RealPath.Result realPath, double logStore,
      CpuMeter.Use logStoreCpu) {}

  private static final Duration QUIET = Duration.ofSeconds(60);

  private ChannelBench() {}

  /**
   * @param warmBytes the size of the firehose warm-up build (not counted)
   * @param profiler records the node, Cassandra and the agent during the measured real-path build
   */
  public static Result run(BenchFarm farm, long bytes, long warmBytes, String cassandraContact, Profiler profiler,
      PrintStream out) throws Exception {
    farm.awaitQuiet(QUIET);
    out.printf("Channel: raw loopback TCP, %d MiB ...%n", bytes >> 20);
    LoopbackTcp.run(Math.min(bytes, 64L << 20)); // warm-up
    double tcp = LoopbackTcp.run(bytes);
    ActorSystem<Void> system = DriverSystem.create(cassandraContact);
    try {
      out.printf("Channel: WebSocket transport alone, %d MiB ...%n", bytes >> 20);
      WebSocketTransport.run(system, Math.min(bytes, 64L << 20)); // warm-up
      double ws = WebSocketTransport.run(system, bytes);

      farm.awaitQuiet(QUIET);
      out.printf("Channel: real path, warm-up build of %d MiB (not counted) ...%n", warmBytes >> 20);
      RealPath.run(farm, NodeConf.FIREHOSE_WARM, warmBytes, Profiler.off());
      farm.awaitQuiet(QUIET);
      out.printf("Channel: real path, one build writing %d MiB to stdout ...%n", bytes >> 20);
      RealPath.Result real = RealPath.run(farm, NodeConf.FIREHOSE, bytes, profiler);

      double waited = farm.awaitQuiet(Duration.ofMinutes(3));
      out.printf("Channel: LogStore alone, %d MiB (after %.0f s for Cassandra to settle) ...%n", bytes >> 20, waited);
      CpuMeter meter = CpuMeter.start(farm);
      double store = LogStoreAlone.run(system, bytes);
      return new Result(bytes, tcp, ws, real, store, meter.stop());
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
  }
}
