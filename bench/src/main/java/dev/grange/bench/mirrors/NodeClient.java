package dev.grange.bench.mirrors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * What bench/mirrors asks of its node over HTTP (README, "Repositories"): a signed GitHub push
 * webhook, whether a build exists yet ({@code GET /api/v1/builds/{id}}, 404 until it is queued),
 * the mirrors ({@code GET /api/v1/mirrors}) and a whole {@code /src} archive read and counted.
 * HTTP/1.1 on loopback, the JDK client (it keeps the connection). Thread-safe.
 */
final class NodeClient {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  private static final Duration ARCHIVE_TIMEOUT = Duration.ofMinutes(10);

  /** A body read to its end: bytes, nanoseconds to the response's headers and to its last byte. */
  record Download(long bytes, long headersNanos, long totalNanos) {}

  private final String base;
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

  NodeClient(String base) {
    this.base = base;
  }

  /** {@code sha256=<hex>}: GitHub's {@code X-Hub-Signature-256} of {@code body} signed with {@code secret}. */
  static String signature(String secret, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is missing from this JDK", e);
    }
  }

  /** POST /webhooks/github/{repo} as GitHub sends a push; fails unless the node answers 202. */
  void push(String repo, byte[] payload, String secret) throws IOException, InterruptedException {
    HttpRequest req = HttpRequest.newBuilder(URI.create(base + "/webhooks/github/" + repo)).timeout(TIMEOUT)
        .header("Content-Type", "application/json")
        .header("X-GitHub-Event", "push")
        .header("X-GitHub-Delivery", java.util.UUID.randomUUID().toString())
        .header("X-Hub-Signature-256", signature(secret, payload))
        .POST(HttpRequest.BodyPublishers.ofByteArray(payload)).build();
    HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 202) {
      throw new IOException("the push webhook for " + repo + " was answered " + r.statusCode() + ", not 202: " + r.body());
    }
  }

  /** GET /api/v1/builds/{id}: the build, or null while it is a 404 (not queued yet). */
  JsonNode buildOrNull(String id) throws IOException, InterruptedException {
    HttpResponse<String> r = http.send(
        HttpRequest.newBuilder(URI.create(base + "/api/v1/builds/" + id)).timeout(TIMEOUT).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() == 404) {
      return null;
    }
    if (r.statusCode() != 200) {
      throw new IOException("GET /api/v1/builds/" + id + " answered " + r.statusCode() + ": " + r.body());
    }
    return JSON.readTree(r.body());
  }

  /** GET /api/v1/mirrors. */
  JsonNode mirrors() throws IOException, InterruptedException {
    HttpResponse<String> r = http.send(
        HttpRequest.newBuilder(URI.create(base + "/api/v1/mirrors")).timeout(TIMEOUT).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IOException("GET /api/v1/mirrors answered " + r.statusCode() + ": " + r.body());
    }
    return JSON.readTree(r.body());
  }

  /** The sha branch {@code main} of mirror {@code name} is at, or null while it has none (or no such mirror). */
  String mirroredMain(String name) throws IOException, InterruptedException {
    for (JsonNode m : mirrors()) {
      if (m.path("name").asText().equals(name)) {
        String sha = m.path("branches").path("main").asText("");
        return sha.isEmpty() ? null : sha;
      }
    }
    return null;
  }

  /** GETs {@code path} and reads the whole body, counting it; fails unless the answer is 200. */
  Download download(String path) throws IOException, InterruptedException {
    long t0 = System.nanoTime();
    HttpResponse<InputStream> r = http.send(
        HttpRequest.newBuilder(URI.create(base + path)).timeout(ARCHIVE_TIMEOUT).GET().build(),
        HttpResponse.BodyHandlers.ofInputStream());
    long headers = System.nanoTime() - t0;
    try (InputStream in = r.body()) {
      if (r.statusCode() != 200) {
        throw new IOException("GET " + path + " answered " + r.statusCode() + ": "
            + new String(in.readNBytes(2000), StandardCharsets.UTF_8));
      }
      long n = count(in);
      return new Download(n, headers, System.nanoTime() - t0);
    }
  }

  /** GETs {@code path} (200) and hands its body to {@code read}, for a check that is not timed. */
  <T> T read(String path, BodyReader<T> read) throws IOException, InterruptedException {
    HttpResponse<InputStream> r = http.send(
        HttpRequest.newBuilder(URI.create(base + path)).timeout(ARCHIVE_TIMEOUT).GET().build(),
        HttpResponse.BodyHandlers.ofInputStream());
    try (InputStream in = r.body()) {
      if (r.statusCode() != 200) {
        throw new IOException("GET " + path + " answered " + r.statusCode());
      }
      return read.read(in);
    }
  }

  /** Reads a body. */
  @FunctionalInterface
  interface BodyReader<T> {
    T read(InputStream in) throws IOException;
  }

  /** Reads {@code in} to its end in 256 KiB reads; the bytes read. */
  static long count(InputStream in) throws IOException {
    byte[] buf = new byte[256 * 1024];
    long n = 0;
    for (int k; (k = in.read(buf)) >= 0; ) {
      n += k;
    }
    return n;
  }
}
