package tether.config;

import java.util.Locale;

/**
 * What a route's {@code rate_limit} or {@code conn_limit} counts by, as nginx's {@code limit_req_zone} key: the
 * client's address ({@code ip}, the default: the address a trusted proxy reports, else the socket's), or the value
 * of a header ({@code header:X-Api-Key}) or a cookie ({@code cookie:PHPSESSID}). {@code name} is null for ip.
 */
public record LimitKey(Kind kind, String name) {

  /** Where the key's value is read. */
  public enum Kind { IP, HEADER, COOKIE }

  public static final LimitKey IP = new LimitKey(Kind.IP, null);

  public LimitKey {
    if ((kind == Kind.IP) != (name == null) || (name != null && name.isBlank())) {
      throw new IllegalArgumentException("a header or cookie key needs a name, an ip key none");
    }
  }

  /** @throws IllegalArgumentException with the expected forms */
  public static LimitKey parse(String text) {
    String t = text.trim();
    int colon = t.indexOf(':');
    String kind = colon < 0 ? t : t.substring(0, colon);
    String name = colon < 0 ? "" : t.substring(colon + 1).trim();
    if (t.equals("ip")) {
      return IP;
    }
    if ((kind.equals("header") || kind.equals("cookie")) && !name.isEmpty() && name.indexOf(' ') < 0) {
      return new LimitKey(kind.equals("header") ? Kind.HEADER : Kind.COOKIE, name);
    }
    throw new IllegalArgumentException("expected ip, header:NAME or cookie:NAME, got \"" + text + "\"");
  }

  @Override
  public String toString() {
    return kind == Kind.IP ? "ip" : kind.name().toLowerCase(Locale.ROOT) + ":" + name;
  }
}
