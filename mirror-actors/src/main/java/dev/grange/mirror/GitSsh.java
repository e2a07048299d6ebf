package dev.grange.mirror;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.List;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.eclipse.jgit.api.TransportConfigCallback;
import org.eclipse.jgit.errors.TransportException;
import org.eclipse.jgit.internal.transport.sshd.OpenSshServerKeyDatabase;
import org.eclipse.jgit.transport.CredentialsProvider;
import org.eclipse.jgit.transport.RemoteSession;
import org.eclipse.jgit.transport.SshSessionFactory;
import org.eclipse.jgit.transport.SshTransport;
import org.eclipse.jgit.transport.Transport;
import org.eclipse.jgit.transport.URIish;
import org.eclipse.jgit.transport.sshd.JGitKeyCache;
import org.eclipse.jgit.transport.sshd.ServerKeyDatabase;
import org.eclipse.jgit.transport.sshd.SshdSessionFactory;
import org.eclipse.jgit.transport.sshd.SshdSessionFactoryBuilder;
import org.eclipse.jgit.util.FS;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How this node speaks git over ssh (upstream fetches and pushes, {@code ssh://} and scp-style
 * {@code user@host:path}): JGit's Apache MINA transport with one private key and one known_hosts
 * file, both from config ({@code grange.git-ssh}), never the {@code ~/.ssh} of whoever runs the
 * node (no ssh config file, no agent, no default keys). Host keys are checked strictly unless
 * told otherwise: a host whose key is not in the known_hosts file is refused, never added.
 *
 * <p>Given to every fetch and push as its {@link TransportConfigCallback}; without a key ({@link
 * #NONE}) an ssh URL fails with a message saying ssh is not configured. Thread-safe; one per node,
 * closed at shutdown. The key itself is read by sshd and never logged.
 */
public final class GitSsh implements TransportConfigCallback, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(GitSsh.class);

  /** What sshd says when the server key database refused a host key. */
  private static final String KEY_REFUSED = "Server key did not validate";

  /** No ssh: an ssh URL is refused with a message naming the settings that would allow it. */
  public static final GitSsh NONE = new GitSsh(null, null);

  private final SshdSessionFactory factory;
  private final Path knownHosts;

  private GitSsh(SshdSessionFactory factory, Path knownHosts) {
    this.factory = factory;
    this.knownHosts = knownHosts;
  }

  /**
   * Ssh with this private key (OpenSSH or PEM format, not passphrase-protected) and these known
   * hosts; {@code strictHostKeyChecking} false accepts any host key (logged as a warning each
   * time), for a test farm only, and {@code knownHostsFile} may then be null.
   */
  public static GitSsh of(Path identityFile, Path knownHostsFile, boolean strictHostKeyChecking) {
    if (knownHostsFile == null && strictHostKeyChecking) {
      throw new IllegalArgumentException("strict host key checking needs a known_hosts file");
    }
    Path key = identityFile.toAbsolutePath();
    Path hosts = knownHostsFile == null ? null : knownHostsFile.toAbsolutePath();
    SshdSessionFactory factory = new SshdSessionFactoryBuilder()
        .setHomeDirectory(key.getParent().toFile())
        .setSshDirectory(key.getParent().toFile())
        .setConfigFile(home -> null)
        .setDefaultIdentities(dir -> List.of(key))
        .setDefaultKnownHostsFiles(dir -> hosts == null ? List.of() : List.of(hosts))
        .setServerKeyDatabase((home, dir) -> new KnownHosts(hosts, strictHostKeyChecking))
        .setPreferredAuthentications("publickey")
        .setConnectorFactory(null)
        .build(new JGitKeyCache());
    return new GitSsh(factory, hosts);
  }

  @Override
  public void configure(Transport transport) {
    if (transport instanceof SshTransport ssh) {
      ssh.setSshSessionFactory(factory == null ? Refusing.INSTANCE : factory);
    }
  }

  /** {@code message} (of a failed fetch or push) with sshd's words for a refused host key made plain. */
  public String explain(String message) {
    if (factory == null || message == null || !message.contains(KEY_REFUSED)) {
      return message;
    }
    return message.replace(KEY_REFUSED, "the server's host key is not in the known_hosts file " + knownHosts
        + " (grange.git-ssh.known-hosts-file), or differs from the key there; add the host's key (ssh-keyscan prints it)");
  }

  @Override
  public void close() {
    if (factory != null) {
      factory.close();
    }
  }

  /** The session factory without ssh: every session is refused, saying why. */
  private static final class Refusing extends SshSessionFactory {
    static final Refusing INSTANCE = new Refusing();

    @Override
    public RemoteSession getSession(URIish uri, CredentialsProvider credentials, FS fs, int tms)
        throws TransportException {
      throw new TransportException(uri,
          "ssh is not configured on this node: set grange.git-ssh.identity-file and known-hosts-file");
    }

    @Override
    public String getType() {
      return "none";
    }
  }

  /**
   * The one known_hosts file, read as OpenSSH does, with strictness from our setting rather than
   * an ssh config file; never written to.
   */
  private static final class KnownHosts implements ServerKeyDatabase {
    private final Path file;
    private final boolean strict;
    private final OpenSshServerKeyDatabase delegate;

    KnownHosts(Path file, boolean strict) {
      this.file = file;
      this.strict = strict;
      this.delegate = file == null ? null : new OpenSshServerKeyDatabase(false, List.of(file));
    }

    @Override
    public List<PublicKey> lookup(String connectAddress, InetSocketAddress remoteAddress, Configuration config) {
      return delegate == null ? List.of() : delegate.lookup(connectAddress, remoteAddress, fixed(config));
    }

    @Override
    public boolean accept(String connectAddress, InetSocketAddress remoteAddress, PublicKey serverKey,
        Configuration config, CredentialsProvider provider) {
      String fingerprint = KeyUtils.getFingerPrint(serverKey);
      if (!strict) {
        log.warn("Accepting the host key [{}] of [{}] unchecked (grange.git-ssh.strict-host-key-checking = off)",
            fingerprint, connectAddress);
        return true;
      }
      boolean known = delegate.accept(connectAddress, remoteAddress, serverKey, fixed(config), null);
      if (!known) {
        log.warn("Refused the host key [{}] of [{}]: it is not in [{}] (or differs from the key there)",
            fingerprint, connectAddress, file);
      }
      return known;
    }

    private Configuration fixed(Configuration config) {
      String user = config.getUsername();
      return new Configuration() {
        @Override
        public List<String> getUserKnownHostsFiles() {
          return List.of(file.toString());
        }

        @Override
        public List<String> getGlobalKnownHostsFiles() {
          return List.of();
        }

        @Override
        public StrictHostKeyChecking getStrictHostKeyChecking() {
          return StrictHostKeyChecking.REQUIRE_MATCH;
        }

        @Override
        public boolean getHashKnownHosts() {
          return false;
        }

        @Override
        public String getUsername() {
          return user;
        }
      };
    }
  }
}
