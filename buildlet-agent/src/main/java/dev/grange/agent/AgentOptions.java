package dev.grange.agent;

import dev.grange.protocol.wire.Handshake;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The agent's command line, parsed and checked. Flags take their value as the next argument or
 * after "=" ({@code --node=ws://...}). A mistake throws {@link UsageException} naming the flag;
 * {@link Main} prints it with {@link #USAGE} and exits with status 2.
 *
 * @param nodes connect URLs, dialled in turn
 * @param workdir null for a fresh temporary directory
 * @param spoolDir null for a sibling of the workdir
 * @param graceMs how long a SIGTERM lets running commands finish before they are killed
 * @param keepExitMs how long an exit the node was sent is kept for it, connected, without a forget
 *     (longer than a node's failover, so a build recovered elsewhere still hears it)
 */
public record AgentOptions(
    List<URI> nodes,
    String hostType,
    Path keyFile,
    String instance,
    String hostname,
    Path workdir,
    Path spoolDir,
    long graceMs,
    long keepExitMs,
    long maxArchiveBytes,
    long maxArchiveEntries,
    boolean haltMachine) {

  public static final long DEFAULT_GRACE_MS = 60_000;
  public static final long DEFAULT_KEEP_EXIT_MS = 600_000;
  public static final long DEFAULT_MAX_ARCHIVE_BYTES = 8L << 30;
  public static final long DEFAULT_MAX_ARCHIVE_ENTRIES = 1_000_000;

  public static final String USAGE =
      String.join(
          "\n",
          "usage: grange agent --node URL [--node URL]... --host-type T --key-file F [flags]",
          "",
          "  --node URL               node to dial (ws:// or wss://; a URL without a path gets "
              + Handshake.PATH + "); repeat for more",
          "  --host-type T            the host type this machine serves",
          "  --key-file F             file holding this machine's hex key",
          "  --instance NAME          instance name given by the pool that created this machine",
          "  --hostname H             hostname to report (default: this machine's)",
          "  --workdir DIR            where builds run (default: a new temporary directory)",
          "  --spool-dir DIR          where command output is spooled (default: next to the workdir)",
          "  --grace-ms N             on SIGTERM, how long running commands may finish (default "
              + DEFAULT_GRACE_MS + ")",
          "  --max-archive-bytes N    largest archive content accepted (default " + DEFAULT_MAX_ARCHIVE_BYTES + ")",
          "  --max-archive-entries N  most archive entries accepted (default " + DEFAULT_MAX_ARCHIVE_ENTRIES + ")",
          "  --halt-machine           power the machine off when the node sends halt");

  /** A bad command line; the message names the flag. */
  public static final class UsageException extends Exception {
    public UsageException(String message) {
      super(message);
    }
  }

  public static AgentOptions parse(String... args) throws UsageException {
    List<URI> nodes = new ArrayList<>();
    String hostType = null;
    Path keyFile = null;
    String instance = null;
    String hostname = null;
    Path workdir = null;
    Path spoolDir = null;
    long graceMs = DEFAULT_GRACE_MS;
    long keepExitMs = DEFAULT_KEEP_EXIT_MS;
    long maxBytes = DEFAULT_MAX_ARCHIVE_BYTES;
    long maxEntries = DEFAULT_MAX_ARCHIVE_ENTRIES;
    boolean halt = false;
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      String flag = arg;
      String value = null;
      int eq = arg.indexOf('=');
      if (arg.startsWith("--") && eq > 0) {
        flag = arg.substring(0, eq);
        value = arg.substring(eq + 1);
      }
      if (flag.equals("--halt-machine")) {
        if (value != null) {
          throw new UsageException("--halt-machine takes no value");
        }
        halt = true;
        continue;
      }
      if (!List.of("--node", "--host-type", "--key-file", "--instance", "--hostname", "--workdir",
              "--spool-dir", "--grace-ms", "--keep-exit-ms", "--max-archive-bytes", "--max-archive-entries").contains(flag)) {
        throw new UsageException("unknown argument \"" + arg + "\"");
      }
      if (value == null) {
        if (i + 1 >= args.length) {
          throw new UsageException(flag + " needs a value");
        }
        value = args[++i];
      }
      if (value.isBlank()) {
        throw new UsageException(flag + " needs a non-empty value");
      }
      switch (flag) {
        case "--node" -> nodes.add(nodeUrl(value));
        case "--host-type" -> hostType = value;
        case "--key-file" -> keyFile = Path.of(value);
        case "--instance" -> instance = value;
        case "--hostname" -> hostname = value;
        case "--workdir" -> workdir = Path.of(value);
        case "--spool-dir" -> spoolDir = Path.of(value);
        case "--grace-ms" -> graceMs = number(flag, value, 0);
        case "--keep-exit-ms" -> keepExitMs = number(flag, value, 1);
        case "--max-archive-bytes" -> maxBytes = number(flag, value, 1);
        case "--max-archive-entries" -> maxEntries = number(flag, value, 1);
        default -> throw new IllegalStateException(flag);
      }
    }
    if (nodes.isEmpty()) {
      throw new UsageException("--node is required");
    }
    if (hostType == null) {
      throw new UsageException("--host-type is required");
    }
    if (keyFile == null) {
      throw new UsageException("--key-file is required");
    }
    return new AgentOptions(List.copyOf(nodes), hostType, keyFile, instance, hostname, workdir, spoolDir,
        graceMs, keepExitMs, maxBytes, maxEntries, halt);
  }

  /**
   * A connect URL: ws or wss (http and https are taken to mean them), a host, and the connect
   * path when none is given.
   */
  static URI nodeUrl(String s) throws UsageException {
    URI u;
    try {
      u = new URI(s);
    } catch (URISyntaxException e) {
      throw new UsageException("--node \"" + s + "\" is not a URL: " + e.getReason());
    }
    String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
    scheme = switch (scheme) {
      case "ws", "http" -> "ws";
      case "wss", "https" -> "wss";
      default -> throw new UsageException("--node \"" + s + "\" must start with ws:// or wss://");
    };
    if (u.getHost() == null) {
      throw new UsageException("--node \"" + s + "\" has no host");
    }
    String path = u.getRawPath() == null || u.getRawPath().isEmpty() || u.getRawPath().equals("/")
        ? Handshake.PATH
        : u.getRawPath();
    try {
      return new URI(scheme, u.getRawUserInfo(), u.getHost(), u.getPort(), path, u.getQuery(), null);
    } catch (URISyntaxException e) {
      throw new UsageException("--node \"" + s + "\" is not a URL: " + e.getReason());
    }
  }

  private static long number(String flag, String value, long min) throws UsageException {
    long n;
    try {
      n = Long.parseLong(value.replace("_", ""));
    } catch (NumberFormatException e) {
      throw new UsageException(flag + " needs a number, got \"" + value + "\"");
    }
    if (n < min) {
      throw new UsageException(flag + " must be at least " + min + ", got " + n);
    }
    return n;
  }
}
