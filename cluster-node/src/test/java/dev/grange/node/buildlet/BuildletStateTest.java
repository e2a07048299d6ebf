package dev.grange.node.buildlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.pekko.actor.testkit.typed.javadsl.TestInbox;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Test;

/**
 * A buildlet's state on its own: it is idle (can be leased) only while connected, not running a
 * build, not draining and with its workdir wiped since the last build; a lease and the need for a
 * wipe outlive a socket; a new socket ends draining.
 */
class BuildletStateTest {
  private static final BuildletInfo INFO = new BuildletInfo("a1", "linux-amd64", "h1", 1, "", "linux", "amd64", 2, "/w", "n", 0);
  private static final ActorRef<BuildletSession.Command> SESSION = TestInbox.<BuildletSession.Command>create().getRef();

  @Test
  void itIsIdleOnlyWhenConnectedUnleasedNotDrainingAndWiped() {
    BuildletState attached = BuildletState.empty().apply(new BuildletEvents.SessionAttached(INFO, SESSION));
    assertTrue(attached.idle());

    assertFalse(BuildletState.empty().idle(), "never connected");
    assertFalse(attached.apply(new BuildletEvents.SessionDetached("gone")).idle(), "no socket");
    assertFalse(attached.apply(new BuildletEvents.Draining("SIGTERM")).idle(), "draining");
    BuildletState leased = attached.apply(new BuildletEvents.Leased("b1"));
    assertFalse(leased.idle(), "leased");
    BuildletState released = leased.apply(new BuildletEvents.Released("b1"));
    assertFalse(released.idle(), "released, not yet wiped");
    assertEquals("b1", released.dirtyAfter());
    assertTrue(released.apply(new BuildletEvents.WorkdirWiped("b1")).idle());
  }

  @Test
  void aLeaseAndAPendingWipeOutliveTheSocketAndANewSocketEndsDraining() {
    BuildletState s = BuildletState.empty()
        .apply(new BuildletEvents.SessionAttached(INFO, SESSION))
        .apply(new BuildletEvents.Leased("b1"))
        .apply(new BuildletEvents.Draining("SIGTERM"))
        .apply(new BuildletEvents.SessionDetached("socket closed"));
    assertEquals("b1", s.leasedTo());
    assertEquals("socket closed", s.lastDetachCause());

    s = s.apply(new BuildletEvents.Released("b1")).apply(new BuildletEvents.SessionAttached(INFO, SESSION));

    assertFalse(s.draining());
    assertNull(s.leasedTo());
    assertEquals("b1", s.dirtyAfter(), "wiped only by a wipe");
    assertEquals(1, s.leases());
  }

  @Test
  void aQuarantinedBuildletIsNotIdleAndALiftStartsAnEmptyWindowButKeepsTheTotal() {
    BuildletState s = BuildletState.empty()
        .apply(new BuildletEvents.SessionAttached(INFO, SESSION))
        .apply(new BuildletEvents.InfraFailureRecorded("b1", 1, "socket closed", 1_000))
        .apply(new BuildletEvents.InfraFailureRecorded("b2", 1, "socket closed", 2_000))
        .apply(new BuildletEvents.Quarantined("2 infrastructure failures", 2_000));
    assertFalse(s.idle(), "quarantined");
    assertEquals(2, s.failuresWithin(2_000, java.time.Duration.ofSeconds(10)));
    assertEquals(1, s.failuresWithin(2_000, java.time.Duration.ofMillis(900)), "b1 is older than the window");

    BuildletState lifted = s.apply(new BuildletEvents.QuarantineLifted("admin", 3_000));

    assertTrue(lifted.idle());
    assertEquals(new BuildletState.Health(2, 0, null), lifted.health(3_000, java.time.Duration.ofHours(1)));
  }

  @Test
  void onlyTheLatestFailuresAreKeptAndASnapshotWithoutThemReadsAsNone() {
    BuildletState s = BuildletState.empty();
    for (int i = 0; i < BuildletState.MAX_RECENT + 5; i++) {
      s = s.apply(new BuildletEvents.InfraFailureRecorded("b" + i, 1, "lost", i));
    }
    assertEquals(BuildletState.MAX_RECENT + 5, s.infraFailures());
    assertEquals(BuildletState.MAX_RECENT, s.recentFailures().size());
    assertFalse(s.recorded("b0", 1), "the oldest fell out");

    BuildletState old = new BuildletState(INFO, null, null, false, 3, null, null, 0, null, null);
    assertEquals(java.util.List.of(), old.recentFailures());
  }
}
