package dev.grange.node.pool.gce;

import dev.grange.node.pool.cloud.InstanceNames;
import dev.grange.node.pool.cloud.InstanceRequest;
import dev.grange.protocol.model.GcePoolSpec;
import dev.grange.protocol.model.HostTypeSpec;
import dev.grange.protocol.model.PoolKind;
import java.util.List;

/** Host types and instance requests as the pool makes them, for the GCE tests. */
final class TestRequests {
  private TestRequests() {}

  static final String KEY = "5ec12e7c0ffee5ec12e7c0ffee5ec12e7c0ffee5ec12e7c0ffee5ec12e7c0ffe";
  static final List<String> NODES = List.of("wss://node-1.example:8443", "wss://node-2.example:8443");
  static final long DELETE_AT = 1_900_000_000L;

  /** A gce host type: 20 GB disk, 2 vCPUs, the zones in the order given. */
  static HostTypeSpec spec(String name, String machineType, String image, String... zones) {
    return new HostTypeSpec(name, PoolKind.GCE, 0, 1, "", null, null,
        new GcePoolSpec(machineType, image, List.of(zones), 20, 2), 300_000, true);
  }

  static InstanceRequest request(HostTypeSpec spec) {
    return new InstanceRequest(InstanceNames.fresh(spec.name()), spec, NODES, KEY, DELETE_AT);
  }
}
