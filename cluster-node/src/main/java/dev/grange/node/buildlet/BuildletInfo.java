package dev.grange.node.buildlet;

import dev.grange.protocol.CborSerializable;

/** Who a connected buildlet is: from its handshake headers and its {@code ready} frame. */
public record BuildletInfo(
    String agentId,
    String hostType,
    String hostname,
    int version,
    String instance,
    String os,
    String arch,
    int cpus,
    String workdir,
    String node,
    long connectedAtMs)
    implements CborSerializable {}
