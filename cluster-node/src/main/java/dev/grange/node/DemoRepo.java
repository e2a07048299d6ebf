package dev.grange.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigUtil;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.lib.PersonIdent;

/**
 * The repository {@code bin/grange up} mirrors out of the box ({@code grange.repos.demo} in
 * grange-up.conf, without a url): made on first start as {@code var/demo-repo} (beside the master
 * key) with a few
 * commits, so that the dashboard fills with post-submit builds within a minute of {@code up}, and a
 * commit made there ({@code git -C var/demo-repo commit ...}) shows up as new builds after the
 * next poll. Left alone once it exists; an operator's own {@code grange.repos.demo.url} wins.
 */
final class DemoRepo {
  static final String NAME = "demo";

  private DemoRepo() {}

  /** {@code config} with the demo repository's url, the repository made if it is not there. */
  static Config withDemo(Config config) {
    String key = "grange.repos." + NAME;
    if (!config.hasPath(key) || config.hasPath(key + ".url")) {
      return config;
    }
    // Beside the master key, which every node of a cluster on this machine shares (var/): one
    // demo repository for all of them, whatever each node's own var dir.
    Path dir = Path.of(config.getString("grange.node.master-key-file")).toAbsolutePath().getParent().resolve("demo-repo");
    try {
      ensure(dir);
    } catch (IOException | GitAPIException e) {
      throw new IllegalStateException("cannot make the demo repository " + dir + ": " + e.getMessage(), e);
    }
    return ConfigFactory.parseString(key + ".url = " + ConfigUtil.quoteString(dir.toString())).withFallback(config).resolve();
  }

  static void ensure(Path dir) throws IOException, GitAPIException {
    if (Files.isDirectory(dir.resolve(".git"))) {
      return;
    }
    Files.createDirectories(dir);
    // A minute apart, so the dashboard (newest commit first) shows them in the order they were made.
    long t = System.currentTimeMillis() - 3 * 60_000;
    try (Git git = Git.init().setDirectory(dir.toFile()).setInitialBranch("main").call()) {
      write(git, dir, "README", "A repository that bin/grange up made to show post-submit builds.\n", "Add a README", who(t));
      write(git, dir, "hello.sh", "#!/bin/sh\necho hello from the demo repository\n", "Add a script", who(t + 60_000));
      write(git, dir, "README", "A repository that bin/grange up made to show post-submit builds.\n\n"
          + "Commit here (git -C var/demo-repo commit ...) and watch the dashboard: the next poll builds it.\n",
          "Say how to make a new build", who(t + 120_000));
    }
  }

  private static PersonIdent who(long atMs) {
    return new PersonIdent("Grange demo", "demo@grange.invalid", java.time.Instant.ofEpochMilli(atMs), java.time.ZoneOffset.UTC);
  }

  private static void write(Git git, Path dir, String file, String text, String message, PersonIdent who)
      throws IOException, GitAPIException {
    Files.writeString(dir.resolve(file), text, StandardCharsets.UTF_8);
    git.add().addFilepattern(file).call();
    git.commit().setMessage(message).setAuthor(who).setCommitter(who).call();
  }
}
