package dev.grange.node.pool.gce;

import com.google.cloud.compute.v1.AccessConfig;
import com.google.cloud.compute.v1.AttachedDisk;
import com.google.cloud.compute.v1.AttachedDiskInitializeParams;
import com.google.cloud.compute.v1.Items;
import com.google.cloud.compute.v1.Metadata;
import com.google.cloud.compute.v1.NetworkInterface;
import com.google.cloud.compute.v1.Scheduling;
import com.google.cloud.compute.v1.ServiceAccount;
import dev.grange.node.pool.cloud.Instance;
import dev.grange.node.pool.cloud.InstanceRequest;
import dev.grange.node.pool.cloud.InstanceState;
import dev.grange.protocol.model.GcePoolSpec;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The pure half of the GCE provider: the VM resource an {@link InstanceRequest} becomes, and the
 * pool's {@link Instance} a listed VM becomes. No calls, so every field is checked in unit tests.
 */
final class GceInstances {
  private GceInstances() {}

  /** The one scope a VM's service account gets: its IAM roles say what it may do. */
  static final String CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform";
  static final int MAX_LABEL = 63;

  /** The VM to insert in {@code zone} for {@code r}. Carries the key: never log it. */
  static com.google.cloud.compute.v1.Instance toGce(GceProvider.Settings s, InstanceRequest r, String zone) {
    GcePoolSpec gce = r.spec().gce();
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put(GceMetadata.NODE_URLS, String.join("\n", r.nodeUrls()));
    meta.put(GceMetadata.HOST_TYPE, r.hostType());
    meta.put(GceMetadata.INSTANCE, r.name());
    meta.put(GceMetadata.KEY, r.key());
    if (!s.agentUrl().isEmpty()) {
      meta.put(GceMetadata.AGENT_URL, s.agentUrl());
      meta.put(GceMetadata.AGENT_SHA256, s.agentSha256());
    }
    Metadata.Builder metadata = Metadata.newBuilder();
    meta.forEach((k, v) -> metadata.addItems(Items.newBuilder().setKey(k).setValue(v)));

    NetworkInterface.Builder nic = NetworkInterface.newBuilder().setNetwork(s.network());
    if (!s.subnetwork().isEmpty()) {
      nic.setSubnetwork(s.subnetwork());
    }
    if (s.externalIp()) {
      nic.addAccessConfigs(AccessConfig.newBuilder().setName("External NAT").setType("ONE_TO_ONE_NAT"));
    }

    com.google.cloud.compute.v1.Instance.Builder vm = com.google.cloud.compute.v1.Instance.newBuilder()
        .setName(r.name())
        .setMachineType(machineType(zone, gce.machineType()))
        .addDisks(AttachedDisk.newBuilder()
            .setBoot(true)
            .setAutoDelete(true)
            .setType("PERSISTENT")
            .setInitializeParams(AttachedDiskInitializeParams.newBuilder()
                .setSourceImage(image(s.project(), gce.image()))
                .setDiskSizeGb(gce.diskGb())))
        .addNetworkInterfaces(nic)
        .putLabels(GceMetadata.LABEL_HOST_TYPE, labelValue(r.hostType()))
        .putLabels(GceMetadata.LABEL_INSTANCE, labelValue(r.name()))
        .setMetadata(metadata)
        // A build machine is disposable: never preempted under a build, never restarted or moved
        // by GCE (a restarted VM would boot a second agent with the same instance name).
        .setScheduling(Scheduling.newBuilder()
            .setPreemptible(false)
            .setAutomaticRestart(false)
            .setOnHostMaintenance("TERMINATE"));
    // No delete-at is no label: a "0" would read as long overdue to a janitor.
    if (r.deleteAtEpochSecond() > 0) {
      vm.putLabels(GceMetadata.LABEL_DELETE_AT, Long.toString(r.deleteAtEpochSecond()));
    }
    if (!s.serviceAccount().isEmpty()) {
      vm.addServiceAccounts(ServiceAccount.newBuilder().setEmail(s.serviceAccount()).addScopes(CLOUD_PLATFORM));
    }
    return vm.build();
  }

  /** A listed VM as the pool sees it: the exact host type from its metadata, else its label. */
  static Instance fromGce(com.google.cloud.compute.v1.Instance vm) {
    String hostType = vm.getLabelsOrDefault(GceMetadata.LABEL_HOST_TYPE, "");
    for (Items item : vm.getMetadata().getItemsList()) {
      if (item.getKey().equals(GceMetadata.HOST_TYPE) && !item.getValue().isEmpty()) {
        hostType = item.getValue();
      }
    }
    String detail = vm.getStatusMessage().isEmpty() ? vm.getStatus() : vm.getStatus() + ": " + vm.getStatusMessage();
    return new Instance(vm.getName(), hostType, lastSegment(vm.getZone()), state(vm.getStatus()), detail,
        epochMs(vm.getCreationTimestamp()), deleteAt(vm.getLabelsOrDefault(GceMetadata.LABEL_DELETE_AT, "")));
  }

  /**
   * GCE's status in the pool's words. REPAIRING (the host failed under it) and SUSPENDED count as
   * failed like TERMINATED: the agent is gone either way. A status this code does not know yet
   * counts as pending, so that it is never deleted for it before its delete-at.
   */
  static InstanceState state(String status) {
    return switch (status) {
      case "RUNNING" -> InstanceState.RUNNING;
      case "STOPPING", "STOPPED", "TERMINATED", "SUSPENDING", "SUSPENDED", "REPAIRING" -> InstanceState.FAILED;
      case "DEPROVISIONING" -> InstanceState.GONE;
      default -> InstanceState.PENDING;
    };
  }

  /**
   * A GCE label value: lower case letters, digits, '-' and '_', at most 63 characters. A host type
   * may hold dots, which become '_' ({@code go1.22} is {@code go1_22}); the exact name is in the
   * metadata.
   */
  static String labelValue(String s) {
    String v = s.toLowerCase(Locale.ROOT).replace('.', '_').replaceAll("[^a-z0-9_-]", "-");
    return v.length() > MAX_LABEL ? v.substring(0, MAX_LABEL) : v;
  }

  static String machineType(String zone, String type) {
    return type.contains("/") ? type : "zones/" + zone + "/machineTypes/" + type;
  }

  /** A bare image name is one of the project's own images; a path (a family, another project's) is used as it is. */
  static String image(String project, String image) {
    return image.contains("/") ? image : "projects/" + project + "/global/images/" + image;
  }

  /** The zone of a zone URL ({@code .../zones/us-central1-a}), or a name as it is. */
  static String lastSegment(String url) {
    return url.substring(url.lastIndexOf('/') + 1);
  }

  static long epochMs(String rfc3339) {
    try {
      return rfc3339.isEmpty() ? 0 : OffsetDateTime.parse(rfc3339).toInstant().toEpochMilli();
    } catch (DateTimeParseException e) {
      return 0;
    }
  }

  static long deleteAt(String label) {
    try {
      return label.isEmpty() ? 0 : Math.max(0, Long.parseLong(label));
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
