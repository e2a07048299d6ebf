package dev.grange.node.pool.cloud;

/** An instance's state as its cloud reports it, in the pool's words. */
public enum InstanceState {
  /** Accepted, not running yet (a pod scheduled or pulling its image, a VM provisioning or staging). */
  PENDING,
  /** Running: its agent should dial in. */
  RUNNING,
  /** Failed or stopped by itself (a pod Failed or Succeeded, a VM TERMINATED): to be deleted. */
  FAILED,
  /** Deleted or being deleted. */
  GONE
}
