package dev.grange.node.source;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.dircache.DirCache;
import org.eclipse.jgit.dircache.DirCacheBuilder;
import org.eclipse.jgit.dircache.DirCacheEntry;
import org.eclipse.jgit.lib.CommitBuilder;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectInserter;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.lib.RefUpdate;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.lib.TagBuilder;

/**
 * A git repository made by a test, with commits written straight into the object store so that
 * modes, symlinks, gitlinks and times are exactly what the test says, whatever the file system
 * and the machine's git configuration.
 */
final class GitFixture implements AutoCloseable {

  /** One path of a commit's tree: its git mode and its blob (or, for a gitlink, commit) id. */
  record Node(FileMode mode, byte[] content, ObjectId gitlink) {
    static Node file(String text) {
      return new Node(FileMode.REGULAR_FILE, text.getBytes(StandardCharsets.UTF_8), null);
    }

    static Node file(byte[] bytes) {
      return new Node(FileMode.REGULAR_FILE, bytes, null);
    }

    static Node executable(String text) {
      return new Node(FileMode.EXECUTABLE_FILE, text.getBytes(StandardCharsets.UTF_8), null);
    }

    static Node symlink(String target) {
      return new Node(FileMode.SYMLINK, target.getBytes(StandardCharsets.UTF_8), null);
    }

    static Node submodule(String sha) {
      return new Node(FileMode.GITLINK, null, ObjectId.fromString(sha));
    }
  }

  static final PersonIdent ADA =
      new PersonIdent("Ada Lovelace", "ada@example.com", Instant.ofEpochSecond(1_700_000_000L), ZoneOffset.UTC);

  final Git git;
  final Repository repo;
  final Path dir;

  private GitFixture(Git git, Path dir) {
    this.git = git;
    this.repo = git.getRepository();
    this.dir = dir;
  }

  /** A bare repository whose HEAD points at {@code refs/heads/<defaultBranch>}. */
  static GitFixture bare(Path dir, String defaultBranch) throws GitAPIException {
    return new GitFixture(
        Git.init().setBare(true).setDirectory(dir.toFile()).setInitialBranch(defaultBranch).call(), dir);
  }

  /** A working clone (a directory holding {@code .git}). */
  static GitFixture workingClone(Path dir) throws GitAPIException {
    return new GitFixture(Git.init().setDirectory(dir.toFile()).setInitialBranch("main").call(), dir);
  }

  /** A {@code file://} URL for this repository. */
  String url() {
    return dir.toUri().toString();
  }

  /** Commits exactly {@code tree} on {@code branch}, on top of its tip, and moves the branch. */
  ObjectId commit(String branch, long epochSeconds, String message, Map<String, Node> tree)
      throws IOException {
    try (ObjectInserter ins = repo.newObjectInserter()) {
      DirCache index = DirCache.newInCore();
      DirCacheBuilder b = index.builder();
      for (var e : tree.entrySet()) {
        DirCacheEntry entry = new DirCacheEntry(e.getKey());
        Node n = e.getValue();
        entry.setFileMode(n.mode());
        entry.setObjectId(n.gitlink() != null ? n.gitlink() : ins.insert(Constants.OBJ_BLOB, n.content()));
        b.add(entry);
      }
      b.finish();
      ObjectId treeId = index.writeTree(ins);
      CommitBuilder c = new CommitBuilder();
      c.setTreeId(treeId);
      ObjectId parent = repo.resolve(Constants.R_HEADS + branch);
      if (parent != null) {
        c.setParentId(parent);
      }
      Instant when = Instant.ofEpochSecond(epochSeconds);
      c.setAuthor(new PersonIdent(ADA, when));
      c.setCommitter(new PersonIdent("Charles Babbage", "cb@example.com", when, ZoneOffset.UTC));
      c.setMessage(message);
      ObjectId id = ins.insert(c);
      ins.flush();
      RefUpdate u = repo.updateRef(Constants.R_HEADS + branch);
      u.setNewObjectId(id);
      u.forceUpdate();
      return id;
    }
  }

  /** A lightweight tag, or an annotated one when {@code message} is not null. */
  void tag(String name, ObjectId target, String message) throws IOException {
    ObjectId id = target;
    if (message != null) {
      try (ObjectInserter ins = repo.newObjectInserter()) {
        TagBuilder t = new TagBuilder();
        t.setTag(name);
        t.setObjectId(target, repo.getObjectDatabase().open(target).getType());
        t.setTagger(ADA);
        t.setMessage(message);
        id = ins.insert(t);
        ins.flush();
      }
    }
    RefUpdate u = repo.updateRef(Constants.R_TAGS + name);
    u.setNewObjectId(id);
    u.forceUpdate();
  }

  ObjectId treeOf(ObjectId commit) throws IOException {
    try (var walk = new org.eclipse.jgit.revwalk.RevWalk(repo)) {
      return walk.parseCommit(commit).getTree().getId();
    }
  }

  @Override
  public void close() {
    git.close();
  }
}
