package dev.grange.agent.channel;

import dev.grange.protocol.wire.AgentFrame;
import dev.grange.protocol.wire.DataFrame;
import java.net.URI;
import java.util.concurrent.CompletableFuture;

/**
 * What an operation sees of the socket it was asked on: send answers and binary frames, open
 * the streams its request named. One per connected socket; a reconnect makes a new one, so an
 * operation that outlives its socket finds its sends failing and its streams closed.
 */
public interface SessionLink {
  /** The node URL this socket is connected to. */
  URI node();

  /** The node's session id from {@code hello}, or "" before it. */
  String sessionId();

  /** Queues a text frame; completes when it is written, fails when the socket is gone. */
  CompletableFuture<Void> send(AgentFrame frame);

  /** Queues a binary frame, in order with text frames. */
  CompletableFuture<Void> send(DataFrame frame);

  /**
   * Opens a stream the node sends on (put_tar, write_file): from now on its binary frames go to
   * the returned stream, within the credit it grants.
   *
   * @throws OpException bad_request when that stream is already open in this session
   */
  InboundStream openInbound(int stream) throws OpException;

  /**
   * Opens a stream the agent sends on (exec output, get_tar): the node's {@code credit} frames
   * for it go to the returned gate.
   *
   * @throws OpException bad_request when that stream is already open in this session
   */
  CreditGate openOutbound(int stream) throws OpException;

  /** Forgets an outbound stream (after its last frame) and closes its gate. */
  void closeOutbound(CreditGate gate);

  /** True until the socket is gone. */
  boolean isOpen();

  /** Closes the socket with this code (e.g. 1000 after halt). */
  void close(int code, String reason);
}
