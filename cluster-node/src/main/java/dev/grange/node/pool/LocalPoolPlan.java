package dev.grange.node.pool;

/**
 * How many agents a {@link LocalPool} starts for one host type, from what its host pool sees.
 * Pure, so that the rule is tested apart from processes.
 *
 * <p>The machines counted are every connected one of the host type, whichever node started them
 * and whichever node they are connected to (after a node died, the agents it started reconnect
 * to the others and keep counting), plus the ones this pool started that have not connected yet.
 * Together they never exceed the host type's {@code max}.
 */
public final class LocalPoolPlan {
  private LocalPoolPlan() {}

  /**
   * @param min agents to keep running
   * @param max agents never to exceed
   * @param connected machines of the host type connected to the cluster
   * @param starting agents this pool started that have not connected yet
   * @param waiting builds queued for the host type
   * @param idle connected machines that can be leased now
   * @return how many agents to start now, 0 or more
   */
  public static int toStart(int min, int max, int connected, int starting, int waiting, int idle) {
    if (min < 0 || max < min || connected < 0 || starting < 0 || waiting < 0 || idle < 0 || idle > connected) {
      throw new IllegalArgumentException("bad pool figures: min " + min + ", max " + max + ", connected " + connected
          + ", starting " + starting + ", waiting " + waiting + ", idle " + idle);
    }
    int have = connected + starting;
    // Builds with no machine: those neither an idle machine nor an agent on its way will take.
    int forQueue = waiting - idle - starting;
    int wanted = Math.max(min - have, forQueue);
    int room = max - have;
    return Math.max(0, Math.min(wanted, room));
  }
}
