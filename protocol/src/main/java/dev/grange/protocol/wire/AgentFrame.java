package dev.grange.protocol.wire;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.annotation.JsonTypeName;
import java.util.List;

/**
 * A text frame an agent sends to the node: the answers of PROTOCOL.md section 3, the
 * unprompted {@code exit} and {@code draining}, and the shared frames of {@link Frame}.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, include = JsonTypeInfo.As.PROPERTY, property = "op")
@JsonSubTypes({
  @JsonSubTypes.Type(AgentFrame.Ready.class),
  @JsonSubTypes.Type(AgentFrame.StatusReply.class),
  @JsonSubTypes.Type(AgentFrame.Started.class),
  @JsonSubTypes.Type(AgentFrame.Exit.class),
  @JsonSubTypes.Type(AgentFrame.Ok.class),
  @JsonSubTypes.Type(AgentFrame.LsPage.class),
  @JsonSubTypes.Type(AgentFrame.Error.class),
  @JsonSubTypes.Type(AgentFrame.Draining.class),
  @JsonSubTypes.Type(Frame.Ping.class),
  @JsonSubTypes.Type(Frame.Pong.class),
  @JsonSubTypes.Type(Frame.Credit.class),
  @JsonSubTypes.Type(Frame.End.class)
})
public sealed interface AgentFrame extends Frame
    permits AgentFrame.Ready,
        AgentFrame.StatusReply,
        AgentFrame.Started,
        AgentFrame.Exit,
        AgentFrame.Ok,
        AgentFrame.LsPage,
        AgentFrame.Error,
        AgentFrame.Draining,
        Frame.Ping,
        Frame.Pong,
        Frame.Credit,
        Frame.End {

  /** An answer to the request with the same id. */
  interface Answer {
    long id();
  }

  /** An execution still alive on the agent from before a reconnect. */
  record RunningExec(String execId, long outputBytes) {
    public RunningExec {
      Check.required("ready", "running[].execId", execId);
      Check.nonNegative("ready", "running[].outputBytes", outputBytes);
    }
  }

  /** The agent's answer to hello. */
  @JsonTypeName("ready")
  record Ready(
      String workdir, String os, String arch, int cpus, int version, List<RunningExec> running)
      implements AgentFrame {
    public Ready {
      Check.required("ready", "workdir", workdir);
      Check.required("ready", "os", os);
      Check.required("ready", "arch", arch);
      if (cpus <= 0) {
        throw new ProtocolException("ready: cpus must be positive, got " + cpus);
      }
      running = Check.list("ready", "running", running);
    }
  }

  /** Answer to status. */
  @JsonTypeName("status")
  record StatusReply(
      long id, int version, long uptimeMs, double load, long diskFreeBytes, int running)
      implements AgentFrame, Answer {
    public StatusReply {
      Check.id("status", id);
    }
  }

  /** An exec started: its process id. */
  @JsonTypeName("started")
  record Started(long id, String execId, long pid) implements AgentFrame, Answer {
    public Started {
      Check.id("started", id);
    }
  }

  /**
   * How an execution ended; unprompted, after its output. {@code state} is "ok", "exit status
   * N", "signal: S", "timeout" or "start failed: ...", see {@link ExitStates}.
   */
  @JsonTypeName("exit")
  record Exit(String execId, String state, int exitCode, long durationMs, long outputBytes)
      implements AgentFrame {
    public Exit {
      Check.required("exit", "execId", execId);
      Check.required("exit", "state", state);
      Check.nonNegative("exit", "durationMs", durationMs);
      Check.nonNegative("exit", "outputBytes", outputBytes);
    }

    public boolean succeeded() {
      return ExitStates.OK.equals(state);
    }
  }

  /** Success; {@code files} and {@code bytes} are set by put_tar, null otherwise. */
  @JsonTypeName("ok")
  record Ok(long id, Long files, Long bytes) implements AgentFrame, Answer {
    public Ok {
      Check.id("ok", id);
    }

    public static Ok of(long id) {
      return new Ok(id, null, null);
    }
  }

  /** One entry of a directory listing. {@code sha1} is set for regular files when asked. */
  record LsEntry(String name, String mode, long size, long mtime, String sha1) {
    public LsEntry {
      Check.required("ls_page", "entries[].name", name);
      Check.required("ls_page", "entries[].mode", mode);
    }
  }

  /** A page of an ls answer; the last page is followed by ok. */
  @JsonTypeName("ls_page")
  record LsPage(long id, List<LsEntry> entries) implements AgentFrame, Answer {
    public LsPage {
      Check.id("ls_page", id);
      entries = Check.list("ls_page", "entries", entries);
    }
  }

  /** A refused or failed request; id is 0 when no request can be named. */
  @JsonTypeName("error")
  record Error(long id, ErrorCode code, String message) implements AgentFrame, Answer {
    public Error {
      Check.nonNegative("error", "id", id);
      if (code == null) {
        throw new ProtocolException("error: code is required");
      }
      message = message == null ? "" : message;
    }
  }

  /** The agent was asked to stop: it takes no new exec. */
  @JsonTypeName("draining")
  record Draining(String reason) implements AgentFrame {
    public Draining {
      reason = reason == null ? "" : reason;
    }
  }
}
