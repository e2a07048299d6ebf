package dev.grange.webui.failure;

import java.util.ArrayList;
import java.util.List;

/**
 * Text the way Go's tools print it: Go's idea of white space (for trimming and splitting
 * fields) and Go's double-quoted string literals (the buildlet quotes a command's arguments).
 */
final class GoText {
  private GoText() {}

  /** Go's unicode.IsSpace. */
  static boolean space(int c) {
    return switch (c) {
      case '\t', '\n', 0x0B, '\f', '\r', ' ', 0x85, 0xA0 -> true;
      default -> c > 0xFF && Character.isSpaceChar(c);
    };
  }

  static String trim(String s) {
    int a = 0;
    int b = s.length();
    while (a < b && space(s.charAt(a))) {
      a++;
    }
    while (b > a && space(s.charAt(b - 1))) {
      b--;
    }
    return s.substring(a, b);
  }

  /** The runs of non-space characters. */
  static List<String> fields(String s) {
    List<String> out = new ArrayList<>();
    int i = 0;
    while (i < s.length()) {
      while (i < s.length() && space(s.charAt(i))) {
        i++;
      }
      int start = i;
      while (i < s.length() && !space(s.charAt(i))) {
        i++;
      }
      if (i > start) {
        out.add(s.substring(start, i));
      }
    }
    return out;
  }

  /**
   * The value of a Go double-quoted literal ({@code "a\tb"}); an escape it does not know is kept
   * as written, since a section name is for people, not for running.
   */
  static String unquote(String quoted) {
    String s = quoted.length() >= 2 && quoted.startsWith("\"") && quoted.endsWith("\"")
        ? quoted.substring(1, quoted.length() - 1) : quoted;
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c != '\\' || i + 1 == s.length()) {
        b.append(c);
        continue;
      }
      char e = s.charAt(++i);
      switch (e) {
        case 'a' -> b.append('\u0007');
        case 'b' -> b.append('\b');
        case 'f' -> b.append('\f');
        case 'n' -> b.append('\n');
        case 'r' -> b.append('\r');
        case 't' -> b.append('\t');
        case 'v' -> b.append('\u000B');
        case '\\', '"', '\'' -> b.append(e);
        case 'x', 'u', 'U' -> {
          int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          int code = hex(s, i + 1, digits);
          if (code < 0) {
            b.append('\\').append(e);
          } else {
            b.appendCodePoint(code);
            i += digits;
          }
        }
        default -> {
          int code = e >= '0' && e <= '7' && i + 2 < s.length() ? octal(s, i) : -1;
          if (code < 0) {
            b.append('\\').append(e);
          } else {
            b.append((char) code);
            i += 2;
          }
        }
      }
    }
    return b.toString();
  }

  private static int hex(String s, int from, int digits) {
    if (from + digits > s.length()) {
      return -1;
    }
    try {
      int v = Integer.parseUnsignedInt(s.substring(from, from + digits), 16);
      return Character.isValidCodePoint(v) ? v : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static int octal(String s, int from) {
    int v = 0;
    for (int k = 0; k < 3; k++) {
      char d = s.charAt(from + k);
      if (d < '0' || d > '7') {
        return -1;
      }
      v = v * 8 + (d - '0');
    }
    return v <= 0xFF ? v : -1;
  }
}
