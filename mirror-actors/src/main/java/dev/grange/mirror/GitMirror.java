package dev.grange.mirror;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.eclipse.jgit.transport.PushResult;
import org.eclipse.jgit.transport.RefSpec;
import org.eclipse.jgit.transport.RemoteRefUpdate;
import org.eclipse.jgit.transport.URIish;

/**
 * The bare mirror of one upstream on this node's disk ({@code var/mirrors/<name>.git}): fetched
 * with its branches and tags as upstream has them (deleted upstream, deleted here), read for the
 * commits that landed on a branch, pushed to targets (which then have its branches and tags, no
 * more). Blocking: callers run it off the actor dispatchers. One caller at a time per mirror (its {@link RepoMirror}); readers elsewhere (the
 * source server) open their own {@link Repository}. The URL is passed to each fetch and never
 * written into the mirror's config, as it may carry credentials. Ssh URLs ({@code ssh://},
 * {@code user@host:path}) go through {@link GitSsh}.
 */
public final class GitMirror {
  private static final List<RefSpec> REFSPECS = List.of(
      new RefSpec("+refs/heads/*:refs/heads/*"), new RefSpec("+refs/tags/*:refs/tags/*"));

  /** A commit that landed on a branch, as the dashboard and the post-submit builds name it. */
  public record LandedCommit(String sha, long commitTimeMs, String author, String subject)
      implements dev.grange.protocol.CborSerializable {}

  private final Path dir;
  private final int timeoutSeconds;
  private final GitSsh ssh;

  /** A mirror that cannot reach ssh URLs. */
  public GitMirror(Path dir, int timeoutSeconds) {
    this(dir, timeoutSeconds, GitSsh.NONE);
  }

  public GitMirror(Path dir, int timeoutSeconds, GitSsh ssh) {
    this.dir = dir;
    this.timeoutSeconds = timeoutSeconds;
    this.ssh = ssh;
  }

  public Path dir() {
    return dir;
  }

  /**
   * Fetches {@code url} into the mirror, made empty first if it is not there (a new node, a wiped
   * disk): afterwards its branches and tags are upstream's, and the refs it has are returned
   * ({@code refs/heads/...} and {@code refs/tags/...} to sha).
   */
  public Map<String, String> fetch(String url) throws IOException, GitAPIException {
    try (Repository repo = openOrCreate(); Git git = new Git(repo)) {
      org.eclipse.jgit.transport.FetchResult fetched = git.fetch()
          .setRemote(new URIish(url).toString())
          .setRefSpecs(REFSPECS)
          .setRemoveDeletedRefs(true)
          .setTimeout(timeoutSeconds)
          .setTransportConfigCallback(ssh)
          .call();
      pointHead(repo, fetched.getAdvertisedRef("HEAD"));
      return refs(repo);
    } catch (org.eclipse.jgit.api.errors.TransportException e) {
      throw explained(e);
    } catch (java.net.URISyntaxException e) {
      throw new IOException("not a git URL: " + url, e);
    }
  }

  /**
   * HEAD follows upstream's (the branch at the sha upstream's HEAD is at; main, master or the
   * first branch if that is not known), so a clone of the mirror checks out what a clone of
   * upstream would.
   */
  private static void pointHead(Repository repo, Ref upstreamHead) throws IOException {
    Map<String, String> refs = refs(repo);
    String target = null;
    if (upstreamHead != null && upstreamHead.getObjectId() != null) {
      String sha = upstreamHead.getObjectId().name();
      for (String b : List.of("refs/heads/main", "refs/heads/master")) {
        if (sha.equals(refs.get(b))) {
          target = b;
        }
      }
      if (target == null) {
        target = refs.entrySet().stream().filter(e -> e.getKey().startsWith("refs/heads/") && e.getValue().equals(sha))
            .map(Map.Entry::getKey).findFirst().orElse(null);
      }
    }
    if (target == null) {
      target = refs.containsKey("refs/heads/main") ? "refs/heads/main" : refs.containsKey("refs/heads/master") ? "refs/heads/master"
          : refs.keySet().stream().filter(k -> k.startsWith("refs/heads/")).findFirst().orElse(null);
    }
    Ref head = repo.exactRef("HEAD");
    if (target != null && (head == null || !head.isSymbolic() || !head.getTarget().getName().equals(target))) {
      repo.updateRef("HEAD").link(target);
    }
  }

  /** The refs the mirror has now. */
  public Map<String, String> refs() throws IOException {
    try (Repository repo = openOrCreate()) {
      return refs(repo);
    }
  }

  /**
   * The commits reachable from {@code newSha} and not from {@code oldSha} (null: a branch seen for
   * the first time), newest first, at most {@code limit}: first-parent order, so a merge lands as
   * one commit, as on the branch's own history.
   */
  public List<LandedCommit> landed(String oldSha, String newSha, int limit) throws IOException {
    List<LandedCommit> out = new ArrayList<>();
    try (Repository repo = openOrCreate(); RevWalk walk = new RevWalk(repo)) {
      walk.setFirstParent(true);
      walk.markStart(walk.parseCommit(ObjectId.fromString(newSha)));
      if (oldSha != null) {
        ObjectId old = ObjectId.fromString(oldSha);
        if (repo.getObjectDatabase().has(old)) {
          walk.markUninteresting(walk.parseCommit(old));
        }
      }
      for (RevCommit c : walk) {
        if (out.size() >= limit) {
          break;
        }
        out.add(new LandedCommit(c.name(), c.getCommitTime() * 1000L,
            c.getAuthorIdent().getName() + " <" + c.getAuthorIdent().getEmailAddress() + ">", c.getShortMessage()));
      }
    }
    return out;
  }

  /**
   * Makes {@code url}'s branches and tags the mirror's: every branch and tag pushed, forced, and
   * those the target has that the mirror does not (deleted upstream) deleted; refs outside {@code
   * refs/heads/} and {@code refs/tags/} on the target are left alone. The refs it refused, if any.
   */
  public List<String> push(String url) throws IOException, GitAPIException {
    List<String> refused = new ArrayList<>();
    try (Repository repo = openOrCreate(); Git git = new Git(repo)) {
      String remote = new URIish(url).toString();
      Map<String, String> have = refs(repo);
      List<RefSpec> specs = new ArrayList<>(REFSPECS);
      for (Ref r : Git.lsRemoteRepository().setRemote(remote).setHeads(true).setTags(true).setTimeout(timeoutSeconds)
          .setTransportConfigCallback(ssh).call()) {
        String n = r.getName();
        if ((n.startsWith("refs/heads/") || n.startsWith("refs/tags/")) && !have.containsKey(n)) {
          specs.add(new RefSpec(":" + n));
        }
      }
      Iterable<PushResult> results = git.push()
          .setRemote(remote)
          .setRefSpecs(specs)
          .setForce(true)
          .setTimeout(timeoutSeconds)
          .setTransportConfigCallback(ssh)
          .call();
      for (PushResult r : results) {
        for (RemoteRefUpdate u : r.getRemoteUpdates()) {
          RemoteRefUpdate.Status st = u.getStatus();
          boolean gone = u.isDelete() && st == RemoteRefUpdate.Status.NON_EXISTING;
          if (st != RemoteRefUpdate.Status.OK && st != RemoteRefUpdate.Status.UP_TO_DATE && !gone) {
            refused.add(u.getRemoteName() + ": " + st + (u.getMessage() == null ? "" : " (" + u.getMessage() + ")"));
          }
        }
      }
    } catch (org.eclipse.jgit.api.errors.TransportException e) {
      throw explained(e);
    } catch (java.net.URISyntaxException e) {
      throw new IOException("not a git URL: " + url, e);
    }
    return refused;
  }

  /** A transport failure in words a user can act on (a refused ssh host key says so). */
  private GitAPIException explained(org.eclipse.jgit.api.errors.TransportException e) {
    String why = ssh.explain(e.getMessage());
    return why.equals(e.getMessage()) ? e : new org.eclipse.jgit.api.errors.TransportException(why, e);
  }

  private Repository openOrCreate() throws IOException {
    if (!Files.isDirectory(dir.resolve("objects"))) {
      Files.createDirectories(dir);
      try (Repository created = new FileRepositoryBuilder().setGitDir(dir.toFile()).setBare().build()) {
        created.create(true);
      }
    }
    return new FileRepositoryBuilder().setGitDir(dir.toFile()).setBare().setMustExist(true).build();
  }

  private static Map<String, String> refs(Repository repo) throws IOException {
    Map<String, String> out = new TreeMap<>();
    for (Ref r : repo.getRefDatabase().getRefsByPrefix("refs/")) {
      if ((r.getName().startsWith("refs/heads/") || r.getName().startsWith("refs/tags/")) && r.getObjectId() != null) {
        out.put(r.getName(), r.getObjectId().name());
      }
    }
    return out;
  }
}
