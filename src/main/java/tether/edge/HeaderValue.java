package tether.edge;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A header value from the configuration, with variables resolved per request: {@code $client_ip},
 * {@code $request_id}, {@code $scheme}, {@code $host} (nginx's {@code $name} syntax, without its many names; a
 * {@code $} followed by anything but a letter is literal, {@code $$} is one {@code $}). Never {@code ${NAME}}: the
 * config loader has already replaced those from the environment. Parsed once, at config load; a value without
 * variables renders to the same string every time, without work.
 */
public final class HeaderValue {

  /** What a variable names, in the request being forwarded. */
  public enum Variable {
    /** The client's address (behind {@code trusted_proxies}: the first address that is not one of them). */
    CLIENT_IP,
    /** The {@code X-Request-Id} Tether sends to the backend. */
    REQUEST_ID,
    /** {@code http} or {@code https}, as {@code X-Forwarded-Proto} says it. */
    SCHEME,
    /** The request's host name, without port, lower case. */
    HOST;

    final String yamlName = "$" + name().toLowerCase(Locale.ROOT);
  }

  /** The variables' values for one request. */
  @FunctionalInterface
  public interface Vars {
    String value(Variable variable);
  }

  private final String text;
  /** null for a constant; else literals (String) and {@link Variable}s in order. */
  private final Object[] parts;

  private HeaderValue(String text, Object[] parts) {
    this.text = text;
    this.parts = parts;
  }

  /** @throws IllegalArgumentException for an unknown {@code $name} or a line break */
  public static HeaderValue parse(String text) {
    if (text.indexOf('\r') >= 0 || text.indexOf('\n') >= 0 || text.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("a header value cannot hold a line break or NUL");
    }
    List<Object> parts = new ArrayList<>();
    StringBuilder literal = new StringBuilder();
    boolean variables = false;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c != '$' || i + 1 == text.length()) {
        literal.append(c);
      } else if (text.charAt(i + 1) == '$') {
        literal.append('$');
        i++;
      } else if (!isNameChar(text.charAt(i + 1))) {
        literal.append('$');
      } else {
        int end = i + 1;
        while (end < text.length() && (isNameChar(text.charAt(end)) || Character.isDigit(text.charAt(end)))) {
          end++;
        }
        String name = text.substring(i, end);
        Variable v = variable(name);
        if (literal.length() > 0) {
          parts.add(literal.toString());
          literal.setLength(0);
        }
        parts.add(v);
        variables = true;
        i = end - 1;
      }
    }
    if (!variables) {
      return new HeaderValue(literal.toString(), null);
    }
    if (literal.length() > 0) {
      parts.add(literal.toString());
    }
    return new HeaderValue(text, parts.toArray());
  }

  private static boolean isNameChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  }

  private static Variable variable(String name) {
    for (Variable v : Variable.values()) {
      if (v.yamlName.equals(name)) {
        return v;
      }
    }
    List<String> known = new ArrayList<>();
    for (Variable v : Variable.values()) {
      known.add(v.yamlName);
    }
    throw new IllegalArgumentException("unknown variable " + name + " (expected: " + String.join(", ", known)
        + "; $$ for a literal $)");
  }

  public String render(Vars vars) {
    if (parts == null) {
      return text;
    }
    StringBuilder out = new StringBuilder(text.length() + 32);
    for (Object p : parts) {
      if (p instanceof Variable v) {
        String value = vars.value(v);
        out.append(value == null ? "" : value);
      } else {
        out.append((String) p);
      }
    }
    return out.toString();
  }

  /** As written in the configuration (a constant: its value). */
  @Override
  public String toString() {
    return text;
  }
}
