package dev.grange.protocol.wire;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.annotation.JsonTypeName;
import java.util.List;

/**
 * A text frame the node sends to an agent: the greeting, the operations of PROTOCOL.md section
 * 3, and the shared frames of {@link Frame}. Every operation that is answered carries a positive
 * {@code id}, echoed by its answer.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, include = JsonTypeInfo.As.PROPERTY, property = "op")
@JsonSubTypes({
  @JsonSubTypes.Type(NodeFrame.Hello.class),
  @JsonSubTypes.Type(NodeFrame.StatusRequest.class),
  @JsonSubTypes.Type(NodeFrame.Exec.class),
  @JsonSubTypes.Type(NodeFrame.Cancel.class),
  @JsonSubTypes.Type(NodeFrame.Resume.class),
  @JsonSubTypes.Type(NodeFrame.Ack.class),
  @JsonSubTypes.Type(NodeFrame.Forget.class),
  @JsonSubTypes.Type(NodeFrame.PutTar.class),
  @JsonSubTypes.Type(NodeFrame.PutTarUrl.class),
  @JsonSubTypes.Type(NodeFrame.GetTar.class),
  @JsonSubTypes.Type(NodeFrame.WriteFile.class),
  @JsonSubTypes.Type(NodeFrame.Ls.class),
  @JsonSubTypes.Type(NodeFrame.RemoveAll.class),
  @JsonSubTypes.Type(NodeFrame.Halt.class),
  @JsonSubTypes.Type(NodeFrame.Closing.class),
  @JsonSubTypes.Type(Frame.Ping.class),
  @JsonSubTypes.Type(Frame.Pong.class),
  @JsonSubTypes.Type(Frame.Credit.class),
  @JsonSubTypes.Type(Frame.End.class)
})
public sealed interface NodeFrame extends Frame
    permits NodeFrame.Hello,
        NodeFrame.StatusRequest,
        NodeFrame.Exec,
        NodeFrame.Cancel,
        NodeFrame.Resume,
        NodeFrame.Ack,
        NodeFrame.Forget,
        NodeFrame.PutTar,
        NodeFrame.PutTarUrl,
        NodeFrame.GetTar,
        NodeFrame.WriteFile,
        NodeFrame.Ls,
        NodeFrame.RemoveAll,
        NodeFrame.Halt,
        NodeFrame.Closing,
        Frame.Ping,
        Frame.Pong,
        Frame.Credit,
        Frame.End {

  /** An operation that is answered: it carries a positive id unique within the session. */
  interface Request {
    long id();
  }

  /** A request that opens a stream the node chose. */
  interface Streaming extends Request {
    int stream();
  }

  /** The first frame after the upgrade. */
  @JsonTypeName("hello")
  record Hello(String session, long heartbeatMs, long graceMs) implements NodeFrame {
    public Hello {
      Check.required("hello", "session", session);
      if (heartbeatMs <= 0) {
        throw new ProtocolException("hello: heartbeatMs must be positive, got " + heartbeatMs);
      }
      Check.nonNegative("hello", "graceMs", graceMs);
    }
  }

  /** Asks for the agent's status; answered by {@link AgentFrame.StatusReply}. */
  @JsonTypeName("status")
  record StatusRequest(long id) implements NodeFrame, Request {
    public StatusRequest {
      Check.id("status", id);
    }
  }

  /**
   * Runs a command. Answered by {@link AgentFrame.Started} or an error; output follows on {@code
   * stream} (stdout and stderr share one offset sequence), then {@link AgentFrame.Exit}.
   *
   * @param env "K=V" entries appended to the agent's base environment
   * @param path PATH entries; may use {@code $PATH}, {@code $WORKDIR}, {@code $EMPTY}
   * @param sys the command is a system command (not resolved in the workdir)
   * @param timeoutMs 0 for none
   */
  @JsonTypeName("exec")
  record Exec(
      long id,
      String execId,
      String cmd,
      List<String> args,
      List<String> env,
      String dir,
      List<String> path,
      boolean sys,
      long timeoutMs,
      int stream)
      implements NodeFrame, Streaming {
    public Exec {
      Check.id("exec", id);
      Check.required("exec", "execId", execId);
      Check.required("exec", "cmd", cmd);
      args = Check.list("exec", "args", args);
      env = Check.list("exec", "env", env);
      for (String e : env) {
        if (e.indexOf('=') <= 0) {
          throw new ProtocolException("exec: env entry must be K=V, got \"" + e + "\"");
        }
      }
      dir = dir == null || dir.isEmpty() ? "." : dir;
      path = Check.list("exec", "path", path);
      Check.nonNegative("exec", "timeoutMs", timeoutMs);
      Check.stream("exec", stream);
    }
  }

  /** Kills the process tree of an execution; answered by ok, then its exit follows. */
  @JsonTypeName("cancel")
  record Cancel(long id, String execId) implements NodeFrame, Request {
    public Cancel {
      Check.id("cancel", id);
      Check.required("cancel", "execId", execId);
    }
  }

  /** Resumes the output of an execution from before a reconnect, from {@code fromOffset}. */
  @JsonTypeName("resume")
  record Resume(long id, String execId, long fromOffset, int stream)
      implements NodeFrame, Streaming {
    public Resume {
      Check.id("resume", id);
      Check.required("resume", "execId", execId);
      Check.nonNegative("resume", "fromOffset", fromOffset);
      Check.stream("resume", stream);
    }
  }

  /** The node has persisted an execution's output below {@code offset}; not answered. */
  @JsonTypeName("ack")
  record Ack(String execId, long offset) implements NodeFrame {
    public Ack {
      Check.required("ack", "execId", execId);
      Check.nonNegative("ack", "offset", offset);
    }
  }

  /**
   * The node has persisted the end of an execution (its exit and all its output): the agent drops
   * it. Until then the agent keeps an exited execution, so that a node that lost the exit (its
   * socket or the build's node went away) can resume it and hear the exit again. Not answered.
   */
  @JsonTypeName("forget")
  record Forget(String execId) implements NodeFrame {
    public Forget {
      Check.required("forget", "execId", execId);
    }
  }

  /** The node sends a tar (gzip'd when {@code gzip}) on {@code stream} to extract under dir. */
  @JsonTypeName("put_tar")
  record PutTar(long id, String dir, int stream, boolean gzip) implements NodeFrame, Streaming {
    public PutTar {
      Check.id("put_tar", id);
      dir = dir == null || dir.isEmpty() ? "." : dir;
      Check.stream("put_tar", stream);
    }
  }

  /** The agent fetches a gzip'd tar from a node endpoint and extracts it under dir. */
  @JsonTypeName("put_tar_url")
  record PutTarUrl(long id, String dir, String url) implements NodeFrame, Request {
    public PutTarUrl {
      Check.id("put_tar_url", id);
      dir = dir == null || dir.isEmpty() ? "." : dir;
      Check.required("put_tar_url", "url", url);
    }
  }

  /** The agent sends a gzip'd tar of dir on {@code stream}, then end. */
  @JsonTypeName("get_tar")
  record GetTar(long id, String dir, int stream) implements NodeFrame, Streaming {
    public GetTar {
      Check.id("get_tar", id);
      dir = dir == null || dir.isEmpty() ? "." : dir;
      Check.stream("get_tar", stream);
    }
  }

  /** The node sends a regular file's bytes on {@code stream}; mode is an octal string. */
  @JsonTypeName("write_file")
  record WriteFile(long id, String path, String mode, int stream)
      implements NodeFrame, Streaming {
    public WriteFile {
      Check.id("write_file", id);
      Check.required("write_file", "path", path);
      mode = mode == null || mode.isEmpty() ? "644" : mode;
      if (!mode.matches("0?[0-7]{1,4}")) {
        throw new ProtocolException("write_file: mode must be an octal string like 644, got \"" + mode + "\"");
      }
      Check.stream("write_file", stream);
    }

    /** The permission bits, masked to 0777. */
    public int modeBits() {
      return Integer.parseInt(mode, 8) & 0777;
    }
  }

  /** Lists a directory; answered by ls_page frames then ok. */
  @JsonTypeName("ls")
  record Ls(long id, String dir, boolean recursive, boolean digest, List<String> skip)
      implements NodeFrame, Request {
    public Ls {
      Check.id("ls", id);
      dir = dir == null || dir.isEmpty() ? "." : dir;
      skip = Check.list("ls", "skip", skip);
    }
  }

  /** Removes paths recursively; "." empties the workdir. */
  @JsonTypeName("remove_all")
  record RemoveAll(long id, List<String> paths) implements NodeFrame, Request {
    public RemoveAll {
      Check.id("remove_all", id);
      paths = Check.list("remove_all", "paths", paths);
      if (paths.isEmpty()) {
        throw new ProtocolException("remove_all: paths must not be empty");
      }
    }
  }

  /** Stops the agent's executions and the agent. */
  @JsonTypeName("halt")
  record Halt(long id) implements NodeFrame, Request {
    public Halt {
      Check.id("halt", id);
    }
  }

  /**
   * The node is about to close the socket, and why: {@code code} is the WebSocket close code the
   * protocol names (1008 policy violation, 4000 replaced). Sent because the node's WebSocket
   * server can only close with 1000; an agent treats the socket as closed with {@code code}.
   */
  @JsonTypeName("closing")
  record Closing(int code, String reason) implements NodeFrame {
    public Closing {
      reason = reason == null ? "" : reason;
    }
  }
}
