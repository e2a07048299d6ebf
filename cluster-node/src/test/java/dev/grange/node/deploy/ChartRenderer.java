package dev.grange.node.deploy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Renders the Grange Helm chart without helm: exactly the subset of Go template syntax that the
 * chart uses, and a loud {@link TemplateException} for anything else, so that a template written
 * beyond the subset fails the chart test instead of rendering wrongly.
 *
 * <p>The subset: text; actions {@code {{ }}} with the trim markers {@code {{- } and {@code -}}};
 * comments {@code {{/* *\/}}}; {@code define "name"} (in any template file, usually
 * {@code _helpers.tpl}), {@code if}/{@code else}/{@code end}, {@code range}/{@code else}/{@code end}
 * (over a list, or a map's values in key order, with dot the element); pipelines of commands
 * joined by {@code |} (the value before a {@code |} becomes the last argument of the next
 * command); operands {@code .}, {@code .A.b.c}, {@code $}, {@code $.A.b}, "strings" and integers;
 * and the functions {@code include}, {@code toYaml}, {@code toJson}, {@code nindent}, {@code
 * indent}, {@code quote}, {@code default}, {@code required}, {@code not}, which behave as Helm's.
 *
 * <p>Stricter than Helm in one way on purpose: a field that is not there ({@code .Values.x} with no
 * {@code x} in the values) is an error, not an empty value; so every value a template reads must
 * be declared in values.yaml, where an operator looks for it.
 */
final class ChartRenderer {
  /** A template that uses syntax outside the subset, or that fails while it renders. */
  static final class TemplateException extends RuntimeException {
    TemplateException(String message) {
      super(message);
    }
  }

  private static final List<String> FUNCTIONS =
      List.of("include", "toYaml", "toJson", "nindent", "indent", "quote", "default", "required", "not");
  private static final Map<String, Integer> ARITY = Map.of(
      "include", 2, "toYaml", 1, "toJson", 1, "nindent", 2, "indent", 2, "quote", 1, "default", 2,
      "required", 2, "not", 1);
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
      .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER))
      .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

  private final Map<String, List<Node>> defines = new HashMap<>();
  /** Files under templates/ that render to manifests (not starting with '_'), by name. */
  private final Map<String, List<Node>> manifests = new TreeMap<>();

  private ChartRenderer() {}

  /** Parses every file under {@code templates}; a syntax error in any of them fails here. */
  static ChartRenderer parse(Map<String, String> templates) {
    ChartRenderer r = new ChartRenderer();
    templates.forEach((name, text) -> {
      List<Node> nodes = new Parser(name, lex(name, text), r.defines).parseAll();
      if (!name.startsWith("_")) {
        r.manifests.put(name, nodes);
      }
    });
    return r;
  }

  /** The templates of a chart directory: every file in {@code templates/}, by file name. */
  static Map<String, String> templatesOf(Path chart) {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> files = Files.list(chart.resolve("templates"))) {
      for (Path f : files.toList()) {
        out.put(f.getFileName().toString(), Files.readString(f, StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  /** Each manifest file's output, with {@code root} as the top-level data (Values, Release, Chart). */
  Map<String, String> render(Map<String, Object> root) {
    Map<String, String> out = new TreeMap<>();
    manifests.forEach((name, nodes) -> {
      StringBuilder sb = new StringBuilder();
      new Evaluator(defines).run(name, nodes, root, root, sb, 0);
      out.put(name, sb.toString());
    });
    return out;
  }

  // ---- lexing: text and actions, with trim markers applied ----

  private record Piece(boolean action, String text, int line) {}

  private static List<Piece> lex(String file, String src) {
    List<Piece> out = new ArrayList<>();
    int i = 0;
    boolean trimNext = false;
    while (true) {
      int open = src.indexOf("{{", i);
      String text = src.substring(i, open < 0 ? src.length() : open);
      if (trimNext) {
        text = text.stripLeading();
      }
      if (open < 0) {
        out.add(new Piece(false, text, line(src, i)));
        return out;
      }
      boolean trimLeft = open + 3 < src.length() && src.charAt(open + 2) == '-' && Character.isWhitespace(src.charAt(open + 3));
      if (trimLeft) {
        text = text.stripTrailing();
      }
      out.add(new Piece(false, text, line(src, i)));
      int start = open + (trimLeft ? 3 : 2);
      int close = closeOf(file, src, start);
      boolean trimRight = close - 2 >= start && src.charAt(close - 1) == '-' && Character.isWhitespace(src.charAt(close - 2));
      String content = src.substring(start, trimRight ? close - 1 : close).strip();
      out.add(new Piece(true, content, line(src, open)));
      trimNext = trimRight;
      i = close + 2;
    }
  }

  /** Where the action starting at {@code from} ends ("}}" outside strings and comments). */
  private static int closeOf(String file, String src, int from) {
    int i = from;
    while (i < src.length()) {
      char c = src.charAt(i);
      if (src.startsWith("/*", i)) {
        int end = src.indexOf("*/", i + 2);
        if (end < 0) {
          throw new TemplateException(file + ":" + line(src, from) + ": unclosed comment");
        }
        i = end + 2;
      } else if (c == '"') {
        i++;
        while (i < src.length() && src.charAt(i) != '"') {
          i += src.charAt(i) == '\\' ? 2 : 1;
        }
        i++;
      } else if (src.startsWith("}}", i)) {
        return i;
      } else {
        i++;
      }
    }
    throw new TemplateException(file + ":" + line(src, from) + ": unclosed action (no \"}}\")");
  }

  private static int line(String src, int offset) {
    int n = 1;
    for (int i = 0; i < offset && i < src.length(); i++) {
      if (src.charAt(i) == '\n') {
        n++;
      }
    }
    return n;
  }

  // ---- the tree ----

  private sealed interface Node permits Text, Output, If, Range {}

  private record Text(String text) implements Node {}

  private record Output(Pipeline pipeline) implements Node {}

  private record If(Pipeline condition, List<Node> then, List<Node> otherwise) implements Node {}

  private record Range(Pipeline over, List<Node> body, List<Node> otherwise) implements Node {}

  private record Pipeline(String where, List<Command> commands) {}

  /** A function and its arguments, or a single operand (function null). */
  private record Command(String function, List<Operand> args) {}

  /** A literal (String or Long), or a field path from dot ({@code root} false) or from $. */
  private record Operand(Object literal, boolean field, boolean root, List<String> path) {}

  private static final class Parser {
    private final String file;
    private final List<Piece> pieces;
    private final Map<String, List<Node>> defines;
    private int pos;

    Parser(String file, List<Piece> pieces, Map<String, List<Node>> defines) {
      this.file = file;
      this.pieces = pieces;
      this.defines = defines;
    }

    List<Node> parseAll() {
      List<Node> nodes = new ArrayList<>();
      String end = parseUntil(nodes, true);
      if (end != null) {
        throw error(pieces.get(pos - 1), "\"" + end + "\" without an if or range");
      }
      return nodes;
    }

    /** Parses nodes into {@code into} until "end" or "else" (returned) or the end of the file (null). */
    private String parseUntil(List<Node> into, boolean topLevel) {
      while (pos < pieces.size()) {
        Piece p = pieces.get(pos++);
        if (!p.action()) {
          if (!p.text().isEmpty()) {
            into.add(new Text(p.text()));
          }
          continue;
        }
        String c = p.text();
        String word = c.split("\\s+", 2)[0];
        String rest = c.substring(word.length()).strip();
        if (c.startsWith("/*")) {
          if (!c.endsWith("*/")) {
            throw error(p, "a comment must be the whole action: {{/* ... */}}");
          }
          continue;
        }
        switch (word) {
          case "end", "else" -> {
            if (!rest.isEmpty()) {
              throw error(p, "\"" + c + "\" is outside the subset (only a bare else or end)");
            }
            return word;
          }
          case "if", "range" -> {
            Pipeline pl = pipeline(p, rest);
            List<Node> body = new ArrayList<>();
            List<Node> otherwise = new ArrayList<>();
            String stop = parseUntil(body, false);
            if ("else".equals(stop)) {
              stop = parseUntil(otherwise, false);
            }
            if (!"end".equals(stop)) {
              throw error(p, "\"" + word + "\" without its end");
            }
            into.add(word.equals("if") ? new If(pl, body, otherwise) : new Range(pl, body, otherwise));
          }
          case "define" -> {
            if (!topLevel) {
              throw error(p, "define inside another block");
            }
            Object name = operand(p, rest).literal();
            if (!(name instanceof String n)) {
              throw error(p, "define needs a quoted name");
            }
            List<Node> body = new ArrayList<>();
            if (!"end".equals(parseUntil(body, false))) {
              throw error(p, "define \"" + n + "\" without its end");
            }
            if (defines.put(n, body) != null) {
              throw error(p, "define \"" + n + "\" twice");
            }
          }
          default -> {
            String code = c.replaceAll("\"(\\\\.|[^\"\\\\])*\"", "\"\"");
            if (List.of("with", "template", "block", "break", "continue").contains(word) || code.contains(":=") || code.contains("(")) {
              throw error(p, "\"" + c + "\" is outside the subset this renderer knows");
            }
            into.add(new Output(pipeline(p, c)));
          }
        }
      }
      return null;
    }

    private Pipeline pipeline(Piece p, String text) {
      if (text.isEmpty()) {
        throw error(p, "empty pipeline");
      }
      List<Command> commands = new ArrayList<>();
      for (String part : splitOutsideStrings(p, text)) {
        List<String> words = words(p, part.strip());
        if (words.isEmpty()) {
          throw error(p, "empty command in \"" + text + "\"");
        }
        String head = words.get(0);
        int piped = commands.isEmpty() ? 0 : 1;
        if (Character.isLetter(head.charAt(0)) && !head.equals("true") && !head.equals("false")) {
          if (!FUNCTIONS.contains(head)) {
            throw error(p, "unknown function \"" + head + "\" (the renderer knows " + FUNCTIONS + ")");
          }
          int args = words.size() - 1 + piped;
          if (args != ARITY.get(head)) {
            throw error(p, head + " takes " + ARITY.get(head) + " argument(s), got " + args + " in \"" + text + "\"");
          }
          commands.add(new Command(head, words.subList(1, words.size()).stream().map(w -> operand(p, w)).toList()));
        } else {
          if (words.size() != 1 || piped == 1) {
            throw error(p, "\"" + part.strip() + "\" is not a function call");
          }
          commands.add(new Command(null, List.of(operand(p, head))));
        }
      }
      return new Pipeline(file + ":" + p.line(), commands);
    }

    private Operand operand(Piece p, String w) {
      if (w.startsWith("\"")) {
        return new Operand(unquote(p, w), false, false, List.of());
      }
      if (w.matches("-?[0-9]+")) {
        return new Operand(Long.parseLong(w), false, false, List.of());
      }
      if (w.equals("true") || w.equals("false")) {
        return new Operand(Boolean.parseBoolean(w), false, false, List.of());
      }
      boolean root = w.startsWith("$");
      String path = root ? w.substring(1) : w;
      if (path.isEmpty() && root || path.equals(".")) {
        return new Operand(null, true, root, List.of());
      }
      if (!path.matches("(\\.[A-Za-z_][A-Za-z0-9_]*)+")) {
        throw error(p, "\"" + w + "\" is not an operand the renderer knows (., .A.b, $, $.A.b, \"string\", integer)");
      }
      return new Operand(null, true, root, List.of(path.substring(1).split("\\.")));
    }

    private List<String> splitOutsideStrings(Piece p, String text) {
      List<String> parts = new ArrayList<>();
      StringBuilder cur = new StringBuilder();
      boolean inString = false;
      for (int i = 0; i < text.length(); i++) {
        char c = text.charAt(i);
        if (inString && c == '\\') {
          cur.append(c).append(text.charAt(++i));
          continue;
        }
        if (c == '"') {
          inString = !inString;
        }
        if (c == '|' && !inString) {
          parts.add(cur.toString());
          cur.setLength(0);
        } else {
          cur.append(c);
        }
      }
      if (inString) {
        throw error(p, "unclosed string in \"" + text + "\"");
      }
      parts.add(cur.toString());
      return parts;
    }

    private List<String> words(Piece p, String part) {
      List<String> out = new ArrayList<>();
      int i = 0;
      while (i < part.length()) {
        if (Character.isWhitespace(part.charAt(i))) {
          i++;
          continue;
        }
        int start = i;
        if (part.charAt(i) == '"') {
          i++;
          while (i < part.length() && part.charAt(i) != '"') {
            i += part.charAt(i) == '\\' ? 2 : 1;
          }
          i++;
        } else {
          while (i < part.length() && !Character.isWhitespace(part.charAt(i))) {
            i++;
          }
        }
        out.add(part.substring(start, Math.min(i, part.length())));
      }
      return out;
    }

    private String unquote(Piece p, String w) {
      StringBuilder sb = new StringBuilder();
      for (int i = 1; i < w.length() - 1; i++) {
        char c = w.charAt(i);
        if (c == '\\') {
          char e = w.charAt(++i);
          switch (e) {
            case 'n' -> sb.append('\n');
            case 't' -> sb.append('\t');
            case '"', '\\' -> sb.append(e);
            default -> throw error(p, "escape \\" + e + " is outside the subset");
          }
        } else {
          sb.append(c);
        }
      }
      return sb.toString();
    }

    private TemplateException error(Piece p, String what) {
      return new TemplateException(file + ":" + p.line() + ": " + what);
    }
  }

  // ---- evaluation ----

  private static final class Evaluator {
    private final Map<String, List<Node>> defines;

    Evaluator(Map<String, List<Node>> defines) {
      this.defines = defines;
    }

    void run(String where, List<Node> nodes, Object dot, Object root, StringBuilder out, int depth) {
      if (depth > 50) {
        throw new TemplateException(where + ": include nested more than 50 deep");
      }
      for (Node n : nodes) {
        if (n instanceof Text t) {
          out.append(t.text());
        } else if (n instanceof Output o) {
          out.append(print(o.pipeline(), eval(o.pipeline(), dot, root, depth)));
        } else if (n instanceof If i) {
          run(where, truthy(eval(i.condition(), dot, root, depth)) ? i.then() : i.otherwise(), dot, root, out, depth);
        } else if (n instanceof Range r) {
          range(where, r, dot, root, out, depth);
        }
      }
    }

    private void range(String where, Range r, Object dot, Object root, StringBuilder out, int depth) {
      Object over = eval(r.over(), dot, root, depth);
      Collection<?> items;
      if (over == null) {
        items = List.of();
      } else if (over instanceof List<?> l) {
        items = l;
      } else if (over instanceof Map<?, ?> m) {
        items = new TreeMap<>(m).values();
      } else {
        throw new TemplateException(r.over().where() + ": range over " + describe(over) + ", not a list or map");
      }
      if (items.isEmpty()) {
        run(where, r.otherwise(), dot, root, out, depth);
      }
      for (Object item : items) {
        run(where, r.body(), item, root, out, depth);
      }
    }

    private Object eval(Pipeline p, Object dot, Object root, int depth) {
      Object value = null;
      for (int k = 0; k < p.commands().size(); k++) {
        Command c = p.commands().get(k);
        List<Object> args = new ArrayList<>();
        for (Operand o : c.args()) {
          args.add(value(p, o, dot, root));
        }
        if (k > 0) {
          args.add(value);
        }
        value = c.function() == null ? args.get(0) : call(p, c.function(), args, depth);
      }
      return value;
    }

    private Object value(Pipeline p, Operand o, Object dot, Object root) {
      if (!o.field()) {
        return o.literal();
      }
      Object v = o.root() ? root : dot;
      StringBuilder at = new StringBuilder(o.root() ? "$" : "");
      for (String key : o.path()) {
        if (!(v instanceof Map<?, ?> m)) {
          throw new TemplateException(p.where() + ": " + at + "." + key + ": " + (at.length() == 0 ? "." : at) + " is " + describe(v) + ", not a map");
        }
        if (!m.containsKey(key)) {
          throw new TemplateException(p.where() + ": " + at + "." + key + " is not set (declare it in values.yaml)");
        }
        v = m.get(key);
        at.append('.').append(key);
      }
      return v;
    }

    private Object call(Pipeline p, String f, List<Object> a, int depth) {
      switch (f) {
        case "include" -> {
          String name = string(p, f, a.get(0));
          List<Node> body = defines.get(name);
          if (body == null) {
            throw new TemplateException(p.where() + ": include of \"" + name + "\", which no template defines");
          }
          StringBuilder sb = new StringBuilder();
          run(p.where() + " (in \"" + name + "\")", body, a.get(1), a.get(1), sb, depth + 1);
          return sb.toString();
        }
        case "toYaml" -> {
          try {
            return YAML.writeValueAsString(a.get(0)).stripTrailing();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
        case "toJson" -> {
          try {
            return JSON.writeValueAsString(a.get(0));
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
        case "nindent", "indent" -> {
          if (!(a.get(0) instanceof Long n)) {
            throw new TemplateException(p.where() + ": " + f + " needs a number first, got " + describe(a.get(0)));
          }
          String pad = " ".repeat(n.intValue());
          String s = pad + string(p, f, a.get(1)).replace("\n", "\n" + pad);
          return f.equals("nindent") ? "\n" + s : s;
        }
        case "quote" -> {
          return quote(print(p, a.get(0)));
        }
        case "default" -> {
          return truthy(a.get(1)) ? a.get(1) : a.get(0);
        }
        case "required" -> {
          Object v = a.get(1);
          if (v == null || "".equals(v)) {
            throw new TemplateException(p.where() + ": " + string(p, f, a.get(0)));
          }
          return v;
        }
        case "not" -> {
          return !truthy(a.get(0));
        }
        default -> throw new TemplateException(p.where() + ": unknown function " + f);
      }
    }

    private static String print(Pipeline p, Object v) {
      if (v instanceof Map || v instanceof List) {
        throw new TemplateException(p.where() + ": prints " + describe(v) + " as text: use toYaml or toJson");
      }
      return v == null ? "" : v.toString();
    }

    private static String string(Pipeline p, String f, Object v) {
      if (!(v instanceof String s)) {
        throw new TemplateException(p.where() + ": " + f + " needs a string, got " + describe(v));
      }
      return s;
    }
  }

  /** Go template truth: false, 0, nil, "" and empty lists and maps are false. */
  static boolean truthy(Object v) {
    if (v == null) {
      return false;
    }
    if (v instanceof Boolean b) {
      return b;
    }
    if (v instanceof Number n) {
      return n.doubleValue() != 0;
    }
    if (v instanceof String s) {
      return !s.isEmpty();
    }
    if (v instanceof Collection<?> c) {
      return !c.isEmpty();
    }
    if (v instanceof Map<?, ?> m) {
      return !m.isEmpty();
    }
    return true;
  }

  /** Go's strconv.Quote for the characters a chart meets. */
  static String quote(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\t' -> sb.append("\\t");
        case '\r' -> sb.append("\\r");
        default -> {
          if (c < 0x20) {
            sb.append(String.format("\\x%02x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"').toString();
  }

  private static String describe(Object v) {
    if (v == null) {
      return "nil";
    }
    if (v instanceof Map) {
      return "a map";
    }
    if (v instanceof List) {
      return "a list";
    }
    return v.getClass().getSimpleName() + " " + v;
  }

  /** Helm's merge of values files: maps merge key by key, anything else in {@code over} replaces. */
  @SuppressWarnings("unchecked")
  static Map<String, Object> merge(Map<String, Object> base, Map<String, Object> over) {
    Map<String, Object> out = new LinkedHashMap<>(base);
    over.forEach((k, v) -> {
      Object b = out.get(k);
      if (b instanceof Map && v instanceof Map) {
        out.put(k, merge((Map<String, Object>) b, (Map<String, Object>) v));
      } else {
        out.put(k, v);
      }
    });
    return out;
  }
}
