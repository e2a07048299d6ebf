package dev.grange.agent;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;

/**
 * What the agent reports about its machine, in Go's words ({@code GOOS}/{@code GOARCH} names):
 * the node matches host types against them, and they are what the Go buildlet reported.
 */
final class Platform {
  private Platform() {}

  /** The Go name of this OS: linux, darwin, windows, freebsd... */
  static String os() {
    return goos(System.getProperty("os.name", ""));
  }

  /** The Go name of this CPU architecture: amd64, arm64, 386... */
  static String arch() {
    return goarch(System.getProperty("os.arch", ""));
  }

  static String goos(String osName) {
    String n = osName.toLowerCase(Locale.ROOT);
    if (n.startsWith("windows")) {
      return "windows";
    }
    if (n.startsWith("mac") || n.startsWith("darwin")) {
      return "darwin";
    }
    if (n.equals("sunos") || n.startsWith("solaris")) {
      return "solaris";
    }
    return n.replace(" ", "");
  }

  static String goarch(String osArch) {
    return switch (osArch.toLowerCase(Locale.ROOT)) {
      case "amd64", "x86_64" -> "amd64";
      case "aarch64", "arm64" -> "arm64";
      case "x86", "i386", "i486", "i586", "i686" -> "386";
      case "arm", "armv7l", "aarch32" -> "arm";
      case "ppc64le" -> "ppc64le";
      case "ppc64" -> "ppc64";
      case "s390x" -> "s390x";
      case "riscv64" -> "riscv64";
      case "mips64el" -> "mips64le";
      case "loongarch64" -> "loong64";
      default -> osArch.toLowerCase(Locale.ROOT);
    };
  }

  /** This machine's hostname, as the OS knows it. */
  static String hostname() {
    String env = System.getenv("HOSTNAME");
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return env != null && !env.isBlank() ? env : "unknown";
    }
  }
}
