package dev.grange.bench.faults;

import dev.grange.bench.dispatch.BuildTiming;
import dev.grange.bench.dispatch.ClosedLoop;
import dev.grange.bench.farm.FarmApi;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;

/**
 * Build throughput of the fault farm with three nodes and then with one, on the same machine,
 * agents and Cassandra: the foundation benchmark's closed loop of trivial builds ({@code date
 * +%s%N}), builds per second from the first 202 to the last finish by the nodes' clocks. With three
 * nodes the loop submits to each in turn; for one, nodes 2 and 3 are stopped (SIGTERM) and the
 * agents move to node 1.
 */
final class Throughput {
  record Figures(int builds, int inFlight, double threeNodes, long threeFailures, double oneNode, long oneFailures) {}

  private Throughput() {}

  static Figures run(FaultFarm farm, int builds, int inFlight, PrintStream out) throws Exception {
    List<Integer> ports = farm.nodes().stream().map(n -> n.httpPort).toList();
    FarmApi three = new FarmApi(ports, farm.repo(), "HEAD");
    out.printf("Throughput: warm-up, then %d trivial builds, %d in flight, on 3 nodes ...%n", builds, inFlight);
    ClosedLoop.run(three, FaultFarm.HOST_TYPE, FaultFarm.TRIVIAL, Math.max(20, builds / 5), inFlight);
    List<BuildTiming> t3 = ClosedLoop.timings(three, ClosedLoop.run(three, FaultFarm.HOST_TYPE, FaultFarm.TRIVIAL, builds, inFlight).accepted());

    farm.stopNode(farm.nodes().get(1));
    farm.stopNode(farm.nodes().get(2));
    farm.awaitConnected(farm.agents().size(), Duration.ofMinutes(2));
    FarmApi one = new FarmApi(ports.get(0), farm.repo(), "HEAD");
    out.printf("Throughput: the same on 1 node (nodes 2 and 3 stopped) ...%n");
    ClosedLoop.run(one, FaultFarm.HOST_TYPE, FaultFarm.TRIVIAL, Math.max(20, builds / 5), inFlight);
    List<BuildTiming> t1 = ClosedLoop.timings(one, ClosedLoop.run(one, FaultFarm.HOST_TYPE, FaultFarm.TRIVIAL, builds, inFlight).accepted());
    Figures f = new Figures(builds, inFlight, ClosedLoop.buildsPerSecond(t3), ClosedLoop.failures(t3),
        ClosedLoop.buildsPerSecond(t1), ClosedLoop.failures(t1));
    out.printf("Throughput: 3 nodes %.1f builds/s (%d not ok), 1 node %.1f builds/s (%d not ok)%n",
        f.threeNodes(), f.threeFailures(), f.oneNode(), f.oneFailures());
    return f;
  }
}
