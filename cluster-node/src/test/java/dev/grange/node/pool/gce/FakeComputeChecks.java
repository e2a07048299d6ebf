package dev.grange.node.pool.gce;

import com.fasterxml.jackson.databind.JsonNode;
import dev.grange.node.pool.gce.FakeComputeWire.Answer;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What {@link FakeCompute} checks in an insert's body before it accepts it, with the status and
 * words Google answers: required fields, the name, the machine type's zone, one boot disk with a
 * source image, network interfaces, label and metadata formats.
 */
final class FakeComputeChecks {
  private FakeComputeChecks() {}

  private static final Pattern NAME = Pattern.compile("[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?");
  private static final Pattern MACHINE_TYPE = Pattern.compile(
      "(?:https://www\\.googleapis\\.com/compute/v1/)?(?:projects/[^/]+/)?zones/([^/]+)/machineTypes/([^/]+)");
  private static final Pattern LABEL_KEY = Pattern.compile("[a-z][a-z0-9_-]{0,62}");
  private static final Pattern LABEL_VALUE = Pattern.compile("[a-z0-9_-]{0,63}");
  private static final Pattern METADATA_KEY = Pattern.compile("[a-zA-Z0-9_-]{1,128}");
  private static final int METADATA_MAX_BYTES = 512 * 1024;

  /** Null when the body is an instance Google would accept; else its answer. */
  static Answer insert(String project, String zone, JsonNode vm, Set<String> images, Set<String> machineTypes) {
    if (vm == null || !vm.isObject()) {
      return required("resource");
    }
    if (!vm.hasNonNull("name")) {
      return required("resource.name");
    }
    String name = vm.get("name").asText();
    if (!NAME.matcher(name).matches()) {
      return invalid("resource.name", name, "Must be a match of regex '" + NAME.pattern() + "'");
    }
    if (!vm.hasNonNull("machineType")) {
      return required("resource.machineType");
    }
    String type = vm.get("machineType").asText();
    Matcher mt = MACHINE_TYPE.matcher(type);
    if (!mt.matches()) {
      return invalid("resource.machineType", type, "Must be a URL to a machine type resource");
    }
    if (!mt.group(1).equals(zone)) {
      return invalid("resource.machineType", type, "Machine type specified '" + type + "' is in a different scope than the instance");
    }
    if (!machineTypes.isEmpty() && !machineTypes.contains(mt.group(2))) {
      return invalid("resource.machineType", type, "Machine type with name '" + mt.group(2) + "' does not exist in zone '" + zone + "'");
    }
    Answer disks = disks(project, vm.path("disks"), images);
    if (disks != null) {
      return disks;
    }
    JsonNode nics = vm.path("networkInterfaces");
    if (!nics.isArray() || nics.isEmpty()) {
      return required("resource.networkInterfaces");
    }
    for (int i = 0; i < nics.size(); i++) {
      if (!nics.get(i).hasNonNull("network") && !nics.get(i).hasNonNull("subnetwork")) {
        return required("resource.networkInterfaces[" + i + "].network");
      }
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = vm.path("labels").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> l = it.next();
      if (!LABEL_KEY.matcher(l.getKey()).matches() || !LABEL_VALUE.matcher(l.getValue().asText()).matches()) {
        return invalid("resource.labels", "", "Label value '" + l.getValue().asText() + "' violates format constraints. The value can"
            + " only contain lowercase letters, numeric characters, underscores and dashes. The value can be at most 63"
            + " characters long. International characters are allowed.");
      }
    }
    Set<String> keys = new HashSet<>();
    int bytes = 0;
    for (JsonNode item : vm.path("metadata").path("items")) {
      String key = item.path("key").asText();
      if (!METADATA_KEY.matcher(key).matches()) {
        return invalid("resource.metadata", "", "Metadata key '" + key + "' violates format constraints");
      }
      if (!keys.add(key)) {
        return invalid("resource.metadata", "", "Duplicate metadata key '" + key + "'");
      }
      bytes += key.length() + item.path("value").asText().length();
    }
    if (bytes > METADATA_MAX_BYTES) {
      return invalid("resource.metadata", "", "Metadata total size exceeds " + METADATA_MAX_BYTES + " bytes");
    }
    String maintenance = vm.path("scheduling").path("onHostMaintenance").asText("MIGRATE");
    if (!Set.of("MIGRATE", "TERMINATE").contains(maintenance)) {
      return invalid("resource.scheduling.onHostMaintenance", maintenance, "Must be MIGRATE or TERMINATE");
    }
    return null;
  }

  private static Answer disks(String project, JsonNode disks, Set<String> images) {
    int boot = 0;
    for (int i = 0; i < disks.size(); i++) {
      JsonNode d = disks.get(i);
      if (!d.path("boot").asBoolean(false)) {
        continue;
      }
      boot++;
      String field = "resource.disks[" + i + "]";
      JsonNode init = d.path("initializeParams");
      if (!d.hasNonNull("source") && !init.hasNonNull("sourceImage")) {
        return required(field + ".initializeParams.sourceImage");
      }
      if (init.has("diskSizeGb") && init.get("diskSizeGb").asLong(0) < 1) {
        return invalid(field + ".initializeParams.diskSizeGb", init.get("diskSizeGb").asText(), "Must be a positive integer");
      }
      String image = init.path("sourceImage").asText("");
      if (!image.isEmpty() && !images.isEmpty() && !images.contains(image)) {
        String res = image.startsWith("projects/") ? image : "projects/" + project + "/" + image;
        return new Answer(404, FakeComputeWire.error(404, "The resource '" + res + "' was not found", "notFound"));
      }
    }
    return boot == 1 ? null : invalid("resource.disks", "", boot == 0 ? "Boot disk must be specified" : "Only one boot disk is allowed");
  }

  private static Answer required(String field) {
    return new Answer(400, FakeComputeWire.error(400, "Required field '" + field + "' not specified", "required"));
  }

  private static Answer invalid(String field, String value, String why) {
    return new Answer(400, FakeComputeWire.error(400, "Invalid value for field '" + field + "': '" + value + "'. " + why + ".", "invalid"));
  }
}
