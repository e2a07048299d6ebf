package dev.grange.agent.channel;

import dev.grange.protocol.wire.NodeFrame;

/**
 * The agent's side of a session: what to do with the node's greeting and requests. The {@link
 * Session} handles the frames of the channel itself (ping, pong, credit, end, binary data) and
 * hands everything else here, on the socket's listener thread, in arrival order. Implementations
 * must not block: long work goes to a worker.
 */
public interface FrameHandler {
  /** The node greeted this socket; answer {@code ready}. */
  void onHello(SessionLink link, NodeFrame.Hello hello);

  /** An operation of PROTOCOL.md section 3 (or {@code ack}). */
  void onRequest(SessionLink link, NodeFrame frame);

  /** The socket is gone; its streams are already closed. */
  void onClosed(SessionLink link);
}
