package dev.grange.node.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;

/**
 * Picks free TCP ports on the loopback interface, for an embedded Cassandra or a test that needs
 * ports nobody else uses.
 *
 * <p>The ports are free at the moment of the call only: another process may take one before the
 * caller binds it. That is acceptable for tests and the embedded default, which fail loudly when a
 * port turns out to be taken.
 */
public final class FreePorts {

  private FreePorts() {}

  /**
   * Returns {@code count} distinct free loopback ports. All sockets stay open until every port is
   * picked, so the operating system cannot hand out the same port twice.
   */
  public static int[] loopback(int count) {
    if (count < 1) {
      throw new IllegalArgumentException("count must be at least 1, was " + count);
    }
    List<ServerSocket> sockets = new ArrayList<>(count);
    try {
      int[] ports = new int[count];
      for (int i = 0; i < count; i++) {
        ServerSocket socket = new ServerSocket();
        sockets.add(socket);
        socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        ports[i] = socket.getLocalPort();
      }
      return ports;
    } catch (IOException e) {
      throw new UncheckedIOException("Could not pick " + count + " free loopback ports", e);
    } finally {
      for (ServerSocket socket : sockets) {
        try {
          socket.close();
        } catch (IOException ignored) {
          // Closing a listening socket that never accepted anything: nothing to recover.
        }
      }
    }
  }

  /** True when nothing listens on, or holds, {@code port} on the loopback interface. */
  public static boolean isFree(int port) {
    try (ServerSocket socket = new ServerSocket()) {
      // Same flag Cassandra's Netty sets: a port whose old connections linger in TIME_WAIT
      // (our own previous Cassandra, just stopped) counts as free, a listening one does not.
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
