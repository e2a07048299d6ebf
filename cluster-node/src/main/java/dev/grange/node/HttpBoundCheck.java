package dev.grange.node;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.actor.typed.javadsl.Adapter;

/**
 * The readiness check of Pekko Management ({@code GET /ready}) that holds while the node's HTTP
 * port (API and buildlet WebSocket) is bound: {@link GrangeNode} marks it bound once the bind
 * succeeded and unbound when coordinated shutdown unbinds it. Together with the cluster
 * membership check ({@code ready-states = ["Up"]}) a node is ready when it is an Up member that
 * can take requests and agents. Named in {@code pekko.management.health-checks.readiness-checks};
 * Pekko Management creates it with the classic actor system.
 */
public final class HttpBoundCheck implements Supplier<CompletionStage<Boolean>> {
  private final State state;

  public HttpBoundCheck(org.apache.pekko.actor.ActorSystem classic) {
    this.state = Adapter.toTyped(classic).registerExtension(State.ID);
  }

  @Override
  public CompletionStage<Boolean> get() {
    return CompletableFuture.completedFuture(state.bound.get());
  }

  /** Marks this system's HTTP port bound (true) or unbound (false). */
  public static void mark(ActorSystem<?> system, boolean bound) {
    system.registerExtension(State.ID).bound.set(bound);
  }

  /** Whether the port is bound, per actor system (tests run several in one JVM). */
  static final class State implements Extension {
    static final ExtensionId<State> ID = new ExtensionId<>() {
      @Override
      public State createExtension(ActorSystem<?> system) {
        return new State();
      }
    };

    private final AtomicBoolean bound = new AtomicBoolean();
  }
}
