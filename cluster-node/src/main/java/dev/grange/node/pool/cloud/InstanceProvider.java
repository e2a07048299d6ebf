package dev.grange.node.pool.cloud;

import dev.grange.protocol.model.PoolKind;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * Makes and deletes the machines of one kind of pool (a pod per instance on Kubernetes, a VM per
 * instance on GCE): the one narrow interface between the pool code and a cloud's SDK. No SDK type
 * crosses it: requests, instances and failures are this package's own.
 *
 * <p>A created instance runs an agent that dials out to the nodes named in the request with the
 * request's per-instance key (PROTOCOL.md section 1), like any other agent; the provider only
 * makes and deletes machines, it never talks to the agent. Every instance it makes carries labels
 * naming its host type and instance and when it must be deleted at the latest, so that {@link
 * #list()} finds what this farm owns after a crash or an earlier node generation.
 *
 * <p>Calls may be made from any thread and must not block the caller: the blocking SDK work runs on
 * the provider's own executor. Futures fail with {@link ProviderException}.
 */
public interface InstanceProvider extends AutoCloseable {

  PoolKind kind();

  /**
   * Asks for a new instance. Completes when the cloud has accepted it (the pod and its Secret are
   * created; the VM insert operation is done), not when its agent connects.
   */
  CompletionStage<Instance> create(InstanceRequest request);

  /**
   * Deletes an instance and what belongs to it (its Secret). Completes when the deletion is done or
   * accepted; an instance that is gone already completes normally.
   */
  CompletionStage<Void> delete(Instance instance);

  /** Every instance this farm owns, as the cloud sees it now (by the farm's labels). */
  CompletionStage<List<Instance>> list();

  /**
   * Tells {@code changed} of every change of an owned instance's state as the cloud reports it
   * (Kubernetes: the pod watch); a provider without push notifications never calls it and the
   * pool's janitor lists instead. The returned handle stops the notifications.
   */
  AutoCloseable watch(Consumer<Instance> changed);

  /** Stops the provider's clients and threads. */
  @Override
  void close();
}
