package dev.grange.node.pool.gce;

import static dev.grange.node.pool.gce.TestRequests.request;
import static dev.grange.node.pool.gce.TestRequests.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.cloud.compute.v1.Items;
import com.google.cloud.compute.v1.Metadata;
import dev.grange.node.pool.cloud.Instance;
import dev.grange.node.pool.cloud.InstanceState;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The VM a request becomes and the instance a listed VM becomes, without any call. */
class GceInstancesTest {
  private static final GceProvider.Settings SETTINGS = GceProvider.Settings.of("grange-test", "");

  @Test
  void aVmGetsNoExternalAddressAndNoServiceAccountUnlessConfigured() {
    var vm = GceInstances.toGce(SETTINGS, request(spec("linux-amd64", "e2-small", "img", "us-central1-a")), "us-central1-a");
    assertEquals(0, vm.getNetworkInterfaces(0).getAccessConfigsCount());
    assertEquals("global/networks/default", vm.getNetworkInterfaces(0).getNetwork());
    assertTrue(vm.getNetworkInterfaces(0).getSubnetwork().isEmpty());
    assertEquals(0, vm.getServiceAccountsCount());
    assertTrue(vm.getMetadata().getItemsList().stream().noneMatch(i -> i.getKey().startsWith("grange-agent-")));
  }

  @Test
  void aRequestWithoutADeleteAtGetsNoDeleteAtLabel() {
    var r = request(spec("linux-amd64", "e2-small", "img", "us-central1-a"));
    var none = new dev.grange.node.pool.cloud.InstanceRequest(r.name(), r.spec(), r.nodeUrls(), r.key(), 0);
    var vm = GceInstances.toGce(SETTINGS, none, "us-central1-a");
    assertEquals(Map.of(GceMetadata.LABEL_HOST_TYPE, "linux-amd64", GceMetadata.LABEL_INSTANCE, r.name()), vm.getLabelsMap());
    assertEquals(0, GceInstances.fromGce(vm).deleteAtEpochSecond());
  }

  @Test
  void imagesAndMachineTypesGivenAsPathsAreUsedAsTheyAre() {
    var vm = GceInstances.toGce(SETTINGS, request(spec("linux-amd64", "projects/p/zones/us-central1-a/machineTypes/custom-4-8192",
        "projects/debian-cloud/global/images/family/debian-12", "us-central1-a")), "us-central1-a");
    assertEquals("projects/p/zones/us-central1-a/machineTypes/custom-4-8192", vm.getMachineType());
    assertEquals("projects/debian-cloud/global/images/family/debian-12", vm.getDisks(0).getInitializeParams().getSourceImage());
  }

  @Test
  void labelValuesKeepToWhatGceAllows() {
    assertEquals("linux-amd64_go1_22", GceInstances.labelValue("linux-amd64.go1.22"));
    assertEquals("a_b-c", GceInstances.labelValue("A_b+c"));
    String long64 = "x".repeat(64);
    assertEquals(63, GceInstances.labelValue(long64).length());
  }

  @Test
  void gceStatusesBecomePoolStates() {
    Map<String, InstanceState> expected = Map.of(
        "PROVISIONING", InstanceState.PENDING, "STAGING", InstanceState.PENDING, "RUNNING", InstanceState.RUNNING,
        "STOPPING", InstanceState.FAILED, "STOPPED", InstanceState.FAILED, "TERMINATED", InstanceState.FAILED,
        "SUSPENDED", InstanceState.FAILED, "REPAIRING", InstanceState.FAILED, "SOMETHING_NEW", InstanceState.PENDING);
    expected.forEach((status, state) -> assertEquals(state, GceInstances.state(status), status));
  }

  @Test
  void aListedVmReadsBackItsExactHostTypeZoneCreationAndDeleteAt() {
    var vm = com.google.cloud.compute.v1.Instance.newBuilder()
        .setName("grange-linux-amd64-go1-22-0123abcd")
        .setZone("https://www.googleapis.com/compute/v1/projects/grange-test/zones/europe-west1-b")
        .setStatus("TERMINATED").setStatusMessage("Instance was preempted")
        .setCreationTimestamp("2026-12-03T04:32:04.123-08:00")
        .putLabels(GceMetadata.LABEL_HOST_TYPE, "linux-amd64_go1_22")
        .putLabels(GceMetadata.LABEL_DELETE_AT, "1900000000")
        .setMetadata(Metadata.newBuilder().addItems(Items.newBuilder().setKey(GceMetadata.HOST_TYPE).setValue("linux-amd64.go1.22")))
        .build();
    Instance i = GceInstances.fromGce(vm);
    assertEquals(new Instance("grange-linux-amd64-go1-22-0123abcd", "linux-amd64.go1.22", "europe-west1-b", InstanceState.FAILED,
        "TERMINATED: Instance was preempted", 1_796_301_124_123L, 1_900_000_000L), i);
  }

  @Test
  void aVmWithoutMetadataOrDatesStillReads() {
    var vm = com.google.cloud.compute.v1.Instance.newBuilder().setName("grange-x-0123abcd").setZone("zones/us-central1-a")
        .setStatus("RUNNING").putLabels(GceMetadata.LABEL_HOST_TYPE, "x").putLabels(GceMetadata.LABEL_DELETE_AT, "soon").build();
    assertEquals(new Instance("grange-x-0123abcd", "x", "us-central1-a", InstanceState.RUNNING, "RUNNING", 0, 0),
        GceInstances.fromGce(vm));
  }
}
