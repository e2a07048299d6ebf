package dev.grange.node.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.grange.node.buildrun.BuildRunState;
import dev.grange.node.schedule.HostPool;
import dev.grange.node.schedule.HostPoolEvents;
import java.util.Locale;

/** The public JSON shapes of /api/v1: kept apart from the persisted records so either can change. */
public final class BuildJson {
  private BuildJson() {}

  static ObjectNode build(String id, BuildRunState s) {
    ObjectNode n = ApiErrors.JSON.createObjectNode();
    n.put("id", id);
    n.put("state", state(s));
    if (s.result() != null) {
      n.put("result", s.result());
      n.put("reason", s.reason());
      n.put("finishedAtMs", s.finishedAtMs());
    }
    n.put("builder", s.spec().builder());
    n.put("hostType", s.spec().hostType());
    n.put("repo", s.spec().repo());
    n.put("rev", s.spec().rev());
    n.put("requestedRev", s.spec().requestedRev());
    n.put("subject", s.spec().subject());
    n.put("author", s.spec().author());
    n.put("priority", s.spec().priority().name().toLowerCase(Locale.ROOT).replace('_', '-'));
    n.put("user", s.spec().user());
    n.put("submittedAtMs", s.spec().submittedAtMs());
    ArrayNode steps = n.putArray("steps");
    long logOffset = 0;
    for (BuildRunState.StepResult r : s.steps()) {
      ObjectNode st = steps.addObject();
      st.put("name", r.name());
      st.put("state", s.shownState(r));
      if (r.finished()) {
        st.put("exitCode", r.exitCode());
        st.put("durationMs", r.durationMs());
        st.put("outputBytes", r.outputBytes());
        st.put("logOffset", logOffset);
        logOffset += r.outputBytes();
      }
      if (r.startMs() > 0) {
        st.put("startMs", r.startMs());
      }
    }
    ArrayNode attempts = n.putArray("attempts");
    for (BuildRunState.Attempt a : s.attempts()) {
      ObjectNode at = attempts.addObject();
      at.put("attempt", a.attempt());
      at.put("buildlet", a.agentId());
      at.put("hostname", a.hostname());
      at.put("node", a.node());
      at.put("startMs", a.startMs());
      if (a.endMs() > 0) {
        at.put("endMs", a.endMs());
      }
      if (a.cause() != null) {
        at.put("cause", a.cause());
      }
      if (a.source() != null) {
        ObjectNode src = at.putObject("source");
        src.put("from", a.source().from());
        src.put("files", a.source().files());
        src.put("bytes", a.source().bytes());
        src.put("durationMs", a.source().durationMs());
      }
      ArrayNode stages = at.putArray("stages");
      for (dev.grange.node.buildrun.BuildRunEvents.Stage st : a.stages()) {
        stages.addObject().put("name", st.name()).put("startMs", st.startMs()).put("endMs", st.endMs())
            .put("durationMs", Math.max(0, st.endMs() - st.startMs()));
      }
    }
    return n;
  }

  public static String state(BuildRunState s) {
    switch (s.status()) {
      case QUEUED:
        return "queued";
      case RUNNING:
        return "running";
      default:
        return s.result();
    }
  }

  public static ObjectNode machine(HostPool.Machine m) {
    ObjectNode b = ApiErrors.JSON.createObjectNode();
    b.put("id", m.info().agentId());
    b.put("hostType", m.info().hostType());
    b.put("hostname", m.info().hostname());
    b.put("instance", m.info().instance());
    b.put("agentVersion", m.info().version());
    b.put("os", m.info().os());
    b.put("arch", m.info().arch());
    b.put("cpus", m.info().cpus());
    b.put("node", m.info().node());
    b.put("connectedAtMs", m.info().connectedAtMs());
    b.put("state", m.idle() ? "idle" : m.leasedTo() != null ? "busy" : m.quarantined() ? "quarantined" : "unavailable");
    if (m.leasedTo() != null) {
      b.put("build", m.leasedTo());
    }
    ObjectNode failures = b.putObject("infraFailures");
    failures.put("total", m.health().infraFailures());
    failures.put("inWindow", m.health().infraFailuresInWindow());
    if (m.quarantined()) {
      ObjectNode q = b.putObject("quarantined");
      q.put("since", java.time.Instant.ofEpochMilli(m.health().quarantine().sinceMs()).toString());
      q.put("sinceMs", m.health().quarantine().sinceMs());
      q.put("reason", m.health().quarantine().reason());
    } else {
      b.putNull("quarantined");
    }
    return b;
  }

  public static ObjectNode waiter(HostPoolEvents.Waiter w, long now) {
    ObjectNode n = ApiErrors.JSON.createObjectNode();
    n.put("build", w.buildId());
    n.put("class", w.item().cls().name().toLowerCase(Locale.ROOT).replace('_', '-'));
    n.put("builder", w.builder());
    n.put("rev", w.rev());
    n.put("user", w.user());
    n.put("requestedAtMs", w.item().requestedAtMs());
    n.put("waitingMs", Math.max(0, now - w.item().requestedAtMs()));
    return n;
  }
}
