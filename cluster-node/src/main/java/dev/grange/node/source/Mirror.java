package dev.grange.node.source;

import dev.grange.mirror.GitSsh;
import dev.grange.node.source.SourceException.Kind;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.errors.RepositoryNotFoundException;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.lib.RefUpdate;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.lib.StoredConfig;
import org.eclipse.jgit.lib.SubmoduleConfig.FetchRecurseSubmodulesMode;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.eclipse.jgit.transport.FetchResult;
import org.eclipse.jgit.transport.RefSpec;
import org.eclipse.jgit.transport.TagOpt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bare mirror of one remote repository under the source cache: its branches and tags, and a
 * HEAD that follows the remote's default branch. Fetches are serialised and rate-limited: at most
 * one starts per {@code minInterval}, callers that arrive while one is running share its result,
 * and a failed fetch is reported again (not retried) to callers within the same interval. The
 * first fetch builds the mirror in a temporary directory and renames it into place, so a URL that
 * never worked leaves nothing behind. Readers open their own {@link Repository} and may read while
 * a fetch writes: git adds packs and moves refs atomically.
 *
 * <p>The URL is never written into the mirror's config (it may carry credentials); it is passed
 * to each fetch. Ssh remotes go through the node's {@link GitSsh}.
 */
final class Mirror {

  private static final Logger log = LoggerFactory.getLogger(Mirror.class);

  private static final RefSpec[] REFSPECS = {
    new RefSpec("+refs/heads/*:refs/heads/*"), new RefSpec("+refs/tags/*:refs/tags/*")
  };

  private final RepoLocation.Remote remote;
  private final Path dir;
  private final long minIntervalNanos;
  private final int timeoutSeconds;
  private final List<String> secrets;
  private final GitSsh ssh;
  private final ReentrantLock lock = new ReentrantLock();

  // Guarded by lock.
  private boolean fetched;
  private long lastStart;
  private SourceException lastFailure;

  Mirror(RepoLocation.Remote remote, Path dir, Duration minInterval, Duration timeout, GitSsh ssh) {
    this.ssh = ssh;
    this.remote = remote;
    this.dir = dir;
    this.minIntervalNanos = minInterval.toNanos();
    this.timeoutSeconds = (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toSeconds()));
    this.secrets = secrets(remote);
  }

  /** The parts of the URL that {@link RepoLocation#display()} hides, to scrub them from errors. */
  private static List<String> secrets(RepoLocation.Remote remote) {
    String url = remote.url();
    if (remote.display().equals(url)) {
      return List.of();
    }
    int start = url.indexOf("://") + 3;
    int slash = url.indexOf('/', start);
    String info = url.substring(start, url.lastIndexOf('@', slash < 0 ? url.length() : slash));
    int colon = info.indexOf(':');
    String secret = colon < 0 ? info : info.substring(colon + 1);
    return secret.isEmpty() ? List.of() : List.of(secret);
  }

  /** The text with the URL shown as {@link RepoLocation#display()} and no secret left in it. */
  private String scrub(String text) {
    String out = text.replace(remote.url(), remote.display());
    for (String s : secrets) {
      out = out.replace(s, "***");
    }
    return out;
  }

  long minIntervalNanos() {
    return minIntervalNanos;
  }

  /** Whether a first fetch has put the mirror in place (by this or an earlier run of the node). */
  boolean exists() {
    return Files.isDirectory(dir);
  }

  /** Opens the mirror for reading; the caller closes it. */
  Repository open() throws SourceException {
    try {
      return new FileRepositoryBuilder().setGitDir(dir.toFile()).setMustExist(true).build();
    } catch (RepositoryNotFoundException e) {
      throw new SourceException(
          Kind.REPO_UNREACHABLE, "Repository " + remote.display() + " has not been fetched yet", e);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open the mirror " + dir, e);
    }
  }

  /**
   * Makes sure a fetch that started at or after {@code notBefore} (a {@link System#nanoTime()})
   * has ended, fetching now if none has; waits first if the last fetch started less than the
   * minimum interval ago.
   *
   * @throws SourceException {@code REPO_UNREACHABLE} if that fetch failed
   */
  void fetch(long notBefore) throws SourceException {
    try {
      lock.lockInterruptibly();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SourceException(
          Kind.REPO_UNREACHABLE, "Interrupted while waiting to fetch " + remote.display(), e);
    }
    try {
      if (fetched && lastStart - notBefore >= 0) {
        if (lastFailure != null) {
          throw new SourceException(lastFailure.kind(), lastFailure.getMessage(), lastFailure);
        }
        return;
      }
      if (fetched) {
        long wait = lastStart + minIntervalNanos - System.nanoTime();
        if (wait > 0) {
          sleep(wait);
        }
      }
      fetched = true;
      lastStart = System.nanoTime();
      lastFailure = null;
      try {
        fetchNow();
      } catch (SourceException e) {
        lastFailure = e;
        throw e;
      }
    } finally {
      lock.unlock();
    }
  }

  private void fetchNow() throws SourceException {
    boolean first = !exists();
    Path target;
    try {
      Files.createDirectories(dir.getParent());
      target = first ? Files.createTempDirectory(dir.getParent(), dir.getFileName() + ".new-") : dir;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a mirror next to " + dir, e);
    }
    long t0 = System.nanoTime();
    try {
      try (Repository repo = first ? init(target) : open(); Git git = new Git(repo)) {
        FetchResult result =
            git.fetch()
                .setRemote(remote.url())
                .setRefSpecs(REFSPECS)
                .setTagOpt(TagOpt.NO_TAGS)
                .setRemoveDeletedRefs(true)
                .setRecurseSubmodules(FetchRecurseSubmodulesMode.NO)
                .setTimeout(timeoutSeconds)
                .setTransportConfigCallback(ssh)
                .call();
        followHead(repo, result);
      }
      if (first) {
        moveIntoPlace(target);
        log.info("Mirrored [{}] into [{}]", remote.display(), dir);
      } else {
        log.debug("Fetched [{}] in {} ms", remote.display(), (System.nanoTime() - t0) / 1_000_000);
      }
    } catch (GitAPIException | RuntimeException e) {
      if (first) {
        deleteTree(target);
      }
      if (e instanceof UncheckedIOException u) {
        throw u;
      }
      String why = scrub(ssh.explain(describe(e))).replaceFirst("^[a-z+]+://[^ ]*: ", "");
      log.info("Fetching [{}] failed: {}", remote.display(), why);
      throw new SourceException(
          Kind.REPO_UNREACHABLE,
          "Cannot fetch " + remote.display() + ": " + why + ". Check the URL, that the"
              + " repository exists and that this node may read it",
          secrets.isEmpty() ? e : null);
    } catch (IOException e) {
      if (first) {
        deleteTree(target);
      }
      throw new UncheckedIOException("cannot write the mirror " + dir, e);
    }
  }

  private static Repository init(Path target) throws IOException {
    try {
      Repository repo =
          Git.init().setBare(true).setDirectory(target.toFile()).setInitialBranch("main").call().getRepository();
      StoredConfig config = repo.getConfig();
      config.setBoolean("core", null, "logAllRefUpdates", false);
      // JGit repacks after a fetch once packs pile up; by default on a background thread, which
      // could still be writing when the first fetch renames the mirror into place, and which
      // would race the next fetch. In the foreground it runs under this mirror's fetch lock.
      config.setBoolean("gc", null, "autoDetach", false);
      config.save();
      return repo;
    } catch (GitAPIException e) {
      throw new IOException("cannot initialise a bare repository in " + target, e);
    }
  }

  /** Points the mirror's HEAD where the remote's points, so "HEAD" means the default branch. */
  private static void followHead(Repository repo, FetchResult result) throws IOException {
    Ref head = result.getAdvertisedRef(Constants.HEAD);
    if (head == null || head.getObjectId() == null) {
      return;
    }
    String branch = null;
    if (head.isSymbolic()) {
      branch = head.getTarget().getName();
    } else {
      ObjectId id = head.getObjectId();
      for (String preferred : new String[] {"refs/heads/main", "refs/heads/master"}) {
        Ref r = result.getAdvertisedRef(preferred);
        if (r != null && id.equals(r.getObjectId())) {
          branch = preferred;
          break;
        }
      }
      if (branch == null) {
        branch =
            result.getAdvertisedRefs().stream()
                .filter(r -> r.getName().startsWith(Constants.R_HEADS) && id.equals(r.getObjectId()))
                .map(Ref::getName)
                .sorted()
                .findFirst()
                .orElse(null);
      }
    }
    if (branch != null && branch.startsWith(Constants.R_HEADS) && repo.exactRef(branch) != null) {
      Ref current = repo.exactRef(Constants.HEAD);
      if (current == null || !current.isSymbolic() || !current.getTarget().getName().equals(branch)) {
        repo.updateRef(Constants.HEAD).link(branch);
      }
    } else {
      RefUpdate u = repo.updateRef(Constants.HEAD, true);
      u.setNewObjectId(head.getObjectId());
      u.forceUpdate();
    }
  }

  private void moveIntoPlace(Path target) throws IOException {
    try {
      Files.move(target, dir, StandardCopyOption.ATOMIC_MOVE);
    } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
      // Another node process sharing this cache got there first; its mirror is as good as ours.
      deleteTree(target);
    } catch (IOException e) {
      if (!exists()) {
        throw e;
      }
      deleteTree(target);
    }
  }

  private static String describe(Throwable e) {
    StringBuilder b = new StringBuilder();
    for (Throwable t = e; t != null && b.length() < 500; t = t.getCause()) {
      String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
      if (b.indexOf(m) < 0) {
        b.append(b.length() == 0 ? "" : ": ").append(m);
      }
    }
    return b.toString();
  }

  private void sleep(long nanos) throws SourceException {
    try {
      Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SourceException(
          Kind.REPO_UNREACHABLE, "Interrupted while waiting to fetch " + remote.display(), e);
    }
  }

  static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | UncheckedIOException e) {
      log.warn("Cannot delete [{}]: {}", root, e.toString());
    }
  }
}
