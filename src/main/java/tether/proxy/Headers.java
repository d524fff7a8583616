package tether.proxy;

import io.netty.util.AsciiString;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.impl.headers.HeadersMultiMap;
import java.util.Iterator;
import java.util.Map;

/** Copies end-to-end headers: hop-by-hop ones (RFC 9110 §7.6.1) and those the Connection header lists stay behind. */
final class Headers {

  // AsciiStrings: their case-insensitive hash is computed once, not per response they are removed from
  private static final AsciiString[] HOP_BY_HOP = java.util.stream.Stream.of("connection", "keep-alive",
      "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "proxy-authenticate",
      "proxy-authorization").map(AsciiString::cached).toArray(AsciiString[]::new);

  private Headers() {}

  /**
   * {@code headers}' lines in order: on Vert.x's own map without the String entry its iterator wraps around every
   * line (two objects per request and line, on the request path); keys and values are Strings as Netty decoded them.
   */
  static Iterator<? extends Map.Entry<? extends CharSequence, ? extends CharSequence>> lines(MultiMap headers) {
    return headers instanceof HeadersMultiMap vertx ? vertx.iteratorCharSequence() : headers.iterator();
  }

  static void copyEndToEnd(MultiMap from, MultiMap to) {
    String connection = connectionList(from);
    for (Map.Entry<String, String> header : from) {
      if (isEndToEnd(header.getKey(), connection)) {
        to.add(header.getKey(), header.getValue());
      }
    }
  }

  /**
   * Removes the hop-by-hop headers and those the {@code Connection} header lists from {@code headers}, in place: a
   * response relayed as the backend's decoder built it (no second map per response on the fast path).
   */
  static void removeHopByHop(MultiMap headers) {
    String connection = connectionList(headers);
    for (AsciiString name : HOP_BY_HOP) {
      headers.remove(name);
    }
    if (connection == null) {
      return;
    }
    int start = 0;
    while (start <= connection.length()) {
      int comma = connection.indexOf(',', start);
      int end = comma < 0 ? connection.length() : comma;
      String token = connection.substring(start, end).trim();
      if (!token.isEmpty()) {
        headers.remove(token);
      }
      start = end + 1;
    }
  }

  /**
   * The request's end-to-end headers but Host, which the forwarded request sets from the request target. Several
   * Cookie lines become one, joined with "; " (RFC 9113 §8.2.3, RFC 6265 §5.4): PHP and most servers read only one.
   */
  static void copyRequestHeaders(MultiMap from, MultiMap to) {
    String connection = connectionList(from);
    String cookies = null;
    for (var it = lines(from); it.hasNext(); ) {
      var header = it.next();
      String name = header.getKey().toString();
      if (!isEndToEnd(name, connection) || name.equalsIgnoreCase("host")) {
        continue;
      }
      String value = header.getValue().toString();
      if (name.equalsIgnoreCase("cookie")) {
        cookies = cookies == null ? value : cookies + "; " + value;
      } else {
        to.add(name, value);
      }
    }
    if (cookies != null) {
      to.add(HttpHeaders.COOKIE, cookies);
    }
  }

  /**
   * Every {@code Connection} line of {@code headers} as one comma-separated list (RFC 9110 §5.3: several lines are
   * one list), or null when it has none. One line (the usual case) is returned as it is.
   */
  static String connectionList(MultiMap headers) {
    String first = headers.get(HttpHeaders.CONNECTION);
    if (first == null) {
      return null;
    }
    java.util.List<String> all = headers.getAll(HttpHeaders.CONNECTION);
    return all.size() == 1 ? first : String.join(",", all);
  }

  /** Not hop-by-hop, and not named by the message's {@code Connection} header (null when it has none). */
  static boolean isEndToEnd(String name, String connection) {
    return !isHopByHop(name) && (connection == null || !listed(connection, name));
  }

  /** Without allocating: this runs for every header of every request and response. */
  private static boolean isHopByHop(String name) {
    for (AsciiString h : HOP_BY_HOP) {
      if (h.length() == name.length() && h.contentEqualsIgnoreCase(name)) {
        return true;
      }
    }
    return false;
  }

  /**
   * True when {@code name} is one of the comma-separated tokens of {@code list}. Without allocating: most clients
   * send {@code Connection: keep-alive}, so this runs for every header of most requests.
   */
  static boolean listed(String list, String name) {
    int start = 0;
    while (start <= list.length()) {
      int comma = list.indexOf(',', start);
      int end = comma < 0 ? list.length() : comma;
      int from = start;
      int to = end;
      while (from < to && Character.isWhitespace(list.charAt(from))) {
        from++;
      }
      while (to > from && Character.isWhitespace(list.charAt(to - 1))) {
        to--;
      }
      if (to - from == name.length() && list.regionMatches(true, from, name, 0, name.length())) {
        return true;
      }
      start = end + 1;
    }
    return false;
  }
}
