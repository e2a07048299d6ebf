package dev.grange.node.chaos;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Fault injection for tests and the fault suite (bench/faults): a TCP proxy on loopback between an
 * agent and a node, so the agent's socket can be cut for real: {@link #cut()} closes every live
 * connection and refuses new ones until {@link #heal()}; {@link #freeze()} keeps the connections
 * open but carries nothing (a frozen process or a black-holed network: only heartbeats notice)
 * until {@link #thaw()}. Plain threads and blocking sockets: it
 * carries a handful of connections. Not used by a running farm.
 */
public final class CuttableProxy implements AutoCloseable {
  private final ServerSocket server;
  private final int targetPort;
  private final List<Socket> live = new CopyOnWriteArrayList<>();
  private final AtomicInteger accepted = new AtomicInteger();
  private volatile boolean cut;
  private volatile boolean frozen;
  private volatile boolean closed;

  public CuttableProxy(int targetPort) throws IOException {
    this.targetPort = targetPort;
    this.server = new ServerSocket();
    server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    Thread t = new Thread(this::acceptLoop, "proxy-accept-" + port());
    t.setDaemon(true);
    t.start();
  }

  public int port() {
    return server.getLocalPort();
  }

  public String wsUrl() {
    return "ws://127.0.0.1:" + port();
  }

  /** Connections carried so far (each reconnect of the agent is one). */
  public int accepted() {
    return accepted.get();
  }

  /** Closes every live connection; new ones are refused (closed at once) until {@link #heal()}. */
  public void cut() {
    cut = true;
    live.forEach(CuttableProxy::closeQuietly);
    live.clear();
  }

  public void heal() {
    cut = false;
  }

  /** Live connections stay open but carry nothing, both ways, until {@link #thaw()}. */
  public void freeze() {
    frozen = true;
  }

  public void thaw() {
    frozen = false;
  }

  private void acceptLoop() {
    while (!closed) {
      Socket in;
      try {
        in = server.accept();
      } catch (IOException e) {
        return;
      }
      if (cut) {
        closeQuietly(in);
        continue;
      }
      try {
        Socket out = new Socket(InetAddress.getLoopbackAddress(), targetPort);
        accepted.incrementAndGet();
        live.add(in);
        live.add(out);
        pump(in, out);
        pump(out, in);
      } catch (IOException e) {
        closeQuietly(in);
      }
    }
  }

  private void pump(Socket from, Socket to) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[64 << 10];
      try (InputStream i = from.getInputStream(); OutputStream o = to.getOutputStream()) {
        int n;
        while ((n = i.read(buf)) >= 0) {
          while (frozen && !closed) {
            java.util.concurrent.locks.LockSupport.parkNanos(10_000_000L);
          }
          o.write(buf, 0, n);
        }
      } catch (IOException e) {
        // the other side went, or the test cut the line
      } finally {
        closeQuietly(from);
        closeQuietly(to);
        live.remove(from);
        live.remove(to);
      }
    }, "proxy-pump");
    t.setDaemon(true);
    t.start();
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // closing anyway
    }
  }

  @Override
  public void close() throws IOException {
    closed = true;
    cut();
    server.close();
  }
}
