package tether.proxy;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import java.util.Map;
import java.util.Set;

/** Copies end-to-end headers: hop-by-hop ones (RFC 9110 §7.6.1) and those the Connection header lists stay behind. */
final class Headers {

  private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "proxy-connection", "te",
      "trailer", "transfer-encoding", "upgrade", "proxy-authenticate", "proxy-authorization");

  private Headers() {}

  static void copyEndToEnd(MultiMap from, MultiMap to) {
    String connection = from.get(HttpHeaders.CONNECTION);
    for (Map.Entry<String, String> header : from) {
      String name = header.getKey();
      if (!isHopByHop(name) && (connection == null || !listed(connection, name))) {
        to.add(name, header.getValue());
      }
    }
  }

  /** The request's end-to-end headers but Host, which the forwarded request sets from the request target. */
  static void copyRequestHeaders(MultiMap from, MultiMap to) {
    copyEndToEnd(from, to);
    to.remove(HttpHeaders.HOST);
  }

  private static boolean isHopByHop(String name) {
    return HOP_BY_HOP.contains(name.length() <= 17 ? lower(name) : "");
  }

  private static String lower(String name) {
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c >= 'A' && c <= 'Z') {
        return name.toLowerCase(java.util.Locale.ROOT);
      }
    }
    return name;
  }

  /** True when {@code name} is one of the comma-separated tokens of {@code list}. */
  static boolean listed(String list, String name) {
    int start = 0;
    while (start <= list.length()) {
      int comma = list.indexOf(',', start);
      int end = comma < 0 ? list.length() : comma;
      if (list.substring(start, end).trim().equalsIgnoreCase(name)) {
        return true;
      }
      start = end + 1;
    }
    return false;
  }
}
