package tether.proxy;

import io.netty.util.AsciiString;
import io.netty.util.NetUtil;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.HostAndPort;
import java.util.List;
import tether.config.TrustedProxies;
import tether.sticky.Cookies;

/**
 * X-Forwarded-For (appended), X-Forwarded-Proto, X-Forwarded-Host and Via on the request to the backend. From a
 * trusted proxy, incoming X-Forwarded-* are kept (and the chain appended); from anyone else they are replaced, so
 * a client cannot spoof its address or scheme to the backend.
 */
final class ForwardedHeaders {

  // AsciiStrings: their case-insensitive hash is computed once (not per request), and they go to the wire as bytes
  static final AsciiString X_FORWARDED_FOR = AsciiString.cached("X-Forwarded-For");
  static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("X-Forwarded-Proto");
  static final AsciiString X_FORWARDED_HOST = AsciiString.cached("X-Forwarded-Host");
  static final AsciiString FORWARDED = AsciiString.cached("Forwarded");
  static final AsciiString VIA_NAME = AsciiString.cached("Via");
  private static final AsciiString VIA = AsciiString.cached("1.1 tether");
  private static final AsciiString HTTPS = AsciiString.cached("https");
  private static final AsciiString HTTP = AsciiString.cached("http");

  private ForwardedHeaders() {}

  /**
   * The request head every backend gets, on either request path: the client's end-to-end headers but Host and
   * Tether's own cookie, then the forwarded headers below and {@code X-Request-Id}.
   *
   * @param ownCookie the cookie that is Tether's own ({@code StickySession#ownCookie}), or null
   */
  static void copy(MultiMap from, MultiMap to, String ownCookie, String client,
                   HostAndPort authority, boolean trusted, boolean https, String requestId) {
    Headers.copyRequestHeaders(from, to);
    if (ownCookie != null) {
      Cookies.strip(to, ownCookie);
    }
    apply(client, authority, to, trusted, https);
    to.set(RequestIds.HEADER, requestId);
  }

  /** @param client the peer's address; @param authority the request's, or null */
  static void apply(String client, HostAndPort authority, MultiMap headers, boolean trusted, boolean https) {
    String xff = trusted ? headers.get(X_FORWARDED_FOR) : null;
    headers.set(X_FORWARDED_FOR, xff == null ? client : xff + ", " + client);
    headers.set(X_FORWARDED_PROTO, https ? HTTPS : HTTP);
    if (!trusted) {
      headers.remove(FORWARDED);
    }
    if (!trusted || !headers.contains(X_FORWARDED_HOST)) {
      if (authority != null) {
        headers.set(X_FORWARDED_HOST, authority.port() > 0 ? authority.host() + ":" + authority.port()
            : authority.host());
      } else {
        headers.remove(X_FORWARDED_HOST);
      }
    }
    String via = headers.get(VIA_NAME);
    headers.set(VIA_NAME, via == null ? VIA : via + ", " + VIA);
  }

  /**
   * The client's address: the peer's, or behind {@code trusted_proxies} the right-most {@code X-Forwarded-For}
   * address that is not a trusted proxy (nginx's {@code real_ip_recursive on}). Only IP literals are believed, so a
   * forged entry is never looked up.
   */
  static String clientIp(HttpServerRequest req, TrustedProxies trusted) {
    String client = req.remoteAddress().hostAddress();
    if (!trusted.trusts(client)) {
      return client;
    }
    List<String> lines = req.headers().getAll("X-Forwarded-For");
    for (int l = lines.size() - 1; l >= 0; l--) {
      String[] hops = lines.get(l).split(",");
      for (int i = hops.length - 1; i >= 0; i--) {
        String hop = hops[i].trim();
        if (!NetUtil.isValidIpV4Address(hop) && !NetUtil.isValidIpV6Address(hop)) {
          return client;
        }
        client = hop;
        if (!trusted.trusts(hop)) {
          return client;
        }
      }
    }
    return client;
  }
}
