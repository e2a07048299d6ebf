package dev.grange.mirror;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.revwalk.RevCommit;

/** A real git repository on disk that tests commit to, branch and delete branches in: the "upstream". */
final class Upstream implements AutoCloseable {
  private final Git git;
  private final Path dir;
  private int n;

  Upstream(Path dir) throws Exception {
    this.dir = dir;
    this.git = Git.init().setDirectory(dir.toFile()).setInitialBranch("main").call();
  }

  String url() {
    return dir.toUri().toString();
  }

  /** A commit on the current branch; its sha. */
  String commit(String subject) throws Exception {
    Files.writeString(dir.resolve("file.txt"), subject + " " + (++n) + "\n", StandardCharsets.UTF_8);
    git.add().addFilepattern("file.txt").call();
    PersonIdent who = new PersonIdent("Ada Lovelace", "ada@example.com");
    RevCommit c = git.commit().setMessage(subject + "\n\nthe body").setAuthor(who).setCommitter(who).call();
    return c.name();
  }

  void branch(String name) throws Exception {
    git.branchCreate().setName(name).call();
  }

  void checkout(String name) throws Exception {
    git.checkout().setName(name).call();
  }

  void tag(String name) throws Exception {
    git.tag().setName(name).setAnnotated(false).call();
  }

  void deleteTag(String name) throws Exception {
    git.tagDelete().setTags(name).call();
  }

  void deleteBranch(String name) throws Exception {
    git.branchDelete().setBranchNames(name).setForce(true).call();
  }

  @Override
  public void close() {
    git.close();
  }
}
