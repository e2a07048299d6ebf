package dev.grange.node.live;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.pubsub.Topic;

/**
 * How entities tell the live UI that something changed: a publish on the cluster-wide topic,
 * fire and forget (a lost note is repaired by the hubs' periodic refresh). Entities take this
 * interface so their tests need no topic.
 */
public interface LiveNotes {
  /** Tells nobody: tests, and entities created without a live UI. */
  LiveNotes NONE = new LiveNotes() {
    @Override
    public void poolChanged(String hostType) {}

    @Override
    public void buildChanged(LiveNote.BuildChanged note) {}
  };

  void poolChanged(String hostType);

  void buildChanged(LiveNote.BuildChanged note);

  /** Publishes on {@code topic}. */
  static LiveNotes on(ActorRef<Topic.Command<LiveNote>> topic) {
    return new LiveNotes() {
      @Override
      public void poolChanged(String hostType) {
        topic.tell(Topic.publish(new LiveNote.PoolChanged(hostType)));
      }

      @Override
      public void buildChanged(LiveNote.BuildChanged note) {
        topic.tell(Topic.publish(note));
      }
    };
  }
}
