package dev.grange.bench.farm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.revwalk.RevCommit;

/**
 * The git repository every benchmark build checks out: one commit of one small file, so the
 * source archive a build ships to its buildlet is a few hundred bytes and the figures measure
 * the farm, not the repository.
 */
public final class BenchRepo {
  private BenchRepo() {}

  /** Creates the repository in {@code dir} and returns the full sha of its one commit. */
  public static String create(Path dir) throws IOException {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("README"), "Grange benchmark repository: one file, one commit.\n");
    try (Git git = Git.init().setDirectory(dir.toFile()).setInitialBranch("main").call()) {
      git.add().addFilepattern("README").call();
      PersonIdent who = new PersonIdent("Grange bench", "bench@grange.invalid");
      RevCommit c = git.commit().setMessage("bench").setAuthor(who).setCommitter(who).setSign(false).call();
      return c.getName();
    } catch (GitAPIException e) {
      throw new IOException("cannot create the benchmark repository in " + dir + ": " + e.getMessage(), e);
    }
  }
}
