package dev.grange.node.live;

import dev.grange.protocol.CborSerializable;

/**
 * What the cluster's live UI topic carries: small notes that something changed, never the data
 * itself. Each node's {@link LiveHub} turns notes into fresh reads and pushes the differences to
 * the browsers connected to that node.
 */
public sealed interface LiveNote extends CborSerializable {
  /** The pool of {@code hostType} changed: a machine came, went, was leased or released, or its queue changed. */
  record PoolChanged(String hostType) implements LiveNote {}

  /** A build changed state (queued, running, a step, finished). */
  record BuildChanged(String buildId, String state, String builder, String repo, String rev) implements LiveNote {}

  /** A node says it is there, when it started and what it runs (every few seconds). */
  record NodeHello(String address, long startedAtMs, String version, String httpUrl) implements LiveNote {}
}
