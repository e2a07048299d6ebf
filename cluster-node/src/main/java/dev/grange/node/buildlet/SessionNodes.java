package dev.grange.node.buildlet;

import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * Whether the node of a session is still in the cluster. A session reference outlives its node in
 * the journal (a {@code SessionAttached} of an earlier node generation): such a reference is dead,
 * but a watch on it may take long to say so, and a message to it is silently lost. Without a
 * cluster (unit tests with a local provider) every reference counts as alive.
 */
public final class SessionNodes {
  private SessionNodes() {}

  /** True when {@code session} lives on a node that is not (or no longer) an up member. */
  public static boolean gone(ActorSystem<?> system, ActorRef<?> session) {
    Address a = session.path().address();
    if (a.hasLocalScope() || !"cluster".equals(system.settings().config().getString("pekko.actor.provider"))) {
      return false;
    }
    for (org.apache.pekko.cluster.Member m : Cluster.get(system).state().getMembers()) {
      if (m.address().equals(a)) {
        return m.status() != MemberStatus.up() && m.status() != MemberStatus.weaklyUp() && m.status() != MemberStatus.leaving();
      }
    }
    return true;
  }
}
