package dev.grange.node.pool.cloud;

import dev.grange.protocol.model.HostTypeSpec;
import java.util.List;
import java.util.Objects;

/**
 * One instance to make.
 *
 * @param name the instance name (see {@link InstanceNames}): pod name, VM name and the agent's
 *     {@code --instance}
 * @param spec the host type: its image, resources and the pool-specific part
 * @param nodeUrls the node URLs the agent dials, in order
 * @param key the instance key (hex), secret: never logged, never in clear in a pod spec
 * @param deleteAtEpochSecond when the instance must be deleted at the latest, whatever its state
 */
public record InstanceRequest(String name, HostTypeSpec spec, List<String> nodeUrls, String key, long deleteAtEpochSecond) {
  public InstanceRequest {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(spec, "spec");
    Objects.requireNonNull(key, "key");
    nodeUrls = List.copyOf(nodeUrls);
    if (nodeUrls.isEmpty()) {
      throw new IllegalArgumentException("an instance needs at least one node URL for its agent");
    }
  }

  public String hostType() {
    return spec.name();
  }

  /** Never the key. */
  @Override
  public String toString() {
    return "InstanceRequest[" + name + " of " + spec.name() + ", nodes " + nodeUrls + ", delete at " + deleteAtEpochSecond + "]";
  }
}
