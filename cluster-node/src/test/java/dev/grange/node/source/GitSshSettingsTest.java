package dev.grange.node.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.grange.mirror.GitSsh;
import dev.grange.protocol.model.FarmConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code grange.git-ssh} as the node reads it at start (the refusals of a farm using ssh: NodeStartRefusalTest). */
class GitSshSettingsTest {
  private static final FarmConfig NO_REPOS = new FarmConfig(java.util.Map.of(), java.util.Map.of());

  @TempDir Path tmp;

  private static Config config(String gitSsh) {
    return ConfigFactory.parseString(gitSsh).withFallback(ConfigFactory.defaultReference()).resolve();
  }

  @Test
  void unsetMeansNoSshAndStrictChecking() {
    GitSshSettings s = GitSshSettings.fromConfig(config(""), NO_REPOS);
    assertEquals(new GitSshSettings(null, null, true), s);
    assertEquals(GitSsh.NONE, s.open());
  }

  @Test
  void aKeyAndKnownHostsAreTakenAsAbsolutePathsAndCheckingMayBeTurnedOff() throws Exception {
    Path key = Files.writeString(tmp.resolve("id_ed25519"), "k");
    Path hosts = Files.writeString(tmp.resolve("known_hosts"), "");
    GitSshSettings s = GitSshSettings.fromConfig(config(
        "grange.git-ssh { identity-file = \"" + key + "\", known-hosts-file = \"" + hosts + "\" }"), NO_REPOS);
    assertEquals(new GitSshSettings(key, hosts, true), s);
    GitSshSettings off = GitSshSettings.fromConfig(config(
        "grange.git-ssh { identity-file = \"" + key + "\", strict-host-key-checking = off }"), NO_REPOS);
    assertEquals(new GitSshSettings(key, null, false), off);
  }

  @Test
  void aStrictnessThatIsNotOnOrOffIsRefusedNamingTheKey() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> GitSshSettings.fromConfig(config("grange.git-ssh.strict-host-key-checking = ask"), NO_REPOS));
    assertTrue(e.getMessage().startsWith("grange.git-ssh.strict-host-key-checking: must be on or off"), e.getMessage());
  }
}
