package dev.grange.bench.pools;

import com.fasterxml.jackson.databind.JsonNode;
import dev.grange.bench.farm.FarmApi;
import dev.grange.bench.farm.Poll;
import dev.grange.bench.report.Percentiles;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongFunction;
import java.util.function.ToLongFunction;

/**
 * Waiter arrival -> build running on a fresh instance: builds of a hermetic host type's builder
 * (one step, {@code true}), one at a time, each on an instance made for it (the last one deleted
 * first). The driver notes its clock, POSTs the build and reads it every {@link #LOOK_EVERY}
 * until its attempt has started; the figures come from the build's own times (node clock, this
 * machine): {@code submittedAtMs}, {@code attempts[0].startMs} and its stages, split further by
 * the agent process's start ({@code /proc}) and its log's "Connected to" line.
 */
final class FreshInstance {
  static final Duration LOOK_EVERY = Duration.ofMillis(10);
  private static final Duration DEADLINE = Duration.ofMinutes(2);

  /** A figure that could not be had (the agent's process was gone, its log said nothing). */
  static final long UNKNOWN = Long.MIN_VALUE;

  /**
   * One build's times, epoch ms: submitted (node), attempt started, its stages' bounds, the agent's
   * process start, main and connect; -1 where unknown. {@code driverMs}: POST sent -> seen started.
   */
  record Sample(String build, String instance, long submitted, long started, long getStart, long createStart,
      long createEnd, long waitEnd, Fakes.AgentTimes agent, long driverMs) {
    long arrivalToStarted() {
      return started - submitted;
    }

    long getBuildlet() {
      return started - getStart;
    }

    long create() {
      return createEnd - createStart;
    }

    long waitAgent() {
      return waitEnd - createEnd;
    }

    /** get_buildlet less create_instance and wait_agent: noticing the waiter, deciding, the lease. */
    long getBuildletRest() {
      return getBuildlet() - create() - waitAgent();
    }

    /**
     * {@code create_instance}'s end -> its agent's process started: the fake kubelet's reaction; negative
     * on GCE, whose fake VM starts its agent once the insert's operation is done, before the node's poll sees it.
     */
    long createdToProcess() {
      return agent.processStartMs() < 0 ? UNKNOWN : agent.processStartMs() - createEnd;
    }

    /** Agent process started -> "Connected to" in its log: a JVM's start and the dial (the fake machine's boot). */
    long processToConnected() {
      return agent.processStartMs() < 0 || agent.connectedMs() < 0 ? UNKNOWN : agent.connectedMs() - agent.processStartMs();
    }

    /** The agent connected -> wait_agent's end: the node's hello, key check and registration. */
    long connectedToRegistered() {
      return agent.connectedMs() < 0 ? UNKNOWN : waitEnd - agent.connectedMs();
    }

    /**
     * What the fakes spent: from the instance made (or its agent's process started, if earlier) to the
     * agent connected, i.e. the kubelet's reaction, the agent JVM's start and its dial.
     */
    long fakes() {
      if (agent.processStartMs() < 0 || agent.connectedMs() < 0) {
        return UNKNOWN;
      }
      return agent.connectedMs() - Math.min(createEnd, agent.processStartMs());
    }

    /** Arrival -> started less what the fakes spent. */
    long grangeOwn() {
      return fakes() == UNKNOWN ? UNKNOWN : arrivalToStarted() - fakes();
    }
  }

  /** The samples of one host type, and how many instances the pool made for them (the fake's count of creates). */
  record Result(String hostType, List<Sample> samples, int instancesMade) {
    Percentiles of(ToLongFunction<Sample> f) {
      List<Long> v = samples.stream().mapToLong(f).filter(x -> x != UNKNOWN).boxed().toList();
      return v.isEmpty() ? null : Percentiles.of(v);
    }
  }

  private final FarmApi api;
  private final Fakes fakes;
  private final PrintStream out;

  FreshInstance(FarmApi api, Fakes fakes, PrintStream out) {
    this.api = api;
    this.fakes = fakes;
    this.out = out;
  }

  /**
   * {@code n} builds of {@code builder} on {@code hostType}, one after another; {@code creates} lists
   * the fake's create calls from a time on.
   */
  Result run(String hostType, String builder, boolean kube, int n, LongFunction<List<Long>> creates) throws Exception {
    List<Sample> samples = new ArrayList<>();
    long since = System.currentTimeMillis();
    for (int i = 0; i < n; i++) {
      awaitNoInstance(hostType);
      long sent = System.nanoTime();
      String id = api.submit(builder).id();
      JsonNode b = Poll.until("build " + id + " started", DEADLINE, LOOK_EVERY, () -> {
        JsonNode j = api.build(id);
        JsonNode a = j.path("attempts").path(0);
        if (a.path("startMs").asLong(0) > 0) {
          return j;
        }
        if (FarmApi.isOver(j)) {
          throw new IOException("build " + id + " ended " + j.path("state").asText() + " before it started: " + j);
        }
        return null;
      });
      long driverMs = (System.nanoTime() - sent) / 1_000_000;
      JsonNode a = b.path("attempts").path(0);
      String instance = a.path("hostname").asText();
      long processStart = fakes.agentProcessStart(kube, instance);
      JsonNode done = Poll.until("build " + id + " over", DEADLINE, Duration.ofMillis(100), () -> {
        JsonNode j = api.build(id);
        return FarmApi.isOver(j) ? j : null;
      });
      if (!done.path("state").asText().equals("ok")) {
        throw new IOException("build " + id + " on " + instance + " ended " + done.path("state").asText() + ": " + done);
      }
      Sample s = new Sample(id, instance, b.path("submittedAtMs").asLong(), a.path("startMs").asLong(),
          stage(a, "get_buildlet", "startMs"), stage(a, "create_instance", "startMs"), stage(a, "create_instance", "endMs"),
          stage(a, "wait_agent", "endMs"), fakes.agentTimes(kube, instance, processStart), driverMs);
      if (s.createStart() < 0 || s.waitEnd() < 0) {
        throw new IOException("build " + id + " did not run on a fresh instance (no create_instance and wait_agent stages): " + a);
      }
      samples.add(s);
      out.printf("  %s %d/%d on %s: arrival -> started %d ms (create %d, wait agent %d; agent process -> connected %d)%n",
          hostType, i + 1, n, instance, s.arrivalToStarted(), s.create(), s.waitAgent(), s.processToConnected());
    }
    awaitNoInstance(hostType);
    return new Result(hostType, samples, creates.apply(since).size());
  }

  /**
   * Waits until the cloud pools own no instance of {@code hostType}: a hermetic one is deleted after
   * its build, a spare one (made for a build that had just got its machine) at the idle timeout.
   */
  private void awaitNoInstance(String hostType) throws Exception {
    Poll.until("no instance of " + hostType + " left", DEADLINE, Duration.ofMillis(50), () -> {
      for (JsonNode pool : api.cloudPools()) {
        for (JsonNode i : pool.path("instances")) {
          if (i.path("hostType").asText().equals(hostType)) {
            return null;
          }
        }
      }
      return Boolean.TRUE;
    });
  }

  private static long stage(JsonNode attempt, String name, String field) {
    for (JsonNode s : attempt.path("stages")) {
      if (s.path("name").asText().equals(name)) {
        return s.path(field).asLong(-1);
      }
    }
    return -1;
  }
}
