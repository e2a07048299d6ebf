package dev.grange.node.source;

import dev.grange.mirror.GitSsh;
import dev.grange.node.source.SourceException.Kind;
import java.io.BufferedOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.GZIPOutputStream;
import org.eclipse.jgit.errors.AmbiguousObjectException;
import org.eclipse.jgit.errors.IncorrectObjectTypeException;
import org.eclipse.jgit.errors.MissingObjectException;
import org.eclipse.jgit.errors.RevisionSyntaxException;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevObject;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the source of a build: resolves a submission's rev to a full commit and makes the gzip'd
 * tar of that commit's tree that is shipped to the buildlet.
 *
 * <p>A repo is a remote URL (https, ssh or scp-style {@code user@host:path}, git, file; ssh with
 * the node's {@link GitSsh}) or a repository on this node's disk (a working
 * clone or a bare repository). Remotes are fetched into bare mirrors under {@code
 * <cacheDir>/mirrors} (branches and tags, at most one fetch per repository every {@code
 * minFetchInterval}); local repositories are read in place. Archives are kept under {@code
 * <cacheDir>/archives/<repo>/<sha>.tar.gz}: written to a temporary file and renamed, so a reader
 * never sees a partial one, and made once however many builds ask for the same commit at the same
 * time.
 *
 * <p>A configured repository whose {@code RepoMirror} runs on this node has a live bare mirror
 * already ({@link KnownMirrors}): a commit asked for by its full sha (a post-submit build's
 * source, {@code /src}) is read from there first, so it is not fetched a second time into the
 * cache.
 *
 * <p>Plain blocking code: callers run it on a blocking dispatcher. Thread-safe. Archives are kept
 * within {@link #limitArchives} (least recently served deleted first, {@link ArchiveCache}); the
 * cache's bare mirrors are not evicted (one per remote repository built from).
 */
public final class Sources {

  private static final Logger log = LoggerFactory.getLogger(Sources.class);

  /** How often a repository may be fetched, unless told otherwise. */
  public static final Duration DEFAULT_MIN_FETCH_INTERVAL = Duration.ofSeconds(5);

  /** How long a fetch may wait on a silent remote before it is given up. */
  public static final Duration DEFAULT_FETCH_TIMEOUT = Duration.ofMinutes(2);

  /** The live bare mirror the node keeps of a URL elsewhere (a configured repository's), if any. */
  public interface KnownMirrors {
    KnownMirrors NONE = url -> java.util.Optional.empty();

    java.util.Optional<Path> of(String url);
  }

  /** The commit a rev resolved to. {@code author} is "Name &lt;email&gt;". */
  public record Commit(String sha, long commitTimeMs, String author, String subject) {}

  private final Path mirrorsDir;
  private final Path archivesDir;
  private final Duration minFetchInterval;
  private final Duration fetchTimeout;
  private final KnownMirrors known;
  private final GitSsh ssh;
  private final ConcurrentHashMap<String, Mirror> mirrors = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Path, CompletableFuture<Path>> archiving = new ConcurrentHashMap<>();
  private volatile long archivesMaxBytes = Long.MAX_VALUE;

  public Sources(Path cacheDir) {
    this(cacheDir, KnownMirrors.NONE);
  }

  public Sources(Path cacheDir, KnownMirrors known) {
    this(cacheDir, DEFAULT_MIN_FETCH_INTERVAL, DEFAULT_FETCH_TIMEOUT, known);
  }

  public Sources(Path cacheDir, Duration minFetchInterval, Duration fetchTimeout) {
    this(cacheDir, minFetchInterval, fetchTimeout, KnownMirrors.NONE);
  }

  public Sources(Path cacheDir, Duration minFetchInterval, Duration fetchTimeout, KnownMirrors known) {
    this(cacheDir, minFetchInterval, fetchTimeout, known, GitSsh.NONE);
  }

  /** Sources whose ssh remotes ({@code ssh://}, {@code user@host:path}) are fetched with {@code ssh}. */
  public Sources(Path cacheDir, Duration minFetchInterval, Duration fetchTimeout, KnownMirrors known, GitSsh ssh) {
    Path root = cacheDir.toAbsolutePath().normalize();
    this.mirrorsDir = root.resolve("mirrors");
    this.archivesDir = root.resolve("archives");
    this.minFetchInterval = minFetchInterval;
    this.fetchTimeout = fetchTimeout;
    this.known = known;
    this.ssh = ssh;
  }

  /**
   * Keeps the archives within {@code maxBytes} from now on, the least recently served deleted
   * first ({@code grange.serve.archives-max}); unbounded unless told.
   */
  public Sources limitArchives(long maxBytes) {
    if (maxBytes < 1) {
      throw new IllegalArgumentException("grange.serve.archives-max must be positive");
    }
    this.archivesMaxBytes = maxBytes;
    return this;
  }

  /**
   * The full commit that {@code rev} names in {@code repo}: a full or abbreviated sha, a branch, a
   * tag (peeled to its commit), HEAD, or any of these with {@code ^}/{@code ~} suffixes. A remote is
   * fetched first, unless it was fetched less than the minimum interval ago; a rev it does not
   * know yet makes it fetch once more (waiting out the interval), so a commit pushed seconds before
   * it is submitted is still found.
   *
   * @throws SourceException BAD_REPO, BAD_REV, REPO_UNREACHABLE or UNKNOWN_REV
   * @throws UncheckedIOException if the cache directory cannot be written
   */
  public Commit resolve(String repo, String rev) throws SourceException {
    RepoLocation loc = RepoLocation.parse(repo);
    String checked = Revs.check(rev, loc);
    return lookup(loc, checked, Revs.isFullSha(checked), r -> commitOf(r, checked, loc));
  }

  /**
   * The gzip'd tar of the tree at commit {@code sha} (a full 40-hex sha) of {@code repo}: every
   * directory, file (mode 0644, or 0755 with git's executable bit) and symlink (its target as
   * stored in git, which may point outside the tree) under relative names, submodules left out,
   * mtime the commit time, uid/gid 0. The same commit always gives the same bytes. The file is the
   * cache's: callers read it and leave it in place.
   *
   * @throws SourceException BAD_REPO, BAD_REV (not a full sha), REPO_UNREACHABLE or UNKNOWN_REV
   * @throws UncheckedIOException if the cache directory cannot be written
   */
  public Path archive(String repo, String sha) throws SourceException {
    RepoLocation loc = RepoLocation.parse(repo);
    String id = Revs.checkFullSha(sha, loc);
    Path target = archivesDir.resolve(loc.cacheKey()).resolve(id + ".tar.gz");
    if (Files.isRegularFile(target)) {
      ArchiveCache.used(target);
      return target;
    }
    CompletableFuture<Path> mine = new CompletableFuture<>();
    CompletableFuture<Path> running = archiving.putIfAbsent(target, mine);
    if (running != null) {
      return await(running);
    }
    try {
      if (!Files.isRegularFile(target)) {
        lookup(loc, id, true, r -> writeArchive(r, id, loc, target));
        ArchiveCache.trim(archivesDir, archivesMaxBytes, target);
      }
      mine.complete(target);
      return target;
    } catch (SourceException | RuntimeException | Error e) {
      mine.completeExceptionally(e);
      throw e;
    } finally {
      archiving.remove(target, mine);
    }
  }

  /** Reads a repository; returns null when the rev is not (yet) in it. */
  private interface RepoRead<T> {
    T apply(Repository repo) throws SourceException, IOException;
  }

  /**
   * Runs {@code read} on the repository, fetching a remote first (rate-limited) and once more if
   * the rev is missing. An immutable full sha already in the mirror needs no fetch at all.
   */
  private <T> T lookup(RepoLocation loc, String rev, boolean fullSha, RepoRead<T> read)
      throws SourceException {
    T found;
    if (loc instanceof RepoLocation.Local local) {
      found = readLocal(local, read);
    } else {
      RepoLocation.Remote remote = (RepoLocation.Remote) loc;
      found = fullSha ? readKnown(remote, read) : null;
      if (found != null) {
        return found;
      }
      Mirror mirror = mirror(remote);
      long start = System.nanoTime();
      found = fullSha && mirror.exists() ? readMirror(mirror, read) : null;
      if (found == null) {
        mirror.fetch(start - mirror.minIntervalNanos());
        found = readMirror(mirror, read);
      }
      if (found == null) {
        mirror.fetch(start);
        found = readMirror(mirror, read);
      }
    }
    if (found == null) {
      throw new SourceException(
          Kind.UNKNOWN_REV,
          "Rev '" + rev + "' is not a branch, tag or commit of " + loc.display()
              + (loc instanceof RepoLocation.Remote
                  ? " (fetched just now; only branches and tags are mirrored, so a commit must be"
                      + " on one of them)"
                  : ""));
    }
    return found;
  }

  private Mirror mirror(RepoLocation.Remote remote) {
    return mirrors.computeIfAbsent(
        remote.url(), u -> new Mirror(remote, mirrorsDir.resolve(remote.cacheKey() + ".git"), minFetchInterval, fetchTimeout, ssh));
  }

  /** From the live mirror the node keeps of this URL, if it has one and the rev is in it; else null. */
  private <T> T readKnown(RepoLocation.Remote remote, RepoRead<T> read) throws SourceException {
    Path dir = known.of(remote.url()).orElse(null);
    if (dir == null) {
      return null;
    }
    try (Repository repo = new FileRepositoryBuilder().setGitDir(dir.toFile()).setBare().setMustExist(true).build()) {
      return read.apply(repo);
    } catch (IOException e) {
      // Being rebuilt, or gone: the cache's own mirror serves.
      log.debug("Cannot read the mirror [{}] of [{}]: {}", dir, remote.display(), e.toString());
      return null;
    }
  }

  /**
   * The repository to serve {@code repo}'s branches and tags from (git over HTTP), opened; the
   * caller closes it. A remote is fetched into the cache first unless it was fetched less than the
   * minimum interval ago; when that fails and an older copy is there, the older copy is served.
   *
   * @throws SourceException BAD_REPO, or REPO_UNREACHABLE when nothing of it can be served
   */
  public Repository openToServe(String repo) throws SourceException {
    RepoLocation loc = RepoLocation.parse(repo);
    if (loc instanceof RepoLocation.Local local) {
      return openLocal(local);
    }
    Mirror mirror = mirror((RepoLocation.Remote) loc);
    try {
      mirror.fetch(System.nanoTime() - mirror.minIntervalNanos());
    } catch (SourceException e) {
      if (!mirror.exists()) {
        throw e;
      }
      log.warn("Serving the cached copy of [{}]: {}", loc.display(), e.getMessage());
    }
    return mirror.open();
  }

  private static <T> T readLocal(RepoLocation.Local local, RepoRead<T> read) throws SourceException {
    try (Repository repo = openLocal(local)) {
      return read.apply(repo);
    } catch (IOException e) {
      throw unreadable(local, e);
    }
  }

  private static Repository openLocal(RepoLocation.Local local) throws SourceException {
    FileRepositoryBuilder b = new FileRepositoryBuilder().setMustExist(true);
    if (local.bare()) {
      b.setGitDir(local.dir().toFile());
    } else {
      b.setWorkTree(local.dir().toFile());
    }
    try {
      return b.build();
    } catch (IOException e) {
      throw unreadable(local, e);
    }
  }

  private static SourceException unreadable(RepoLocation.Local local, IOException e) {
    return new SourceException(Kind.BAD_REPO, "Repository " + local.display() + " cannot be read: " + e.getMessage(), e);
  }

  private static <T> T readMirror(Mirror mirror, RepoRead<T> read) throws SourceException {
    try (Repository repo = mirror.open()) {
      return read.apply(repo);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read a mirror: " + e.getMessage(), e);
    }
  }

  /** The commit {@code rev} names in {@code repo}, or null if it names nothing. */
  private static Commit commitOf(Repository repo, String rev, RepoLocation loc)
      throws SourceException, IOException {
    try (RevWalk walk = new RevWalk(repo)) {
      RevCommit c = parseCommit(walk, repo, rev, loc);
      if (c == null) {
        return null;
      }
      PersonIdent a = c.getAuthorIdent();
      return new Commit(
          c.name(), c.getCommitTime() * 1000L, a.getName() + " <" + a.getEmailAddress() + ">", c.getShortMessage());
    }
  }

  private static RevCommit parseCommit(RevWalk walk, Repository repo, String rev, RepoLocation loc)
      throws SourceException, IOException {
    ObjectId id;
    try {
      id = repo.resolve(rev);
    } catch (AmbiguousObjectException e) {
      throw new SourceException(
          Kind.UNKNOWN_REV,
          "Rev '" + rev + "' matches " + e.getCandidates().size() + " objects in " + loc.display()
              + "; give more digits of the sha",
          e);
    } catch (RevisionSyntaxException e) {
      throw new SourceException(
          Kind.BAD_REV, "Rev '" + rev + "' for " + loc.display() + " is not a valid rev expression", e);
    } catch (IncorrectObjectTypeException | MissingObjectException e) {
      return null;
    }
    if (id == null) {
      return null;
    }
    RevObject o;
    try {
      o = walk.peel(walk.parseAny(id));
    } catch (MissingObjectException e) {
      return null;
    }
    if (!(o instanceof RevCommit c)) {
      throw new SourceException(
          Kind.UNKNOWN_REV,
          "Rev '" + rev + "' names a " + Constants.typeString(o.getType()) + " in " + loc.display()
              + ", not a commit");
    }
    walk.parseBody(c);
    return c;
  }

  private static Path writeArchive(Repository repo, String sha, RepoLocation loc, Path target)
      throws SourceException, IOException {
    RevCommit commit;
    try (RevWalk walk = new RevWalk(repo)) {
      commit = parseCommit(walk, repo, sha, loc);
    }
    if (commit == null) {
      return null;
    }
    long t0 = System.nanoTime();
    Path dir = target.getParent();
    Path tmp;
    try {
      Files.createDirectories(dir);
      tmp = Files.createTempFile(dir, sha + ".", ".tmp");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write source archives in " + dir, e);
    }
    try {
      int entries;
      try (FileOutputStream file = new FileOutputStream(tmp.toFile());
          ObjectReader reader = repo.newObjectReader()) {
        GZIPOutputStream gz = new GZIPOutputStream(new BufferedOutputStream(file, 1 << 16), 1 << 16);
        entries = TreeArchiver.write(reader, commit, gz, loc.display());
        gz.finish();
        gz.flush();
        file.getChannel().force(true);
      } catch (MissingObjectException e) {
        throw new SourceException(
            Kind.BAD_REPO,
            "Repository " + loc.display() + " lacks object " + e.getObjectId().name() + " of commit "
                + sha + " (a shallow or damaged repository)",
            e);
      }
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
      }
      log.debug(
          "Archived [{}] at [{}]: {} entries, {} bytes in {} ms",
          loc.display(), sha, entries, Files.size(target), (System.nanoTime() - t0) / 1_000_000);
      return target;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the source archive " + target, e);
    } finally {
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException e) {
        log.warn("Cannot delete [{}]: {}", tmp, e.toString());
      }
    }
  }

  /** Waits for another thread's archive of the same commit, failing as it failed. */
  private static Path await(CompletableFuture<Path> running) throws SourceException {
    try {
      return running.join();
    } catch (CompletionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof SourceException s) {
        throw new SourceException(s.kind(), s.getMessage(), s);
      }
      if (cause instanceof UncheckedIOException u) {
        throw new UncheckedIOException(u.getMessage(), u.getCause());
      }
      if (cause instanceof RuntimeException r) {
        throw r;
      }
      if (cause instanceof Error err) {
        throw err;
      }
      throw e;
    }
  }
}
