package dev.grange.bench.dispatch;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The clocks of one finished build. {@code acceptedNs} is the driver's wall clock when the 202
 * arrived; {@code firstByteNs} the agent-side wall clock the build's step printed as its first
 * output ({@code date +%s%N}), or -1 when the step prints something else; the {@code *Ms} fields
 * are the node's own timestamps from {@code GET /api/v1/builds/{id}} (submitted, attempt started
 * on a buildlet, step started, finished). All are one machine's CLOCK_REALTIME.
 */
public record BuildTiming(
    String id,
    String state,
    long acceptedNs,
    long firstByteNs,
    long submittedAtMs,
    long attemptStartMs,
    long stepStartMs,
    long finishedAtMs,
    long stepDurationMs,
    long outputBytes) {

  /** Reads the node's timestamps from a finished build's JSON. */
  static BuildTiming of(JsonNode build, long acceptedNs) {
    JsonNode step = build.get("steps").get(0);
    JsonNode attempts = build.get("attempts");
    return new BuildTiming(
        build.get("id").asText(),
        build.get("state").asText(),
        acceptedNs,
        -1,
        build.get("submittedAtMs").asLong(),
        attempts.isEmpty() ? 0 : attempts.get(attempts.size() - 1).get("startMs").asLong(),
        step.path("startMs").asLong(0),
        build.path("finishedAtMs").asLong(0),
        step.path("durationMs").asLong(0),
        step.path("outputBytes").asLong(0));
  }

  BuildTiming withFirstByte(long epochNs) {
    return new BuildTiming(id, state, acceptedNs, epochNs, submittedAtMs, attemptStartMs, stepStartMs, finishedAtMs,
        stepDurationMs, outputBytes);
  }

  boolean ok() {
    return state.equals("ok");
  }

  double acceptedMs() {
    return acceptedNs / 1e6;
  }

  /** 202 received -> the step's first output byte on the agent. */
  double dispatchMs() {
    return (firstByteNs - acceptedNs) / 1e6;
  }

  /** 202 received -> the node decided the build finished (its BuildFinished timestamp). */
  double endToEndMs() {
    return finishedAtMs - acceptedMs();
  }
}
