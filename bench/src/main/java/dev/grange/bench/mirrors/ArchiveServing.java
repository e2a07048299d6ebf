package dev.grange.bench.mirrors;

import dev.grange.bench.report.Percentiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Archive serving of the {@code big} repository at its one commit: {@code GET
 * /src/big.tar.gz?rev=<sha>} cold (the node's first request for it: it makes the gzip'd tar from
 * its mirror, caches it, then streams it) and warm (streamed from that cache), each body read to
 * its end and counted by the driver; beside it {@code sh -c 'git archive --format=tar <sha> |
 * gzip'} in the upstream, its output read and counted the same way, on the same machine. Then,
 * not timed, the served archive is read through gunzip and tar: it must hold exactly the tree's
 * files with exactly their bytes, or the run fails, so the figure is for a real archive.
 */
final class ArchiveServing {
  /** One timed transfer: bytes read, seconds to the first header (cold: the archive's making) and to the end. */
  record Timed(long bytes, double headersSeconds, double seconds) {}

  /** The tree and what serving it took. */
  record Result(int files, long treeBytes, long servedBytes, long gitArchiveBytes, Timed cold, List<Timed> warm,
      List<Timed> gitArchive, int tarFiles, long tarFileBytes) {
    Timed warmMedian() {
      return median(warm);
    }

    Timed gitArchiveMedian() {
      return median(gitArchive);
    }

    private static Timed median(List<Timed> all) {
      double p50 = Percentiles.of(all.stream().map(Timed::seconds).toList()).p50();
      return all.stream().filter(t -> t.seconds() == p50).findFirst().orElseThrow();
    }
  }

  private final NodeClient node;
  private final PrintStream out;

  ArchiveServing(NodeClient node, PrintStream out) {
    this.node = node;
    this.out = out;
  }

  Result run(Upstream big, String sha, BigTree.Written tree, int warmRuns, int gitRuns) throws Exception {
    String path = "/src/big.tar.gz?rev=" + sha;
    Timed cold = timed(node.download(path));
    out.printf("  /src cold: %,d bytes in %.2f s (%.2f s before the first byte: making the archive)%n", cold.bytes(),
        cold.seconds(), cold.headersSeconds());
    List<Timed> warm = new ArrayList<>();
    for (int i = 1; i <= warmRuns; i++) {
      Timed t = timed(node.download(path));
      sameBytes("warm /src " + i, cold.bytes(), t.bytes());
      warm.add(t);
      out.printf("  /src warm %d/%d: %,d bytes in %.2f s%n", i, warmRuns, t.bytes(), t.seconds());
    }
    List<Timed> git = new ArrayList<>();
    for (int i = 1; i <= gitRuns; i++) {
      Timed t = gitArchive(big, sha);
      git.add(t);
      out.printf("  git archive | gzip %d/%d: %,d bytes in %.2f s%n", i, gitRuns, t.bytes(), t.seconds());
    }
    long gitBytes = git.get(0).bytes();
    // Both are gzip -6 of nearly the same tar (headers differ): a far smaller output means git failed.
    if (gitBytes < cold.bytes() * 0.9 || gitBytes > cold.bytes() * 1.1) {
      throw new IOException("git archive | gzip wrote " + gitBytes + " bytes against the node's " + cold.bytes()
          + ": not the same tree?");
    }
    long[] content = node.read(path, ArchiveServing::tarFiles);
    if (content[0] != tree.files() || content[1] != tree.bytes()) {
      throw new IOException("the archive served holds " + content[0] + " files of " + content[1] + " bytes; the tree has "
          + tree.files() + " files of " + tree.bytes() + " bytes (and one README)");
    }
    out.printf("  checked: the archive served holds the tree's %,d files, %,d bytes%n", content[0], content[1]);
    return new Result(tree.files(), tree.bytes(), cold.bytes(), gitBytes, cold, warm, git, (int) content[0], content[1]);
  }

  /**
   * The regular files of a gzip'd tar and their bytes, the upstream's README left out (it is not
   * part of the generated tree).
   */
  static long[] tarFiles(InputStream tgz) throws IOException {
    long files = 0;
    long bytes = 0;
    try (TarArchiveInputStream tar = new TarArchiveInputStream(new GZIPInputStream(tgz, 1 << 16))) {
      for (TarArchiveEntry e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
        if (e.isFile() && !e.getName().equals("README")) {
          files++;
          bytes += NodeClient.count(tar);
        }
      }
    }
    return new long[] {files, bytes};
  }

  private Timed gitArchive(Upstream big, String sha) throws IOException, InterruptedException {
    long t0 = System.nanoTime();
    Process p = big.start(List.of("sh", "-c", "git archive --format=tar " + sha + " | gzip"));
    CompletableFuture<byte[]> err = Upstream.drain(p.getErrorStream());
    long n;
    try (InputStream in = p.getInputStream()) {
      n = NodeClient.count(in);
    }
    if (!p.waitFor(10, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new IOException("git archive | gzip did not end within 10 minutes");
    }
    long t = System.nanoTime() - t0;
    String stderr = new String(err.join(), StandardCharsets.UTF_8).strip();
    if (p.exitValue() != 0 || !stderr.isEmpty()) {
      throw new IOException("git archive | gzip in " + big.dir() + " exited " + p.exitValue() + ": " + stderr);
    }
    return new Timed(n, t / 1e9, t / 1e9);
  }

  private static Timed timed(NodeClient.Download d) {
    return new Timed(d.bytes(), d.headersNanos() / 1e9, d.totalNanos() / 1e9);
  }

  private static void sameBytes(String what, long expected, long got) throws IOException {
    if (expected != got) {
      throw new IOException(what + ": " + got + " bytes served, the first request had " + expected
          + " (an archive is the same bytes every time)");
    }
  }
}
