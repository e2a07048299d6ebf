package dev.grange.protocol.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code grange.repos}: read with its defaults, every mistake named with its key, and builders tied to it. */
class RepoConfigTest {
  private static final String HOST = "grange.hosts { h { pool = reverse } }\n";

  private static FarmConfig load(String hocon) {
    return FarmConfig.fromConfig(ConfigFactory.parseString(HOST + hocon).resolve());
  }

  private static List<String> problems(String hocon) {
    return assertThrows(InvalidConfigException.class, () -> load(hocon)).problems();
  }

  @Test
  void aRepoIsReadWithItsDefaults() {
    FarmConfig farm = load("""
        grange.repos {
          demo { url = "/srv/git/demo.git", branches = [main] }
          go {
            url = "https://go.googlesource.com/go", branches = [master, "release-branch.go1.22"]
            push = ["git@github.com:golang/go.git"], poll = 30s, webhook-secret = "s3cret", backfill = 3
          }
        }
        grange.builders { b { host-type = h, repos = [ { repo = go, branches = [master] } ], steps = [ { name = t, cmd = true } ] } }
        """);
    RepoSpec demo = farm.repo("demo").orElseThrow();
    assertEquals(List.of("main"), demo.branches());
    assertEquals(RepoSpec.DEFAULT_POLL_MS, demo.pollIntervalMs());
    assertEquals(RepoSpec.DEFAULT_BACKFILL, demo.backfill());
    assertFalse(demo.acceptsWebhooks(), "no secret: webhooks are refused");
    RepoSpec go = farm.repo("go").orElseThrow();
    assertEquals(new RepoSpec("go", "https://go.googlesource.com/go", List.of("master", "release-branch.go1.22"),
        List.of("git@github.com:golang/go.git"), 30_000, "s3cret", 3), go);
    assertFalse(go.toString().contains("s3cret"), "the secret is never printed: " + go);
    assertEquals(List.of("b"), farm.buildersOf("go", "master").stream().map(BuilderSpec::name).toList());
    assertTrue(farm.buildersOf("go", "release-branch.go1.22").isEmpty());
  }

  @Test
  void everyMistakeInARepoIsNamedWithItsKey() {
    List<String> p = problems("""
        grange.repos {
          r { url = "ftp://example.com/r.git", branches = [], push = ["not a url"], poll = 10ms, backfill = 0, brnaches = [x] }
        }
        """);
    assertTrue(p.contains("grange.repos.r.brnaches: unknown key (allowed: backfill, branches, poll, push, url, webhook-secret)"), p.toString());
    assertTrue(p.stream().anyMatch(x -> x.startsWith("grange.repos.r.url: must be https://")), p.toString());
    assertTrue(p.stream().anyMatch(x -> x.startsWith("grange.repos.r.branches: ")), p.toString());
    assertTrue(p.contains("grange.repos.r.push[0]: must not contain spaces or control characters"), p.toString());
    assertTrue(p.contains("grange.repos.r.poll: must be at least 1s, got 10ms"), p.toString());
    assertTrue(p.stream().anyMatch(x -> x.startsWith("grange.repos.r.backfill: ")), p.toString());
  }

  @Test
  void aBuilderNamesConfiguredReposAndBranchesTheyBuild() {
    List<String> p = problems("""
        grange.repos { go { url = "https://go.googlesource.com/go", branches = [master] } }
        grange.builders {
          b { host-type = h, repos = [ { repo = tools, branches = [master] }, { repo = go, branches = [dev] } ], steps = [ { name = t, cmd = true } ] }
        }
        """);
    assertEquals(List.of(
        "grange.builders.b.repos[0].repo: unknown repository \"tools\" (known: go)",
        "grange.builders.b.repos[1].branches: branch \"dev\" is not one grange.repos.go builds (it builds master)"), p);
  }

  @Test
  void urlsOfEveryKindGitSpeaksAreAccepted() {
    for (String ok : List.of("https://h/r.git", "http://h/r", "ssh://git@h/r.git", "git@github.com:o/r.git", "file:///srv/r.git", "/srv/r.git")) {
      assertNull(RepoSpec.urlProblem(ok), ok);
    }
    for (String bad : List.of("", "r.git", "https://", "ftp://h/r", "C:\\r", "https://h/r x")) {
      assertTrue(RepoSpec.urlProblem(bad) != null, bad);
    }
  }
}
