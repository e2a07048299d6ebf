package dev.grange.node.pool.cloud;

import dev.grange.protocol.model.PoolKind;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * An {@link InstanceProvider} the test drives: each create and delete is recorded with a future
 * the test completes (or, in {@code auto} mode, completed at once); {@link #list()} answers what
 * the test set; {@link #push} plays a watch event.
 */
final class FakeProvider implements InstanceProvider {
  record Create(InstanceRequest request, CompletableFuture<Instance> done) {
    void ok() {
      done.complete(new Instance(request.name(), request.hostType(), "zone-a", InstanceState.PENDING, "", 1, request.deleteAtEpochSecond()));
    }

    void fail(ProviderException.Kind kind, String message) {
      done.completeExceptionally(new ProviderException(kind, message));
    }
  }

  record Delete(Instance instance, CompletableFuture<Void> done) {}

  final BlockingQueue<Create> creates = new LinkedBlockingQueue<>();
  final BlockingQueue<Delete> deletes = new LinkedBlockingQueue<>();
  final List<Long> createNanos = new CopyOnWriteArrayList<>();
  volatile List<Instance> listed = List.of();
  volatile boolean autoCreate;
  volatile boolean autoDelete = true;
  private final List<Consumer<Instance>> watchers = new CopyOnWriteArrayList<>();

  @Override
  public PoolKind kind() {
    return PoolKind.KUBERNETES;
  }

  @Override
  public CompletionStage<Instance> create(InstanceRequest request) {
    Create c = new Create(request, new CompletableFuture<>());
    createNanos.add(System.nanoTime());
    creates.add(c);
    if (autoCreate) {
      c.ok();
    }
    return c.done();
  }

  @Override
  public CompletionStage<Void> delete(Instance instance) {
    Delete d = new Delete(instance, new CompletableFuture<>());
    deletes.add(d);
    if (autoDelete) {
      d.done().complete(null);
    }
    return d.done();
  }

  @Override
  public CompletionStage<List<Instance>> list() {
    return CompletableFuture.completedFuture(new ArrayList<>(listed));
  }

  @Override
  public AutoCloseable watch(Consumer<Instance> changed) {
    watchers.add(changed);
    return () -> watchers.remove(changed);
  }

  void push(Instance i) {
    watchers.forEach(w -> w.accept(i));
  }

  @Override
  public void close() {}

  Create nextCreate() throws InterruptedException {
    Create c = creates.poll(30, TimeUnit.SECONDS);
    if (c == null) {
      throw new AssertionError("no create call within 30 s");
    }
    return c;
  }

  Delete nextDelete() throws InterruptedException {
    Delete d = deletes.poll(30, TimeUnit.SECONDS);
    if (d == null) {
      throw new AssertionError("no delete call within 30 s");
    }
    return d;
  }
}
