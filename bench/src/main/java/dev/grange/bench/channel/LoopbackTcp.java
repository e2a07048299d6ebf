package dev.grange.bench.channel;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The ceiling for any channel on this machine: a Java socket pair on 127.0.0.1 copying the
 * bytes in writes of one frame (13-byte header + 256 KiB payload, the agent's binary frame) and
 * reads of 256 KiB, nothing else. Time: first write to the reader having every byte.
 */
final class LoopbackTcp {
  private LoopbackTcp() {}

  /** Copies {@code bytes} payload bytes (frame headers are sent too, not counted); MB/s. */
  static double run(long bytes) throws Exception {
    byte[] frame = new byte[13 + Payload.CHUNK];
    System.arraycopy(Payload.chunk(), 0, frame, 13, Payload.CHUNK);
    long frames = bytes / Payload.CHUNK;
    long wire = frames * frame.length;
    try (ServerSocket server = new ServerSocket()) {
      server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      CompletableFuture<Long> readerDone = CompletableFuture.supplyAsync(() -> {
        try (Socket s = server.accept(); InputStream in = s.getInputStream()) {
          byte[] buf = new byte[Payload.CHUNK];
          long got = 0;
          while (got < wire) {
            int n = in.read(buf);
            if (n < 0) {
              throw new IOException("loopback reader: EOF after " + got + " bytes");
            }
            got += n;
          }
          return System.nanoTime();
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      try (Socket c = new Socket()) {
        c.connect(server.getLocalSocketAddress());
        OutputStream out = c.getOutputStream();
        long t0 = System.nanoTime();
        for (long i = 0; i < frames; i++) {
          out.write(frame);
        }
        out.flush();
        long t1 = readerDone.get(10, TimeUnit.MINUTES);
        return Payload.mbPerSecond(frames * Payload.CHUNK, t1 - t0);
      }
    }
  }
}
