package dev.grange.bench.farm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;

/**
 * The benchmark's client of the node's public API ({@code /api/v1}, README's API table): submit
 * a build of the benchmark repository, read a build, read its log, cancel a build, read the pools
 * and the cloud pools. HTTP/1.1 on
 * loopback, one connection per calling thread (the JDK client pools them). Thread-safe.
 */
public final class FarmApi {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  /** A build the node accepted: its id and the wall clock when the 202 arrived, in epoch ns. */
  public record Accepted(String id, long acceptedEpochNanos) {}

  private final String base;
  /** The nodes submissions go to, in turn (one for a single node). */
  private final java.util.List<String> submitBases;
  private final java.util.concurrent.atomic.AtomicInteger nextSubmit = new java.util.concurrent.atomic.AtomicInteger();
  private final String repo;
  private final String sha;
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

  public FarmApi(int port, String repo, String sha) {
    this(java.util.List.of(port), repo, sha);
  }

  /** A client of several nodes of one cluster: builds are submitted to each in turn, read from the first. */
  public FarmApi(java.util.List<Integer> ports, String repo, String sha) {
    this.submitBases = ports.stream().map(p -> "http://127.0.0.1:" + p + "/api/v1").toList();
    this.base = submitBases.get(0);
    this.repo = repo;
    this.sha = sha;
  }

  /** Wall clock in nanoseconds since the epoch (microsecond resolution on Linux). */
  public static long epochNanos() {
    Instant now = Instant.now();
    return now.getEpochSecond() * 1_000_000_000L + now.getNano();
  }

  /** POST /builds of the benchmark repository's commit; fails unless the node answers 202. */
  public Accepted submit(String builder) throws IOException, InterruptedException {
    String body = JSON.createObjectNode().put("builder", builder).put("repo", repo).put("rev", sha).toString();
    HttpResponse<String> r = http.send(
        HttpRequest.newBuilder(URI.create(submitBases.get(Math.floorMod(nextSubmit.getAndIncrement(), submitBases.size())) + "/builds")).timeout(TIMEOUT)
            .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
    long at = epochNanos();
    if (r.statusCode() != 202) {
      throw new IOException("POST /api/v1/builds answered " + r.statusCode() + ": " + r.body());
    }
    return new Accepted(JSON.readTree(r.body()).get("id").asText(), at);
  }

  /** GET /builds/{id}. */
  public JsonNode build(String id) throws IOException, InterruptedException {
    return json("/builds/" + id);
  }

  /** GET /builds/{id}/log: the whole log of a finished build. */
  public byte[] log(String id) throws IOException, InterruptedException {
    HttpResponse<byte[]> r = http.send(
        HttpRequest.newBuilder(URI.create(base + "/builds/" + id + "/log")).timeout(TIMEOUT).GET().build(),
        HttpResponse.BodyHandlers.ofByteArray());
    if (r.statusCode() != 200) {
      throw new IOException("GET log of " + id + " answered " + r.statusCode());
    }
    return r.body();
  }

  /** GET /pools. */
  public JsonNode pools() throws IOException, InterruptedException {
    return json("/pools");
  }

  /** GET /cloud-pools: one entry per cloud pool kind, with its instances. */
  public JsonNode cloudPools() throws IOException, InterruptedException {
    return json("/cloud-pools");
  }

  /** DELETE /builds/{id}: cancels a build; true when the node took it (202), false when it was over already (409). */
  public boolean cancel(String id) throws IOException, InterruptedException {
    HttpResponse<String> r = http.send(
        HttpRequest.newBuilder(URI.create(base + "/builds/" + id)).timeout(TIMEOUT).DELETE().build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 202 && r.statusCode() != 409) {
      throw new IOException("DELETE /api/v1/builds/" + id + " answered " + r.statusCode() + ": " + r.body());
    }
    return r.statusCode() == 202;
  }

  /** True when a build's JSON says it is over (ok, failed, cancelled or error). */
  public static boolean isOver(JsonNode build) {
    String state = build.get("state").asText();
    return !state.equals("queued") && !state.equals("running");
  }

  private JsonNode json(String path) throws IOException, InterruptedException {
    HttpResponse<String> r = http.send(
        HttpRequest.newBuilder(URI.create(base + path)).timeout(TIMEOUT).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IOException("GET /api/v1" + path + " answered " + r.statusCode() + ": " + r.body());
    }
    return JSON.readTree(r.body());
  }
}
