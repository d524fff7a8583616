package tether.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.apache.commons.text.similarity.LevenshteinDistance;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;

/**
 * One YAML mapping being bound to a record. Every getter reports a problem to the shared {@link Errors} (with file,
 * line and key path) and returns the default, so binding goes on and every error is found in one pass;
 * {@link #done()} then reports the keys nobody asked for, with the nearest known key as a suggestion. Every scalar
 * read has {@code ${NAME}} substituted first; keys starting with {@code x-} are not read at all (compose's extension
 * fields: a place for anchors). Merge keys ({@code <<: *defaults}) are already resolved by the composer.
 */
final class YamlMap {

  /**
   * One binding pass: collects errors as {@code file:line: key.path: message}, substitutes {@code vars} in every
   * scalar read, and remembers which keys each mapping asked for (so a test can hold the JSON Schema to them).
   */
  static final class Errors {
    private final String file;
    private final UnaryOperator<String> vars;
    private final List<Map.Entry<Integer, String>> messages = new ArrayList<>();
    private final Map<String, Set<String>> keysAsked = new TreeMap<>();

    Errors(String file, UnaryOperator<String> vars) {
      this.file = file;
      this.vars = vars;
    }

    void add(Node at, String path, String message) {
      int line = at == null ? 0 : at.getStartMark().map(m -> m.getLine() + 1).orElse(0);
      messages.add(Map.entry(line, file + ":" + line + ": " + (path.isEmpty() ? "" : path + ": ") + message));
    }

    void add(String message) {
      messages.add(Map.entry(0, file + ": " + message));
    }

    /** In file order. */
    List<String> messages() {
      return messages.stream().sorted(Map.Entry.comparingByKey()).map(Map.Entry::getValue).toList();
    }

    /** Key path (list indexes as {@code []}) -> the keys the loader asked for there, over every mapping done. */
    Map<String, Set<String>> keysAsked() {
      return keysAsked;
    }
  }

  private static final String EXTENSION = "x-";

  private final Node node;
  private final String path;
  private final Errors errors;
  private final Map<String, NodeTuple> entries = new LinkedHashMap<>();
  private final Set<String> read = new LinkedHashSet<>();

  YamlMap(Node node, String path, Errors errors) {
    this.node = node;
    this.path = path;
    this.errors = errors;
    if (node instanceof MappingNode mapping) {
      for (NodeTuple tuple : mapping.getValue()) {
        String key = tuple.getKeyNode() instanceof ScalarNode s ? s.getValue() : String.valueOf(tuple.getKeyNode());
        if (key.startsWith(EXTENSION)) {
          continue;
        }
        if (entries.putIfAbsent(key, tuple) != null) {
          errors.add(tuple.getKeyNode(), child(key), "duplicate key");
        }
      }
    } else if (node != null) {
      errors.add(node, path, "expected a mapping (key: value), got " + describe(node));
    }
  }

  String path() {
    return path;
  }

  Node node() {
    return node;
  }

  String child(String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  boolean has(String key) {
    return entries.containsKey(key);
  }

  /** The keys given, without counting them as read. */
  Set<String> presentKeys() {
    return entries.keySet();
  }

  Set<String> keys() {
    read.addAll(entries.keySet());
    return entries.keySet();
  }

  void error(String key, String message) {
    NodeTuple t = entries.get(key);
    errors.add(t == null ? node : t.getValueNode(), key == null ? path : child(key), message);
  }

  /** Reports item {@code index} of the list under {@code key}, at the item's line. */
  void error(String key, int index, String message) {
    NodeTuple t = entries.get(key);
    Node at = t != null && t.getValueNode() instanceof SequenceNode seq && index < seq.getValue().size()
        ? seq.getValue().get(index) : node;
    errors.add(at, child(key) + "[" + index + "]", message);
  }

  /** True when {@code key} is written as a list with no items ({@code listen: []}). */
  boolean isEmptyList(String key) {
    NodeTuple t = entries.get(key);
    return t != null && t.getValueNode() instanceof SequenceNode seq && seq.getValue().isEmpty();
  }

  /** Reports {@code key} itself (at the key's line) as misplaced; it then counts as read, so not as unknown. */
  void misplacedKey(String key, String message) {
    read.add(key);
    errors.add(entries.get(key).getKeyNode(), child(key), message);
  }

  /**
   * Builds a record whose compact constructor checks rules across fields; each {@link InvalidConfig.Problem} is
   * reported at its key in this mapping, and {@code fallback} is returned so binding goes on.
   */
  <T> T build(Supplier<T> constructor, T fallback) {
    try {
      return constructor.get();
    } catch (InvalidConfig e) {
      e.problems().forEach(p -> error(p.key(), p.message()));
      return fallback;
    }
  }

  Errors errors() {
    return errors;
  }

  private Node value(String key) {
    read.add(key);
    NodeTuple t = entries.get(key);
    return t == null ? null : t.getValueNode();
  }

  /** A scalar converted by {@code parse}; an exception from it becomes the error message. */
  <T> T scalar(String key, T def, Function<String, T> parse) {
    Node v = value(key);
    if (v == null) {
      return def;
    }
    if (!(v instanceof ScalarNode s)) {
      errors.add(v, child(key), "expected a single value, got " + describe(v));
      return def;
    }
    try {
      return parse.apply(errors.vars.apply(s.getValue()));
    } catch (IllegalArgumentException e) {
      errors.add(v, child(key), e.getMessage());
      return def;
    }
  }

  String string(String key, String def) {
    return scalar(key, def, s -> s);
  }

  String requiredString(String key) {
    if (!has(key)) {
      read.add(key); // a known key: a near miss is suggested as it
      error(null, "missing required key \"" + key + "\"");
      return null;
    }
    return string(key, null);
  }

  int integer(String key, int def, int min, int max) {
    return scalar(key, def, s -> {
      long n;
      try {
        n = Long.parseLong(s.trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("expected a whole number, got \"" + s + "\"");
      }
      if (n < min || n > max) {
        throw new IllegalArgumentException("expected " + min + ".." + max + ", got " + n);
      }
      return (int) n;
    });
  }

  boolean bool(String key, boolean def) {
    return scalar(key, def, s -> switch (s) {
      case "true", "yes", "on" -> true;
      case "false", "no", "off" -> false;
      default -> throw new IllegalArgumentException("expected true or false, got \"" + s + "\"");
    });
  }

  Duration duration(String key, Duration def) {
    return scalar(key, def, Units::duration);
  }

  long size(String key, long def) {
    return scalar(key, def, Units::size);
  }

  <E extends Enum<E>> E enumValue(String key, E def, Class<E> type) {
    return scalar(key, def, s -> {
      try {
        return Enum.valueOf(type, s.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        List<String> names = new ArrayList<>();
        for (E c : type.getEnumConstants()) {
          names.add(c.name().toLowerCase(Locale.ROOT));
        }
        throw new IllegalArgumentException("expected one of " + String.join(" | ", names) + ", got \"" + s + "\"");
      }
    });
  }

  /** A nested mapping, or empty when absent (an absent key is not an error). */
  Optional<YamlMap> map(String key) {
    Node v = value(key);
    return v == null ? Optional.empty() : Optional.of(new YamlMap(v, child(key), errors));
  }

  /** A sequence of mappings; a missing key is an empty list. */
  List<YamlMap> mapList(String key) {
    List<YamlMap> out = new ArrayList<>();
    for (Node item : sequence(key)) {
      out.add(new YamlMap(item, child(key) + "[" + out.size() + "]", errors));
    }
    return out;
  }

  /** A sequence of scalars, or a single scalar taken as a list of one. */
  List<String> stringList(String key) {
    Node v = value(key);
    List<String> out = new ArrayList<>();
    if (v instanceof ScalarNode s) {
      substituted(s, child(key), out);
    } else if (v != null) {
      List<Node> items = sequence(key);
      for (int i = 0; i < items.size(); i++) {
        if (items.get(i) instanceof ScalarNode s) {
          substituted(s, child(key) + "[" + i + "]", out);
        } else {
          errors.add(items.get(i), child(key) + "[" + i + "]", "expected a single value, got "
              + describe(items.get(i)));
        }
      }
    }
    return out;
  }

  private void substituted(ScalarNode s, String at, List<String> out) {
    try {
      out.add(errors.vars.apply(s.getValue()));
    } catch (IllegalArgumentException e) {
      errors.add(s, at, e.getMessage());
    }
  }

  private List<Node> sequence(String key) {
    Node v = value(key);
    if (v == null) {
      return List.of();
    }
    if (v instanceof SequenceNode seq) {
      return seq.getValue();
    }
    errors.add(v, child(key), "expected a list, got " + describe(v));
    return List.of();
  }

  /** Reports every key of this mapping that no getter read, with the nearest key that was asked for, if any. */
  void done() {
    errors.keysAsked.computeIfAbsent(path.replaceAll("\\[\\d+]", "[]"), p -> new TreeSet<>()).addAll(read);
    for (Map.Entry<String, NodeTuple> e : entries.entrySet()) {
      if (!read.contains(e.getKey())) {
        String near = nearest(e.getKey());
        errors.add(e.getValue().getKeyNode(), child(e.getKey()),
            "unknown key" + (near == null ? "" : " (did you mean " + near + "?)"));
      }
    }
  }

  /**
   * As HAProxy's "did you mean": the closest key asked for and not given, within an edit distance of a third of the
   * key's length (at least 2).
   */
  private String nearest(String key) {
    int limit = Math.max(2, key.length() / 3);
    LevenshteinDistance distance = new LevenshteinDistance(limit);
    String best = null;
    int bestDistance = limit + 1;
    for (String known : read) {
      int d = distance.apply(key.toLowerCase(Locale.ROOT), known);
      if (d >= 0 && d < bestDistance && !entries.containsKey(known)) {
        best = known;
        bestDistance = d;
      }
    }
    return best;
  }

  private static String describe(Node n) {
    if (n instanceof ScalarNode s) {
      return "\"" + s.getValue() + "\"";
    }
    return n instanceof SequenceNode ? "a list" : "a mapping";
  }
}
