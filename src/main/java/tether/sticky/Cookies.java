package tether.sticky;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads and strips one cookie in Cookie headers, and reads it in Set-Cookie headers, without a full parse (RFC 6265
 * §5.4 pairs; a quoted value unquoted). Stickiness uses all of it; {@link #first} is public for the rate limiter.
 */
public final class Cookies {

  private Cookies() {}

  /** Every value of cookie {@code name} in the request's Cookie headers, in order. */
  static List<String> values(MultiMap headers, String name) {
    if (!headers.contains(HttpHeaders.COOKIE)) {
      return List.of(); // (no list built for a request without cookies)
    }
    List<String> out = List.of();
    for (String header : headers.getAll(HttpHeaders.COOKIE)) {
      int from = 0;
      while (from < header.length()) {
        int semi = header.indexOf(';', from);
        int end = semi < 0 ? header.length() : semi;
        int eq = header.indexOf('=', from);
        if (eq > 0 && eq < end && named(header, from, eq, name)) {
          if (out.isEmpty()) {
            out = new ArrayList<>(1);
          }
          out.add(unquote(header.substring(eq + 1, end).trim()));
        }
        from = end + 1;
      }
    }
    return out;
  }

  /** The first value of cookie {@code name} in the request's Cookie headers, or null. */
  public static String first(MultiMap headers, String name) {
    List<String> all = values(headers, name);
    return all.isEmpty() ? null : all.get(0);
  }

  /**
   * Removes cookie {@code name} from the Cookie headers (a pair is named as {@link #values} reads it), dropping a
   * header left empty; the pairs kept are joined with "; ". Headers without it are left as they are.
   */
  public static void strip(MultiMap headers, String name) {
    if (!headers.contains(HttpHeaders.COOKIE)) {
      return;
    }
    List<String> cookies = headers.getAll(HttpHeaders.COOKIE);
    List<String> kept = new ArrayList<>(cookies.size());
    boolean changed = false;
    for (String header : cookies) {
      String rest = without(header, name);
      changed |= rest != header;
      if (rest != null) {
        kept.add(rest);
      }
    }
    if (changed) {
      headers.remove(HttpHeaders.COOKIE);
      kept.forEach(k -> headers.add(HttpHeaders.COOKIE, k));
    }
  }

  /**
   * One Cookie line without cookie {@code name}, as {@link #strip} edits each line: {@code header} itself (the same
   * String) when no pair is named so, null when no pair is left, else the pairs kept, trimmed, joined with "; ".
   */
  public static String without(String header, String name) {
    if (!names(header, name)) {
      return header; // (no String made for a line without it)
    }
    StringBuilder rest = null;
    int from = 0;
    while (from < header.length()) {
      int semi = header.indexOf(';', from);
      int end = semi < 0 ? header.length() : semi;
      int eq = header.indexOf('=', from);
      if (eq < 0 || eq >= end || !named(header, from, eq, name)) {
        String pair = header.substring(from, end).trim();
        if (!pair.isEmpty()) {
          rest = rest == null ? new StringBuilder(header.length()) : rest.append("; ");
          rest.append(pair);
        }
      }
      from = end + 1;
    }
    return rest == null ? null : rest.toString();
  }

  /** Some pair of the Cookie line {@code header} is named {@code name}. */
  private static boolean names(String header, String name) {
    int from = 0;
    while (from < header.length()) {
      int semi = header.indexOf(';', from);
      int end = semi < 0 ? header.length() : semi;
      int eq = header.indexOf('=', from);
      if (eq >= 0 && eq < end && named(header, from, eq, name)) {
        return true;
      }
      from = end + 1;
    }
    return false;
  }

  /** {@code header[from, to)}, trimmed as {@link String#trim} does, is {@code name}: without a substring. */
  private static boolean named(String header, int from, int to, String name) {
    while (from < to && header.charAt(from) <= ' ') {
      from++;
    }
    while (to > from && header.charAt(to - 1) <= ' ') {
      to--;
    }
    return to - from == name.length() && header.startsWith(name, from);
  }

  /** The value the response sets for cookie {@code name}, or null (a deletion counts as null). */
  static String setCookieValue(MultiMap responseHeaders, String name) {
    for (String header : responseHeaders.getAll(HttpHeaders.SET_COOKIE)) {
      int eq = header.indexOf('=');
      if (eq > 0 && header.substring(0, eq).trim().equals(name)) {
        int semi = header.indexOf(';', eq);
        String value = unquote(header.substring(eq + 1, semi < 0 ? header.length() : semi).trim());
        String lower = header.toLowerCase();
        boolean deleted = value.isEmpty() || lower.contains("max-age=0") || lower.contains("=deleted");
        return deleted ? null : value;
      }
    }
    return null;
  }

  private static String unquote(String v) {
    return v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"") ? v.substring(1, v.length() - 1) : v;
  }
}
