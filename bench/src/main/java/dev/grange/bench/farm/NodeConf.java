package dev.grange.bench.farm;

import java.nio.file.Path;

/**
 * The config file of the benchmark's node ({@code -Dconfig.file}): the Cassandra the benchmark
 * started (as an external store, so that the node's shutdown never races Cassandra's), keyspace
 * and tables created at start as in the embedded default, one local pool of {@code agents}
 * agents (min = max), and the benchmark's builders. Everything else is the node's
 * reference.conf, as for {@code bin/grange node}.
 *
 * <p>Builders: {@code bench-trivial} prints the agent-side wall clock ({@code date +%s%N}: the
 * step's first output byte is a timestamp); {@code bench-firehose} and {@code
 * bench-firehose-warm} write exactly that many bytes of incompressible text (base64 of random
 * bytes, one 128,000-character line repeated, which LZ4 and the WebSocket cannot shrink) to
 * stdout.
 *
 * <p>{@code extra} is HOCON appended as is, for what one benchmark adds (bench/mirrors: its
 * {@code grange.repos} and the builders of their branches); HOCON merges its {@code
 * grange.builders} into the one above. "" for none.
 */
public record NodeConf(
    int httpPort,
    Path varDir,
    String masterKey,
    int cqlPort,
    int agents,
    long firehoseBytes,
    long warmFirehoseBytes,
    int managementPort,
    String extra) {

  public static final String HOST_TYPE = "bench";
  public static final String KEYSPACE = "grange_bench";
  public static final String TRIVIAL = "bench-trivial";
  public static final String FIREHOSE = "bench-firehose";
  public static final String FIREHOSE_WARM = "bench-firehose-warm";

  /** The HOCON text. */
  public String render() {
    return """
        # Written by bench/run for one benchmark run: edits are lost.
        grange.node {
          http.port = %1$d
          var-dir = "%2$s"
          master-key = "%3$s"
        }
        grange.store {
          embedded = off
          autocreate = on
          keyspace = "%4$s"
        }
        datastax-java-driver.basic.contact-points = ["127.0.0.1:%5$d"]
        pekko.persistence.cassandra {
          journal.keyspace-autocreate = true
          journal.tables-autocreate = true
          snapshot.keyspace-autocreate = true
          snapshot.tables-autocreate = true
        }
        datastax-java-driver.basic.request.timeout = 10s
        # Another node may hold the default 2552 (and management's 8558) on this machine.
        pekko.remote.artery.canonical.port = 0
        pekko.management.http.port = %13$d
        grange.hosts {
          %6$s { pool = local, local { min = %7$d, max = %7$d }, expected = %7$d }
        }
        grange.builders {
          %8$s {
            host-type = %6$s
            steps = [ { name = stamp, cmd = "date", args = ["+%%s%%N"], sys = true, timeout = 1m } ]
          }
          %9$s {
            host-type = %6$s
            steps = [ { name = firehose, cmd = "/bin/sh", args = ["-c", "%10$s"], sys = true, timeout = 30m } ]
          }
          %11$s {
            host-type = %6$s
            steps = [ { name = firehose, cmd = "/bin/sh", args = ["-c", "%12$s"], sys = true, timeout = 10m } ]
          }
        }
        %14$s
        """
        .formatted(
            httpPort, hocon(varDir.toString()), masterKey, KEYSPACE, cqlPort, HOST_TYPE, agents, TRIVIAL, FIREHOSE,
            firehoseCommand(firehoseBytes), FIREHOSE_WARM, firehoseCommand(warmFirehoseBytes), managementPort, extra);
  }

  /**
   * A shell line writing exactly {@code bytes} bytes: base64 of 96,000 random bytes is a
   * 128,000-character line, under Linux's 128 KiB limit for one argument and longer than LZ4's
   * 64 KiB window, so neither the store nor the wire finds anything to compress.
   */
  static String firehoseCommand(long bytes) {
    return "yes \\\"$(head -c 96000 /dev/urandom | base64 -w0)\\\" | head -c " + bytes;
  }

  private static String hocon(String s) {
    return s.replace("\\", "\\\\").replace("\"", "\\\"");
  }
}
