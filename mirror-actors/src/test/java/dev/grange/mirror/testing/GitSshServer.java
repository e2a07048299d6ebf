package dev.grange.mirror.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyPairResourceWriter;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.server.Environment;
import org.apache.sshd.server.ExitCallback;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.command.Command;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.eclipse.jgit.transport.ReceivePack;
import org.eclipse.jgit.transport.UploadPack;

/**
 * A real SSH server on loopback (Apache MINA sshd) serving the git repositories under a root
 * directory (bare, or working trees with {@code .git}), as git hosts do: {@code git-upload-pack 'path'} for fetches, {@code
 * git-receive-pack 'path'} for pushes, run by JGit in-process. It accepts one client key, made
 * here and written as an OpenSSH private key file, and has its own host key; {@link
 * #knownHosts()} names that key for this server's address, {@link #strangerKnownHosts()} another.
 * For tests; close it to stop the server.
 */
public final class GitSshServer implements AutoCloseable {
  private final Path root;
  private final SshServer sshd;
  private final ExecutorService commands = Executors.newCachedThreadPool();
  private final Path identity;
  private final Path knownHosts;
  private final Path strangerKnownHosts;

  /** Starts a server for the repositories under {@code root}, writing its key files into {@code keysDir}. */
  public static GitSshServer start(Path root, Path keysDir) throws IOException, GeneralSecurityException {
    return new GitSshServer(root, keysDir);
  }

  private GitSshServer(Path root, Path keysDir) throws IOException, GeneralSecurityException {
    this.root = root.toAbsolutePath();
    KeyPair host = ecKey();
    KeyPair client = ecKey();
    sshd = SshServer.setUpDefaultServer();
    sshd.setHost("127.0.0.1");
    sshd.setPort(0);
    sshd.setKeyPairProvider(KeyPairProvider.wrap(host));
    sshd.setPublickeyAuthenticator((user, key, session) -> KeyUtils.compareKeys(key, client.getPublic()));
    sshd.setPasswordAuthenticator(null);
    sshd.setKeyboardInteractiveAuthenticator(null);
    sshd.setCommandFactory((channel, command) -> new GitCommand(command));
    sshd.start();
    Files.createDirectories(keysDir);
    identity = keysDir.resolve("id_ecdsa");
    try (OutputStream out = Files.newOutputStream(identity)) {
      OpenSSHKeyPairResourceWriter.INSTANCE.writePrivateKey(client, "grange-test", null, out);
    }
    knownHosts = keysDir.resolve("known_hosts");
    Files.writeString(knownHosts, hostPattern() + " " + PublicKeyEntry.toString(host.getPublic()) + "\n");
    strangerKnownHosts = keysDir.resolve("stranger_known_hosts");
    Files.writeString(strangerKnownHosts, hostPattern() + " " + PublicKeyEntry.toString(ecKey().getPublic()) + "\n");
  }

  private static KeyPair ecKey() throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  private String hostPattern() {
    return "[127.0.0.1]:" + sshd.getPort();
  }

  /** The ssh URL of the repository {@code name} under the root. */
  public String url(String name) {
    return "ssh://git@127.0.0.1:" + sshd.getPort() + "/" + name;
  }

  /** The client's private key (unencrypted, OpenSSH format). */
  public Path identity() {
    return identity;
  }

  /** A known_hosts file with this server's host key. */
  public Path knownHosts() {
    return knownHosts;
  }

  /** A known_hosts file naming this server's address with some other key. */
  public Path strangerKnownHosts() {
    return strangerKnownHosts;
  }

  @Override
  public void close() throws IOException {
    sshd.stop(true);
    commands.shutdownNow();
  }

  /** One git command on one channel, run on its own thread until the pack is sent or received. */
  private final class GitCommand implements Command {
    private final String command;
    private InputStream in;
    private OutputStream out;
    private OutputStream err;
    private ExitCallback exit;

    GitCommand(String command) {
      this.command = command;
    }

    @Override
    public void setInputStream(InputStream in) {
      this.in = in;
    }

    @Override
    public void setOutputStream(OutputStream out) {
      this.out = out;
    }

    @Override
    public void setErrorStream(OutputStream err) {
      this.err = err;
    }

    @Override
    public void setExitCallback(ExitCallback exit) {
      this.exit = exit;
    }

    @Override
    public void start(ChannelSession channel, Environment env) {
      commands.execute(this::run);
    }

    private void run() {
      String[] parts = command.split(" ", 2);
      String path = parts.length == 2 ? parts[1].replaceAll("^'|'$", "").replaceFirst("^/+", "") : "";
      Path dir = root.resolve(path).normalize();
      if (!dir.startsWith(root) || !Files.isDirectory(dir)) {
        fail("no repository " + path);
        return;
      }
      Path gitDir = Files.isDirectory(dir.resolve(".git")) ? dir.resolve(".git") : dir;
      try (Repository repo = new FileRepositoryBuilder().setGitDir(gitDir.toFile()).setMustExist(true).build()) {
        switch (parts[0]) {
          case "git-upload-pack" -> new UploadPack(repo).upload(in, out, err);
          case "git-receive-pack" -> new ReceivePack(repo).receive(in, out, err);
          default -> {
            fail("unknown command " + parts[0]);
            return;
          }
        }
        out.flush();
        exit.onExit(0);
      } catch (IOException | RuntimeException e) {
        fail(e.toString());
      }
    }

    private void fail(String why) {
      try {
        err.write((why + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        err.flush();
      } catch (IOException ignored) {
        // The client went away; the exit status is all it could still get.
      }
      exit.onExit(1, why);
    }

    @Override
    public void destroy(ChannelSession channel) {}
  }
}
