package dev.grange.node.store;

import java.nio.file.Path;

/** The files the Cassandra child process reads, written anew on every start. */
final class CassandraConfig {
  private CassandraConfig() {}

  /** Console only: the child's stdout is the log file, and INFO keeps it readable. */
  static final String LOGBACK_XML =
      """
      <configuration scan="false">
        <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
          <encoder>
            <pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern>
          </encoder>
        </appender>
        <root level="INFO">
          <appender-ref ref="STDOUT"/>
        </root>
      </configuration>
      """;

  /** The minimal single-node cassandra.yaml, Cassandra 5.0 key names with units. */
  static String yaml(EmbeddedCassandra.Settings s) {
    Path data = s.dir().resolve("data");
    return """
        # Written by Grange's EmbeddedCassandra on every start: edits are lost.
        cluster_name: 'grange'
        num_tokens: 1
        initial_token: 0
        partitioner: org.apache.cassandra.dht.Murmur3Partitioner
        endpoint_snitch: SimpleSnitch
        seed_provider:
          - class_name: org.apache.cassandra.locator.SimpleSeedProvider
            parameters:
              - seeds: "127.0.0.1:%2$d"
        listen_address: 127.0.0.1
        rpc_address: 127.0.0.1
        storage_port: %2$d
        native_transport_port: %1$d
        start_native_transport: true
        data_file_directories:
          - %3$s
        commitlog_directory: %4$s
        saved_caches_directory: %5$s
        hints_directory: %6$s
        cdc_raw_directory: %7$s
        commitlog_sync: periodic
        commitlog_sync_period: 10000ms
        commitlog_segment_size: 8MiB
        concurrent_reads: 8
        concurrent_writes: 8
        concurrent_counter_writes: 8
        memtable_heap_space: 64MiB
        memtable_offheap_space: 64MiB
        key_cache_size: 8MiB
        disk_access_mode: mmap_index_only
        """
        .formatted(
            s.cqlPort(),
            s.storagePort(),
            quote(data.resolve("data")),
            quote(data.resolve("commitlog")),
            quote(data.resolve("saved_caches")),
            quote(data.resolve("hints")),
            quote(data.resolve("cdc_raw")));
  }

  /** A YAML single-quoted scalar: safe for any path. */
  private static String quote(Path path) {
    return "'" + path.toString().replace("'", "''") + "'";
  }
}
