package tether.edge;

import io.vertx.core.MultiMap;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One direction's header rules of a route: {@code remove} these, {@code set} these (replacing any value), {@code add}
 * these (beside any value), as Envoy's {@code request_headers_to_add}/{@code _remove} and nginx's
 * {@code proxy_set_header}/{@code add_header}. A header is named by one rule at most, so the order never matters.
 * Headers Tether itself manages for the connection (hop-by-hop ones, {@code Host}, {@code Content-Length}) cannot
 * be named: the rules would break framing or routing.
 */
public final class HeaderRules {

  private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
  private static final Set<String> MANAGED = Set.of("connection", "keep-alive", "proxy-connection", "te", "trailer",
      "transfer-encoding", "upgrade", "host", "content-length");

  private final String[] remove;
  private final String[] setNames;
  private final HeaderValue[] setValues;
  private final String[] addNames;
  private final HeaderValue[] addValues;

  private HeaderRules(List<String> remove, Map<String, HeaderValue> set, Map<String, HeaderValue> add) {
    this.remove = remove.toArray(String[]::new);
    this.setNames = set.keySet().toArray(String[]::new);
    this.setValues = set.values().toArray(HeaderValue[]::new);
    this.addNames = add.keySet().toArray(String[]::new);
    this.addValues = add.values().toArray(HeaderValue[]::new);
  }

  /**
   * @throws IllegalArgumentException naming the first header that is not a token, is managed by Tether, or is named
   *     twice; the message starts with the header's name
   */
  public static HeaderRules of(Map<String, HeaderValue> set, Map<String, HeaderValue> add, List<String> remove) {
    Map<String, String> seen = new LinkedHashMap<>();
    List<String> problems = new ArrayList<>();
    check(set.keySet(), "set", seen, problems);
    check(add.keySet(), "add", seen, problems);
    check(remove, "remove", seen, problems);
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(problems.get(0));
    }
    return new HeaderRules(List.copyOf(remove), new LinkedHashMap<>(set), new LinkedHashMap<>(add));
  }

  /** Why {@code name} cannot be a rule's header (without the name), or null when it can. */
  public static String refusal(String name) {
    if (!TOKEN.matcher(name).matches()) {
      return "\"" + name + "\" is not a header name (expected letters, digits and !#$%&'*+.^_`|~-)";
    }
    if (MANAGED.contains(name.toLowerCase(Locale.ROOT))) {
      return "managed by Tether for each connection, cannot be changed by a rule";
    }
    return null;
  }

  private static void check(Iterable<String> names, String rule, Map<String, String> seen, List<String> problems) {
    for (String name : names) {
      String refusal = refusal(name);
      if (refusal != null) {
        problems.add(name + ": " + refusal);
      }
      String before = seen.putIfAbsent(name.toLowerCase(Locale.ROOT), rule);
      if (before != null) {
        problems.add(name + ": named by " + before + " and by " + rule + " (expected: one rule per header)");
      }
    }
  }

  public void apply(MultiMap headers, HeaderValue.Vars vars) {
    for (String name : remove) {
      headers.remove(name);
    }
    for (int i = 0; i < setNames.length; i++) {
      headers.set(setNames[i], setValues[i].render(vars));
    }
    for (int i = 0; i < addNames.length; i++) {
      headers.add(addNames[i], addValues[i].render(vars));
    }
  }

  /** For {@code tether check}: {@code set X-Real-IP: $client_ip; remove X-Powered-By}. */
  @Override
  public String toString() {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < setNames.length; i++) {
      out.add("set " + setNames[i] + ": " + setValues[i]);
    }
    for (int i = 0; i < addNames.length; i++) {
      out.add("add " + addNames[i] + ": " + addValues[i]);
    }
    for (String name : remove) {
      out.add("remove " + name);
    }
    return String.join("; ", out);
  }
}
