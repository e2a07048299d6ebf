package dev.grange.node.pool.gce;

import static dev.grange.node.pool.gce.GceProviderTest.fast;
import static dev.grange.node.pool.gce.GceProviderTest.get;
import static dev.grange.node.pool.gce.TestRequests.KEY;
import static dev.grange.node.pool.gce.TestRequests.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.api.gax.core.NoCredentialsProvider;
import dev.grange.node.pool.cloud.Instance;
import dev.grange.node.pool.cloud.InstanceNames;
import dev.grange.node.pool.cloud.InstanceRequest;
import dev.grange.protocol.model.HostTypeSpec;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fake's real-agent option: what the startup script would run on a VM, as a real process. */
class FakeComputeAgentsTest {

  @Test
  void aRunningVmRunsTheAgentOfItsMetadataAndADeletedOneStopsIt(@TempDir Path dir) throws Exception {
    ExecutorService blocking = Executors.newFixedThreadPool(2);
    try (FakeCompute fake = FakeCompute.start(FakeAgents.fromTestClasspath(dir));
        GceProvider provider = new GceProvider(fast(GceProvider.Settings.of("grange-test", fake.endpoint())),
            NoCredentialsProvider.create(), blocking);
        ServerSocket node = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      HostTypeSpec spec = spec("linux-amd64.vm", "e2-small", "img", "us-central1-a");
      String nodeUrl = "ws://127.0.0.1:" + node.getLocalPort();
      InstanceRequest r = new InstanceRequest(InstanceNames.fresh(spec.name()), spec, List.of(nodeUrl, "ws://127.0.0.1:2"), KEY, 0);
      Instance vm = get(provider.create(r));

      ProcessHandle agent = fake.awaitAgent(vm.name(), Duration.ofSeconds(10)).orElseThrow();
      List<String> argv = argv(agent);
      assertTrue(argv.contains("dev.grange.agent.Main"), argv.toString());
      assertEquals("linux-amd64.vm", after(argv, "--host-type"));
      assertEquals(vm.name(), after(argv, "--instance"));
      assertEquals(vm.name(), after(argv, "--hostname"));
      assertEquals(List.of("--node", nodeUrl, "--node", "ws://127.0.0.1:2"), argv.subList(argv.indexOf("--node"), argv.size()));
      Path keyFile = Path.of(after(argv, "--key-file"));
      assertEquals(KEY, Files.readString(keyFile, StandardCharsets.US_ASCII).strip());
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(keyFile)));

      // The agent really runs: it dials the first node with the VM's instance and key.
      node.setSoTimeout(30_000);
      try (Socket dial = node.accept()) {
        String head = head(dial).toLowerCase(Locale.ROOT);
        for (String header : List.of("grange-instance: " + vm.name(), "grange-host-type: linux-amd64.vm", "authorization: bearer " + KEY)) {
          assertTrue(head.contains(header), head);
        }
      }
      // Its next dial is refused rather than left hanging on a node that never answers.
      node.close();

      get(provider.delete(vm));
      assertFalse(agent.isAlive(), "the deleted VM's agent still runs");
      assertTrue(fake.agent(vm.name()).isEmpty());
    } finally {
      blocking.shutdownNow();
    }
  }

  @Test
  void aVmThatNeverBootsRunsNoAgent(@TempDir Path dir) throws Exception {
    ExecutorService blocking = Executors.newFixedThreadPool(2);
    try (FakeCompute fake = FakeCompute.start(FakeAgents.fromTestClasspath(dir)).neverBoots(true);
        GceProvider provider = new GceProvider(fast(GceProvider.Settings.of("grange-test", fake.endpoint())),
            NoCredentialsProvider.create(), blocking)) {
      HostTypeSpec spec = spec("linux-amd64", "e2-small", "img", "us-central1-a");
      Instance vm = get(provider.create(new InstanceRequest(InstanceNames.fresh(spec.name()), spec, List.of("ws://127.0.0.1:1"), KEY, 0)));
      fake.setStatus(vm.name(), "RUNNING", "");
      assertEquals("RUNNING", fake.instance(vm.name()).orElseThrow().get("status").asText());
      assertTrue(fake.agent(vm.name()).isEmpty());
      assertFalse(Files.exists(dir.resolve(vm.name())), "an agent was set up");
    } finally {
      blocking.shutdownNow();
    }
  }

  /** The request line and headers of an HTTP request, up to the blank line. */
  private static String head(Socket s) throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
    StringBuilder b = new StringBuilder();
    for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) {
      b.append(line).append('\n');
    }
    return b.toString();
  }

  /** The process's argv as the kernel has it. */
  private static List<String> argv(ProcessHandle p) throws Exception {
    String raw = Files.readString(Path.of("/proc", Long.toString(p.pid()), "cmdline"), StandardCharsets.UTF_8);
    return Arrays.asList(raw.split("\0"));
  }

  private static String after(List<String> argv, String flag) {
    int i = argv.indexOf(flag);
    assertTrue(i >= 0 && i + 1 < argv.size(), flag + " missing in " + argv);
    return argv.get(i + 1);
  }
}
