package dev.grange.node.pool.gce;

/**
 * What a GCE pool puts on each VM it creates, for the startup script in {@code env/} (which reads
 * the metadata server) and for the janitor (which lists by label).
 */
public final class GceMetadata {
  private GceMetadata() {}

  /** Instance metadata: the node URLs (newline-separated), the host type, the instance name and its key. */
  public static final String NODE_URLS = "grange-node-urls";
  public static final String HOST_TYPE = "grange-host-type";
  public static final String INSTANCE = "grange-instance";
  public static final String KEY = "grange-key";
  /** Optional: where the startup script downloads the agent distribution, and its SHA-256 (hex). */
  public static final String AGENT_URL = "grange-agent-url";
  public static final String AGENT_SHA256 = "grange-agent-sha256";

  /** Labels (GCE label values: lower case, digits, '-' and '_'). */
  public static final String LABEL_HOST_TYPE = "grange-host-type";
  public static final String LABEL_INSTANCE = "grange-instance";
  /** Seconds since the epoch after which the janitor deletes the VM whatever its state. */
  public static final String LABEL_DELETE_AT = "grange-delete-at";
}
