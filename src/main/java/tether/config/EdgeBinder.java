package tether.config;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import tether.edge.ErrorPages;
import tether.edge.HeaderRules;
import tether.edge.HeaderValue;
import tether.edge.Redirect;
import tether.edge.Rewrite;
import tether.edge.RouteRules;

/**
 * Binds the edge keys: {@code error_pages} (global and per upstream; each file read here, once per load, relative to
 * the configuration file's directory) and a route's {@code redirect}, {@code rewrite} and {@code headers}. Every
 * problem is reported at its key; nothing here is left for the request path to find out.
 */
final class EdgeBinder {

  /** An error page is one self-contained file: anything bigger is a mistake (a video, a whole site). */
  static final long MAX_PAGE_BYTES = 1 << 20;

  private final Path base;

  /** {@code configFile}: relative page files are read from its directory. */
  EdgeBinder(String configFile) {
    Path dir;
    try {
      dir = Path.of(configFile).toAbsolutePath().getParent();
    } catch (InvalidPathException e) {
      dir = null;
    }
    this.base = dir == null ? Path.of("").toAbsolutePath() : dir;
  }

  /** {@code error_pages: {503: FILE, ...}}: other statuses are reported, as are files that cannot be read. */
  ErrorPages errorPages(YamlMap m) {
    for (String key : List.copyOf(m.presentKeys())) {
      if (!isPageStatus(key)) {
        m.misplacedKey(key, "no page for " + key + ": pages are for the 502, 503 and 504 Tether answers itself"
            + " when backends fail it (expected: 502, 503 or 504)");
      }
    }
    Map<Integer, ErrorPages.Page> pages = new TreeMap<>();
    for (int status : ErrorPages.STATUSES) {
      String key = String.valueOf(status);
      String file = m.string(key, null);
      if (file != null) {
        byte[] html = read(m, key, file);
        if (html != null) {
          pages.put(status, new ErrorPages.Page(base.resolve(file).normalize().toString(), html));
        }
      }
    }
    m.done();
    return ErrorPages.of(pages);
  }

  private static boolean isPageStatus(String key) {
    for (int s : ErrorPages.STATUSES) {
      if (key.equals(String.valueOf(s))) {
        return true;
      }
    }
    return false;
  }

  private byte[] read(YamlMap m, String key, String file) {
    Path path;
    try {
      path = base.resolve(file).normalize();
    } catch (InvalidPathException e) {
      m.error(key, "\"" + file + "\" is not a file path: " + e.getReason());
      return null;
    }
    String where = Path.of(file).isAbsolute() ? "" : " (a relative path is read from the configuration file's"
        + " directory, " + base + ")";
    try {
      if (Files.isDirectory(path)) {
        m.error(key, path + " is a directory (expected: an HTML file)");
        return null;
      }
      long size = Files.size(path);
      if (size == 0 || size > MAX_PAGE_BYTES) {
        m.error(key, path + " is " + (size == 0 ? "empty" : size + " bytes") + " (expected: an HTML page of 1 to "
            + MAX_PAGE_BYTES + " bytes, its images and styles inline)");
        return null;
      }
      return Files.readAllBytes(path);
    } catch (NoSuchFileException e) {
      m.error(key, "no such file: " + path + where);
    } catch (AccessDeniedException e) {
      m.error(key, "cannot read " + path + ": permission denied");
    } catch (IOException e) {
      m.error(key, "cannot read " + path + ": " + e.getMessage());
    }
    return null;
  }

  /** A route's {@code redirect}, {@code rewrite} and {@code headers}; null when it has none. */
  RouteRules routeRules(YamlMap r) {
    Redirect redirect = r.map("redirect").map(EdgeBinder::redirect).orElse(null);
    Rewrite rewrite = r.map("rewrite").map(EdgeBinder::rewrite).orElse(null);
    HeaderRules request = null;
    HeaderRules response = null;
    Optional<YamlMap> headers = r.map("headers");
    if (headers.isPresent()) {
      YamlMap h = headers.get();
      request = h.map("request").map(EdgeBinder::headerRules).orElse(null);
      response = h.map("response").map(EdgeBinder::headerRules).orElse(null);
      h.done();
      if (r.has("redirect") && h.has("request")) {
        h.error("request", "a redirect route forwards no request (expected: response rules only)");
      }
    }
    if (r.has("redirect") && r.has("rewrite")) {
      r.error("rewrite", "a redirect route forwards no request: nothing to rewrite (expected: redirect or"
          + " rewrite, not both)");
    }
    return RouteRules.of(redirect, rewrite, request, response);
  }

  private static Redirect redirect(YamlMap m) {
    int status = m.integer("status", Redirect.DEFAULT_STATUS, 100, 599);
    String to = m.requiredString("to");
    m.done();
    if (to == null) {
      return null;
    }
    try {
      return Redirect.of(status, to.trim());
    } catch (IllegalArgumentException e) {
      reportKeyed(m, e.getMessage());
      return null;
    }
  }

  private static Rewrite rewrite(YamlMap m) {
    String strip = m.string("strip_prefix", null);
    String add = m.string("add_prefix", null);
    m.done();
    if (strip == null && add == null) {
      m.error(null, "expected strip_prefix, add_prefix or both");
      return null;
    }
    try {
      return new Rewrite(strip, add);
    } catch (IllegalArgumentException e) {
      reportKeyed(m, e.getMessage());
      return null;
    }
  }

  /** A message {@code "key: what"} from a record's check, reported at {@code key}. */
  private static void reportKeyed(YamlMap m, String message) {
    int colon = message.indexOf(": ");
    m.error(colon < 0 ? null : message.substring(0, colon), colon < 0 ? message : message.substring(colon + 2));
  }

  /** {@code {set: {...}, add: {...}, remove: [...]}}; null when empty. A header is named by one rule at most. */
  private static HeaderRules headerRules(YamlMap d) {
    Map<String, String> seen = new HashMap<>();
    Map<String, HeaderValue> set = headerValues(d, "set", seen);
    Map<String, HeaderValue> add = headerValues(d, "add", seen);
    List<String> remove = d.stringList("remove");
    for (int i = 0; i < remove.size(); i++) {
      String name = remove.get(i);
      String problem = problem(name, "remove", seen);
      if (problem != null) {
        d.error("remove", i, problem);
      }
    }
    d.done();
    if (set.isEmpty() && add.isEmpty() && remove.isEmpty()) {
      return null;
    }
    try {
      return HeaderRules.of(set, add, remove);
    } catch (IllegalArgumentException e) {
      return null; // reported above, at the header's own key
    }
  }

  /** Header name -> value; the names are free (no unknown keys), so this mapping is not done(). */
  private static Map<String, HeaderValue> headerValues(YamlMap d, String key, Map<String, String> seen) {
    Optional<YamlMap> given = d.map(key);
    if (given.isEmpty()) {
      return Map.of();
    }
    YamlMap m = given.get();
    if (m.node() instanceof MappingNode mapping) {
      for (NodeTuple t : mapping.getValue()) {
        // an x- key is an extension field to YamlMap, so it would vanish here without a word
        if (t.getKeyNode() instanceof ScalarNode s && s.getValue().startsWith("x-")) {
          m.errors().add(t.getKeyNode(), m.child(s.getValue()), "keys starting with x- are ignored (extension"
              + " fields): write the header with a capital, X-" + s.getValue().substring(2));
        }
      }
    }
    Map<String, HeaderValue> out = new LinkedHashMap<>();
    for (String name : new ArrayList<>(m.keys())) {
      HeaderValue value = m.scalar(name, null, HeaderValue::parse);
      String problem = problem(name, key, seen);
      if (problem != null) {
        m.error(name, problem);
      } else if (value != null) {
        out.put(name, value);
      }
    }
    return out;
  }

  private static String problem(String name, String rule, Map<String, String> seen) {
    String refusal = HeaderRules.refusal(name);
    if (refusal != null) {
      return refusal;
    }
    String before = seen.putIfAbsent(name.toLowerCase(Locale.ROOT), rule);
    return before == null ? null : name + " is named by " + before + " already (expected: one rule per header)";
  }
}
