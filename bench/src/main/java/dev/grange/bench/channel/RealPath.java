package dev.grange.bench.channel;

import com.fasterxml.jackson.databind.JsonNode;
import dev.grange.bench.farm.BenchFarm;
import dev.grange.bench.farm.CpuMeter;
import dev.grange.bench.farm.FarmApi;
import dev.grange.bench.farm.Poll;
import dev.grange.bench.farm.ProcFs;
import dev.grange.bench.farm.Profiler;
import java.time.Duration;

/**
 * The real path of a build's output: one build whose step writes {@code bytes} bytes to stdout
 * (command -> pipe -> agent spool -> WebSocket -> the node's BuildletSession -> LogStore in
 * Cassandra, with the protocol's credit). Time: the node's step-started timestamp to its
 * build-finished timestamp, which comes only once every byte is stored. Also measured: the
 * agent's intake (the step's own duration: the command ran unthrottled, its output spooled to
 * disk) and the CPU seconds each process of the farm spent meanwhile.
 */
public final class RealPath {
  /** The figures of one firehose build. */
  public record Result(long bytes, double seconds, double mbPerSecond, double agentIntakeMbPerSecond, CpuMeter.Use cpu) {}

  private RealPath() {}

  static Result run(BenchFarm farm, String builder, long bytes, Profiler profiler) throws Exception {
    FarmApi api = farm.api();
    profiler.startFarm("firehose", farm);
    CpuMeter meter = CpuMeter.start(farm);
    FarmApi.Accepted a = api.submit(builder);
    if (profiler.isOn()) {
      long agent = Poll.until("the firehose build to start", Duration.ofMinutes(1), Duration.ofMillis(2),
          () -> runningAgent(farm, api.build(a.id())));
      profiler.start("firehose", "agent", agent);
    }
    JsonNode b = Poll.until("firehose build " + a.id() + " to finish", Duration.ofMinutes(30), Duration.ofMillis(50), () -> {
      JsonNode j = api.build(a.id());
      return FarmApi.isOver(j) ? j : null;
    });
    CpuMeter.Use cpu = meter.stop();
    profiler.stop();
    if (!b.get("state").asText().equals("ok")) {
      throw new IllegalStateException("the firehose build did not end ok: " + b);
    }
    JsonNode step = b.get("steps").get(0);
    long stored = step.get("outputBytes").asLong();
    if (stored != bytes) {
      throw new IllegalStateException("the firehose build stored " + stored + " bytes, not " + bytes + ": " + b);
    }
    double seconds = (b.get("finishedAtMs").asLong() - step.get("startMs").asLong()) / 1000.0;
    double intake = bytes / 1e6 / (Math.max(1, step.get("durationMs").asLong()) / 1000.0);
    return new Result(bytes, seconds, bytes / 1e6 / seconds, intake, cpu);
  }

  /** The pid of the agent the build runs on, once it has one. */
  private static Long runningAgent(BenchFarm farm, JsonNode build) {
    JsonNode attempts = build.get("attempts");
    if (attempts.isEmpty()) {
      return null;
    }
    String instance = attempts.get(attempts.size() - 1).get("hostname").asText();
    for (long pid : farm.agentPids()) {
      if (ProcFs.cmdline(pid).contains("--instance " + instance + " ")) {
        return pid;
      }
    }
    return null;
  }
}
