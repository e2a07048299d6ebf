package dev.grange.node.source;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import dev.grange.mirror.GitSsh;
import dev.grange.protocol.model.FarmConfig;
import dev.grange.protocol.model.RepoSpec;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * {@code grange.git-ssh}: the private key and known_hosts file this node speaks git over ssh
 * with, read and checked once at start. A node whose configured repositories use ssh (upstream or
 * push target) and has no readable key, or no readable known_hosts while host keys are checked,
 * refuses to start, naming the key to fix. Only the files' presence is checked here; the key's
 * bytes are read by sshd and never logged.
 *
 * @param identityFile the private key, or null: no ssh
 * @param knownHostsFile the trusted host keys, or null (only when not checked)
 * @param strictHostKeyChecking whether a host key must be in {@code knownHostsFile}
 */
public record GitSshSettings(Path identityFile, Path knownHostsFile, boolean strictHostKeyChecking) {
  private static final String PREFIX = "grange.git-ssh.";

  /** Reads {@code grange.git-ssh} from the node's config, checked against the repos the farm mirrors. */
  public static GitSshSettings fromConfig(Config root, FarmConfig farm) {
    Config c = root.getConfig("grange.git-ssh");
    boolean strict;
    try {
      strict = c.getBoolean("strict-host-key-checking");
    } catch (ConfigException.WrongType e) {
      throw new IllegalArgumentException(PREFIX + "strict-host-key-checking: must be on or off, got "
          + c.getValue("strict-host-key-checking").render());
    }
    Optional<String> user = farm.repos().values().stream().filter(RepoSpec::needsSsh)
        .map(r -> "grange.repos." + r.name()).findFirst();
    Path key = file(c, "identity-file");
    Path hosts = file(c, "known-hosts-file");
    if (key == null) {
      if (user.isPresent()) {
        throw new IllegalArgumentException(PREFIX + "identity-file: " + user.get() + " uses ssh, so the node needs a"
            + " private key to log in with; set grange.git-ssh.identity-file (and known-hosts-file)");
      }
      return new GitSshSettings(null, hosts, strict);
    }
    readable(key, "identity-file", "private key");
    if (hosts == null && strict) {
      throw new IllegalArgumentException(PREFIX + "known-hosts-file: with strict-host-key-checking on, the node needs"
          + " the host keys it trusts; set it to a known_hosts file (ssh-keyscan HOST prints the lines)");
    }
    if (hosts != null) {
      readable(hosts, "known-hosts-file", "known_hosts file");
    }
    return new GitSshSettings(key, hosts, strict);
  }

  /** The transport these settings describe ({@link GitSsh#NONE} without a key); the caller closes it. */
  public GitSsh open() {
    return identityFile == null ? GitSsh.NONE : GitSsh.of(identityFile, knownHostsFile, strictHostKeyChecking);
  }

  private static Path file(Config c, String key) {
    String value = c.getString(key).strip();
    if (value.isEmpty()) {
      return null;
    }
    try {
      return Path.of(value).toAbsolutePath().normalize();
    } catch (InvalidPathException e) {
      throw new IllegalArgumentException(PREFIX + key + ": \"" + value + "\" is not a file path: " + e.getReason());
    }
  }

  private static void readable(Path file, String key, String what) {
    if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
      throw new IllegalArgumentException(PREFIX + key + ": the " + what + " " + file
          + (Files.exists(file) ? " cannot be read by this node" : " does not exist"));
    }
  }
}
