package dev.grange.bench.mirrors;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The tree of the {@code big} repository, the same on every run: {@code files} files in
 * directories of 100, every eleventh of random bytes ({@code blobNNNNN.bin}, which gzip cannot
 * shrink) holding 40% of the bytes, the others Go-like text from a small vocabulary ({@code
 * fileNNNNN.go}, which gzip shrinks a few times, as it does real source) holding 60%. Each file's
 * size is drawn from 0.2 to 1.8 times its kind's mean, so the total lands within a few percent of
 * {@code bytes}; each file's content comes from its own generator seeded from {@code seed} and its
 * index. 11,000 files of 100 MB is about the Go repository's file count at a third of its size.
 */
public final class BigTree {
  /** The seed of every run: the figures are for one tree. */
  public static final long SEED = 20261203L;

  /** One file of the tree: its path (relative, '/'-separated), size in bytes, and kind. */
  public record Entry(String path, int size, boolean binary) {}

  /** What was written: the files (the tar's regular files), their bytes, and of them the random ones. */
  public record Written(int files, long bytes, int binaryFiles, long binaryBytes) {}

  private static final int PER_DIR = 100;
  private static final int BINARY_EVERY = 11;
  private static final double BINARY_SHARE = 0.4;
  private static final String[] WORDS = {
      "func", "return", "if", "err", "!=", "nil", "{", "}", "for", "range", "var", ":=", "int", "string", "byte",
      "buf", "len(b)", "ctx", "defer", "go", "select", "case", "default", "switch", "type", "struct", "interface",
      "map[string]int", "[]byte", "make", "append(out,", "fmt.Errorf(\"%w\",", "os.Open(name)", "io.Reader", "n++",
      "i", "j", "x", "y", "0", "1", "true", "false", "package", "import", "const", "//", "the", "a", "of", "to",
  };

  private BigTree() {}

  /** The files of the tree, in order: sizes only, nothing written. */
  public static List<Entry> plan(int files, long bytes, long seed) {
    if (files < BINARY_EVERY || bytes < files) {
      throw new IllegalArgumentException("a big tree needs at least " + BINARY_EVERY + " files and a byte a file, got "
          + files + " files, " + bytes + " bytes");
    }
    int binaries = files / BINARY_EVERY;
    double binaryMean = bytes * BINARY_SHARE / binaries;
    double textMean = bytes * (1 - BINARY_SHARE) / (files - binaries);
    Random sizes = new Random(seed);
    List<Entry> out = new ArrayList<>(files);
    for (int i = 0; i < files; i++) {
      boolean binary = i % BINARY_EVERY == BINARY_EVERY - 1;
      double mean = binary ? binaryMean : textMean;
      int size = (int) Math.max(1, Math.round(mean * (0.2 + 1.6 * sizes.nextDouble())));
      String dir = String.format("pkg%03d/", i / PER_DIR);
      out.add(new Entry(dir + String.format(binary ? "blob%05d.bin" : "file%05d.go", i), size, binary));
    }
    return out;
  }

  /** Writes the tree of {@link #plan} under {@code root} (which must be empty or absent). */
  public static Written write(Path root, int files, long bytes, long seed) throws IOException {
    int bins = 0;
    long total = 0;
    long binBytes = 0;
    int index = 0;
    for (Entry e : plan(files, bytes, seed)) {
      Path p = root.resolve(e.path());
      Files.createDirectories(p.getParent());
      try (OutputStream o = Files.newOutputStream(p)) {
        o.write(content(e, new Random(seed * 1_000_003L + index)));
      }
      index++;
      total += e.size();
      if (e.binary()) {
        bins++;
        binBytes += e.size();
      }
    }
    return new Written(files, total, bins, binBytes);
  }

  /** A file's bytes: random, or lines of words (a tab, 3 to 12 words, a newline) cut to its size. */
  static byte[] content(Entry e, Random r) {
    byte[] b = new byte[e.size()];
    if (e.binary()) {
      r.nextBytes(b);
      return b;
    }
    StringBuilder sb = new StringBuilder(e.size() + 64);
    while (sb.length() < e.size()) {
      sb.append('\t');
      int words = 3 + r.nextInt(10);
      for (int w = 0; w < words; w++) {
        sb.append(WORDS[r.nextInt(WORDS.length)]).append(w + 1 < words ? ' ' : '\n');
      }
    }
    byte[] text = sb.toString().getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(text, 0, b, 0, b.length);
    b[b.length - 1] = '\n';
    return b;
  }
}
