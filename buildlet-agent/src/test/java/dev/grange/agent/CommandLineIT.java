package dev.grange.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Proves what an operator sees of a real agent process: a bad command line (no {@code --node},
 * an unknown flag, a missing key file, a key that is not hex, a flag without its value) ends it
 * with status 2 and a usage message that names the flag; and a running agent listens on no TCP
 * port (PROTOCOL.md section 6), checked against the kernel's socket tables, with this JVM's own
 * listening port as the proof that the check can see one.
 */
class CommandLineIT {
  @TempDir Path tmp;

  @Test
  void aBadCommandLineExitsWithStatus2AndAUsageMessageNamingTheFlag() throws Exception {
    Path key = tmp.resolve("key");
    Files.writeString(key, "0123abcd\n");
    Path notHex = tmp.resolve("not-hex.key");
    Files.writeString(notHex, "this is no key\n");
    String node = "ws://127.0.0.1:" + FakeNode.closedPort();
    Map<String, List<String>> cases = new LinkedHashMap<>();
    cases.put("--node is required", List.of("--host-type", "t", "--key-file", key.toString()));
    cases.put("unknown argument \"--colour\"", List.of("--node", node, "--host-type", "t", "--key-file", key.toString(), "--colour"));
    cases.put("--key-file " + tmp.resolve("missing.key") + " does not exist",
        List.of("--node", node, "--host-type", "t", "--key-file", tmp.resolve("missing.key").toString()));
    cases.put("--key-file " + notHex + " does not hold a hex key",
        List.of("--node", node, "--host-type", "t", "--key-file", notHex.toString()));
    cases.put("--grace-ms needs a value", List.of("--node", node, "--host-type", "t", "--key-file", key.toString(), "--grace-ms"));
    cases.put("--node \"ftp://x\" must start with ws:// or wss://", List.of("--node", "ftp://x", "--host-type", "t", "--key-file", key.toString()));

    // All at once: each is a JVM start.
    Map<String, ChildAgent> children = new LinkedHashMap<>();
    int n = 0;
    for (Map.Entry<String, List<String>> c : cases.entrySet()) {
      children.put(c.getKey(), ChildAgent.start(tmp.resolve("case-" + n++), c.getValue()));
    }
    for (Map.Entry<String, ChildAgent> c : children.entrySet()) {
      try (ChildAgent child = c.getValue()) {
        int status = child.awaitExit();
        String err = child.stderr();
        assertEquals(2, status, c.getKey() + ": status; stderr:\n" + err);
        assertTrue(err.contains("grange agent: " + c.getKey()), "stderr should say \"" + c.getKey() + "\":\n" + err);
        assertTrue(err.contains("usage: grange agent --node URL"), "stderr should show the usage:\n" + err);
      }
    }
  }

  @Test
  void aRunningAgentListensOnNoTcpPort() throws Exception {
    try (FakeNode node = FakeNode.start(TestAgent.HOST_TYPE, TestAgent.KEY);
        ChildAgent child = ChildAgent.start(tmp, TestAgent.args(tmp, List.of(node.url())))) {
      NodeSocket s = node.awaitSocket();
      s.greet();
      // The check sees a listening socket where there is one: this JVM's, the fake node's.
      assertFalse(listening(ProcessHandle.current().pid()).isEmpty(), "the check found no listener in this JVM");
      // And it sees the agent's sockets: its connection to the node.
      assertFalse(tcpSockets(child.pid(), "01").isEmpty(), "the check found no connection of the agent");
      assertEquals(List.of(), listening(child.pid()), "the agent listens on a TCP port");
      assertEquals("still connected\n", s.run("x", "echo still connected").text());
    }
  }

  /** The local addresses of the TCP sockets {@code pid} holds that are listening. */
  private static List<String> listening(long pid) throws IOException {
    return tcpSockets(pid, "0A");
  }

  /**
   * The local addresses of the TCP sockets (v4 and v6) in state {@code state} (hex, as in
   * /proc/net/tcp: 0A listen, 01 established) whose inode is one of {@code pid}'s open files.
   */
  private static List<String> tcpSockets(long pid, String state) throws IOException {
    Set<String> inodes = new HashSet<>();
    try (Stream<Path> fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
      for (Path fd : (Iterable<Path>) fds::iterator) {
        try {
          String target = Files.readSymbolicLink(fd).toString();
          if (target.startsWith("socket:[")) {
            inodes.add(target.substring(8, target.length() - 1));
          }
        } catch (IOException closedMeanwhile) {
          // An fd closed between the listing and the read: not a socket we need.
        }
      }
    }
    List<String> found = new ArrayList<>();
    for (String table : List.of("tcp", "tcp6")) {
      Path p = Path.of("/proc/" + pid + "/net/" + table);
      if (!Files.exists(p)) {
        continue;
      }
      List<String> lines = Files.readAllLines(p);
      for (String line : lines.subList(1, lines.size())) {
        // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
        String[] f = line.trim().split("\\s+");
        if (f.length > 9 && f[3].equals(state) && inodes.contains(f[9])) {
          found.add(table + " " + f[1]);
        }
      }
    }
    return found;
  }
}
