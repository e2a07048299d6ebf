package dev.grange.node.pool.kube;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.grange.node.pool.cloud.Instance;
import dev.grange.node.pool.cloud.InstanceState;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The states and words of pods the mock API server's tests do not reach. */
class PodStatesTest {
  private static Pod pod(PodStatus status) {
    return new PodBuilder().withNewMetadata().withName("grange-linux-amd64-0a1b2c3d")
        .withLabels(Map.of(KubeApiUse.LABEL_HOST_TYPE, "linux-amd64", KubeApiUse.LABEL_DELETE_AT, "not a number"))
        .withCreationTimestamp("2026-12-03T12:00:00Z").endMetadata().withStatus(status).build();
  }

  @Test
  void anUnschedulablePodIsPendingAndSaysWhy() {
    Instance i = PodStates.of(pod(new PodStatusBuilder().withPhase("Pending").addNewCondition().withType("PodScheduled")
        .withStatus("False").withReason("Unschedulable").withMessage("0/3 nodes are available: 3 Insufficient cpu.").endCondition()
        .build()), "grange-pool");
    assertEquals(InstanceState.PENDING, i.state());
    assertEquals("Pending; not scheduled: Unschedulable: 0/3 nodes are available: 3 Insufficient cpu.", i.detail());
    assertEquals(1_796_299_200_000L, i.createdAtMs());
    assertEquals(0, i.deleteAtEpochSecond(), "a bad delete-at label reads as none");
  }

  @Test
  void aPodOnALostNodeOrInACrashLoopIsFailed() {
    assertEquals(InstanceState.FAILED, PodStates.state(pod(new PodStatusBuilder().withPhase("Unknown").build())));
    Pod crashing = pod(PodStatuses.waiting("CrashLoopBackOff", "back-off 5m0s restarting failed container"));
    crashing.getStatus().setPhase("Running");
    assertEquals(InstanceState.FAILED, PodStates.state(crashing));
    assertEquals("Running; agent waiting: CrashLoopBackOff: back-off 5m0s restarting failed container", PodStates.detail(crashing));
  }

  @Test
  void aPodWithoutStatusIsPendingAndADeletedOneGone() {
    Instance fresh = PodStates.of(pod(null), "grange-pool");
    assertEquals(InstanceState.PENDING, fresh.state());
    assertEquals("Pending", fresh.detail());
    assertEquals("linux-amd64", fresh.hostType());
    Instance deleted = PodStates.deleted(pod(PodStatuses.running()), "grange-pool");
    assertEquals(InstanceState.GONE, deleted.state());
    assertEquals("grange-pool", deleted.location());
  }
}
