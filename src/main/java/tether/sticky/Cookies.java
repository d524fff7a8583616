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
    List<String> out = List.of();
    for (String header : headers.getAll(HttpHeaders.COOKIE)) {
      int from = 0;
      while (from < header.length()) {
        int semi = header.indexOf(';', from);
        int end = semi < 0 ? header.length() : semi;
        int eq = header.indexOf('=', from);
        if (eq > 0 && eq < end && header.substring(from, eq).trim().equals(name)) {
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

  /** Removes cookie {@code name} from the Cookie headers (dropping a header left empty). */
  static void strip(MultiMap headers, String name) {
    List<String> cookies = headers.getAll(HttpHeaders.COOKIE);
    if (cookies.isEmpty()) {
      return;
    }
    List<String> kept = new ArrayList<>(cookies.size());
    boolean changed = false;
    for (String header : cookies) {
      StringBuilder rest = new StringBuilder();
      for (String pair : header.split(";")) {
        String trimmed = pair.trim();
        if (trimmed.startsWith(name + "=")) {
          changed = true;
        } else if (!trimmed.isEmpty()) {
          rest.append(rest.length() == 0 ? "" : "; ").append(trimmed);
        }
      }
      if (rest.length() > 0) {
        kept.add(rest.toString());
      }
    }
    if (changed) {
      headers.remove(HttpHeaders.COOKIE);
      kept.forEach(k -> headers.add(HttpHeaders.COOKIE, k));
    }
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
