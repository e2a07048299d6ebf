package dev.grange.protocol.model;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * One config object being read, with its full key path. Each getter returns the value, the
 * default when the key is absent (or null), or {@code null} after recording a problem; a {@code
 * null} default means the key is required.
 */
final class ConfigSection {
  /** {@code NAME=VALUE} with a portable environment variable name. */
  private static final Pattern ENV_ENTRY =
      Pattern.compile("[A-Za-z_][A-Za-z0-9_]*=.*", Pattern.DOTALL);

  private static final int MAX_RENDERED = 80;

  private final String path;
  private final ConfigObject obj;
  private final Config cfg;
  private final List<String> problems;

  /**
   * @param path full key path of {@code obj}, as it appears in messages
   * @param problems where problems are added, one line each
   */
  ConfigSection(String path, ConfigObject obj, List<String> problems) {
    this.path = path;
    this.obj = obj;
    this.cfg = obj.toConfig();
    this.problems = problems;
  }

  String at(String key) {
    return path + "." + ConfigUtil.joinPath(key);
  }

  boolean has(String key) {
    ConfigValue v = obj.get(key);
    return v != null && v.valueType() != ConfigValueType.NULL;
  }

  boolean isEmptyList(String key) {
    return has(key)
        && obj.get(key).valueType() == ConfigValueType.LIST
        && ((ConfigList) obj.get(key)).isEmpty();
  }

  /** The raw string at {@code key} if it is one, without any checks or problems. */
  String peekString(String key) {
    ConfigValue v = obj.get(key);
    return v != null && v.valueType() == ConfigValueType.STRING ? (String) v.unwrapped() : null;
  }

  void onlyKeys(List<String> allowed) {
    for (String key : new TreeSet<>(obj.keySet())) {
      if (!allowed.contains(key)) {
        problem(at(key), "unknown key (allowed: " + String.join(", ", allowed) + ")");
      }
    }
  }

  /**
   * Whether {@code key} has a value. When it has none and is required, records that it is
   * missing, with {@code hint} (may be null) saying what belongs there.
   */
  private boolean present(String key, boolean required, String hint) {
    if (has(key)) {
      return true;
    }
    if (required) {
      String what = obj.containsKey(key) ? "must be set, got null" : "missing required key";
      problem(at(key), hint == null ? what : what + " (" + hint + ")");
    }
    return false;
  }

  /** Typesafe config's own conversion, with its type errors re-phrased under the full key. */
  private <T> T typed(String key, String expected, Function<String, T> getter) {
    try {
      return getter.apply(ConfigUtil.joinPath(key));
    } catch (ConfigException e) {
      problem(at(key), "must be " + expected + ", got " + render(obj.get(key)));
      return null;
    }
  }

  String string(String key, String dflt, String hint) {
    if (!present(key, dflt == null, hint)) {
      return dflt;
    }
    return typed(key, "a string", cfg::getString);
  }

  String nonEmptyString(String key, String dflt, String hint) {
    String s = string(key, dflt, hint);
    if (s != null && s.isBlank()) {
      problem(at(key), "must not be empty");
      return null;
    }
    return s;
  }

  Integer integer(String key, Integer dflt, String hint) {
    if (!present(key, dflt == null, hint)) {
      return dflt;
    }
    Object raw = obj.get(key).unwrapped();
    if (raw instanceof Double d && d != Math.rint(d)) {
      problem(at(key), "must be a whole number, got " + render(obj.get(key)));
      return null;
    }
    return typed(key, "a whole number", cfg::getInt);
  }

  Integer atLeast(String key, Integer dflt, int min, String hint) {
    Integer n = integer(key, dflt, hint);
    if (n != null && n < min) {
      problem(at(key), "must be at least " + min + ", got " + n);
      return null;
    }
    return n;
  }

  Boolean bool(String key, boolean dflt) {
    if (!present(key, false, null)) {
      return dflt;
    }
    return typed(key, "true or false", cfg::getBoolean);
  }

  Long durationMs(String key, long dflt, String example) {
    if (!present(key, false, null)) {
      return dflt;
    }
    String expected = "a positive duration like " + example;
    Duration d = typed(key, expected, cfg::getDuration);
    if (d == null) {
      return null;
    }
    if (d.toMillis() < 1) {
      problem(at(key), "must be " + expected + ", got " + render(obj.get(key)));
      return null;
    }
    return d.toMillis();
  }

  List<String> stringList(String key, List<String> dflt) {
    if (!present(key, dflt == null, null)) {
      return dflt;
    }
    return typed(key, "a list of strings", cfg::getStringList);
  }

  /** A required list of at least one non-blank string; {@code what} names one element. */
  List<String> nonEmptyStringList(String key, String hint, String what) {
    if (!present(key, true, hint)) {
      return null;
    }
    List<String> list = typed(key, "a list of strings", cfg::getStringList);
    if (list == null) {
      return null;
    }
    if (list.isEmpty()) {
      problem(at(key), "must name at least one " + what + ", got []");
      return null;
    }
    boolean ok = true;
    for (int i = 0; i < list.size(); i++) {
      if (list.get(i).isBlank()) {
        problem(at(key) + "[" + i + "]", "must not be empty");
        ok = false;
      }
    }
    return ok ? list : null;
  }

  List<String> envList(String key) {
    List<String> env = stringList(key, List.of());
    if (env == null) {
      return null;
    }
    boolean ok = true;
    for (int i = 0; i < env.size(); i++) {
      if (!ENV_ENTRY.matcher(env.get(i)).matches()) {
        problem(at(key) + "[" + i + "]", "must be NAME=VALUE, got " + quote(env.get(i)));
        ok = false;
      }
    }
    return ok ? env : null;
  }

  Map<String, String> stringMap(String key) {
    if (!present(key, false, null)) {
      return Map.of();
    }
    ConfigValue v = obj.get(key);
    if (v.valueType() != ConfigValueType.OBJECT) {
      problem(at(key), "must be an object of strings, got " + render(v));
      return null;
    }
    Map<String, String> out = new TreeMap<>();
    boolean ok = true;
    for (Map.Entry<String, ConfigValue> e : new TreeMap<>((ConfigObject) v).entrySet()) {
      ConfigValueType t = e.getValue().valueType();
      if (t == ConfigValueType.STRING
          || t == ConfigValueType.NUMBER
          || t == ConfigValueType.BOOLEAN) {
        out.put(e.getKey(), String.valueOf(e.getValue().unwrapped()));
      } else {
        String entryPath = at(key) + "." + ConfigUtil.joinPath(e.getKey());
        problem(entryPath, "must be a string, got " + render(e.getValue()));
        ok = false;
      }
    }
    return ok ? out : null;
  }

  Optional<ConfigSection> object(String key, String hint) {
    if (!present(key, true, hint)) {
      return Optional.empty();
    }
    ConfigValue v = obj.get(key);
    if (v.valueType() != ConfigValueType.OBJECT) {
      problem(at(key), "must be an object, got " + render(v));
      return Optional.empty();
    }
    return Optional.of(new ConfigSection(at(key), (ConfigObject) v, problems));
  }

  /**
   * The objects of the list at {@code key}, required when {@code missingHint} is not null; a
   * non-object element is a problem of its own.
   */
  List<ConfigSection> objectList(String key, String missingHint, String example) {
    if (!present(key, missingHint != null, missingHint)) {
      return List.of();
    }
    ConfigValue v = obj.get(key);
    if (v.valueType() != ConfigValueType.LIST) {
      problem(at(key), "must be a list of objects like " + example + ", got " + render(v));
      return List.of();
    }
    List<ConfigSection> out = new ArrayList<>();
    ConfigList list = (ConfigList) v;
    for (int i = 0; i < list.size(); i++) {
      String elementPath = at(key) + "[" + i + "]";
      if (list.get(i).valueType() != ConfigValueType.OBJECT) {
        problem(
            elementPath, "must be an object like " + example + ", got " + render(list.get(i)));
      } else {
        out.add(new ConfigSection(elementPath, (ConfigObject) list.get(i), problems));
      }
    }
    return out;
  }

  void problem(String keyPath, String what) {
    problems.add(keyPath + ": " + what);
  }

  /** {@code s} in HOCON/JSON quotes, as it would be written in config. */
  static String quote(String s) {
    return ConfigUtil.quoteString(s);
  }

  /** {@code v} as written in config, shortened when long, for "got ..." in messages. */
  static String render(ConfigValue v) {
    String s = v.render(ConfigRenderOptions.concise());
    return s.length() <= MAX_RENDERED ? s : s.substring(0, MAX_RENDERED - 3) + "...";
  }
}
