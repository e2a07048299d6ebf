package dev.grange.node.live;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.pubsub.Topic;

/**
 * The node's handle on the cluster-wide live UI topic, one per actor system: entities reach it
 * with {@code LiveTopic.get(system).notes()} instead of having it passed through every factory.
 */
public final class LiveTopic implements Extension {
  public static final ExtensionId<LiveTopic> ID = new ExtensionId<>() {
    @Override
    public LiveTopic createExtension(ActorSystem<?> system) {
      return new LiveTopic(system.systemActorOf(Topic.create(LiveNote.class, "grange-live"), "live-topic", Props.empty()));
    }
  };

  private final ActorRef<Topic.Command<LiveNote>> topic;
  private final LiveNotes notes;

  private LiveTopic(ActorRef<Topic.Command<LiveNote>> topic) {
    this.topic = topic;
    this.notes = LiveNotes.on(topic);
  }

  public static LiveTopic get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  public ActorRef<Topic.Command<LiveNote>> topic() {
    return topic;
  }

  public LiveNotes notes() {
    return notes;
  }
}
