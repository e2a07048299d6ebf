package dev.grange.node.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RepoLocationTest {

  @Test
  void passwordsAndHttpTokensAreHiddenButSshUsersShown() {
    assertEquals("https://bob:***@example.com/x.git", RepoLocation.Parsing.redact("https://bob:pw@example.com/x.git"));
    assertEquals("https://***@example.com/x.git", RepoLocation.Parsing.redact("https://ghp_token@example.com/x.git"));
    assertEquals("ssh://git@example.com/x.git", RepoLocation.Parsing.redact("ssh://git@example.com/x.git"));
    assertEquals("https://example.com/a@b", RepoLocation.Parsing.redact("https://example.com/a@b"));
  }

  @Test
  void remoteUrlsKeepTheirUrlAndGetAFileNameSafeKey() throws Exception {
    var r = (RepoLocation.Remote) RepoLocation.parse("https://go.googlesource.com/go");
    assertEquals("https://go.googlesource.com/go", r.url());
    assertTrue(r.cacheKey().matches("go.googlesource.com_go-[0-9a-f]{16}"), r.cacheKey());
    var other = (RepoLocation.Remote) RepoLocation.parse("https://go.googlesource.com/go.git");
    assertNotEquals(r.cacheKey(), other.cacheKey());
    assertEquals(r, RepoLocation.parse("  https://go.googlesource.com/go\n"), "surrounding white space ignored");
  }

  @Test
  void anScpStyleAddressIsAnSshRemoteKeptAsWritten() throws Exception {
    var r = (RepoLocation.Remote) RepoLocation.parse("git@github.com:golang/go.git");
    assertEquals("git@github.com:golang/go.git", r.url(), "git reads a relative scp path from the user's home");
    assertEquals("git@github.com:golang/go.git", r.display());
    assertTrue(r.cacheKey().matches("github.com_golang_go.git-[0-9a-f]{16}"), r.cacheKey());
    var url = (RepoLocation.Remote) RepoLocation.parse("ssh://git@github.com/golang/go.git");
    assertNotEquals(r.cacheKey(), url.cacheKey(), "~/golang/go.git and /golang/go.git may differ on a host");
  }
}
