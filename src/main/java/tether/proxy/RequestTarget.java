package tether.proxy;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.HostAndPort;

/**
 * Where a request goes: its authority and origin-form URI. An absolute-form request line
 * ({@code GET http://host/path}) wins over the Host header (RFC 9112 §3.2.2) and is forwarded in origin form.
 */
record RequestTarget(HostAndPort authority, String path, String originForm) {

  static RequestTarget of(HttpServerRequest req) {
    String uri = req.uri();
    if (uri.startsWith("/")) {
      String path = req.path();
      return new RequestTarget(req.authority(), path == null ? "/" : path, uri);
    }
    int scheme = uri.indexOf("://");
    if (scheme > 0) {
      int start = scheme + 3;
      int slash = uri.indexOf('/', start);
      int query = uri.indexOf('?', start);
      int end = slash >= 0 ? slash : query >= 0 ? query : uri.length();
      HostAndPort authority = HostAndPort.parseAuthority(uri.substring(start, end), -1);
      String origin = slash >= 0 ? uri.substring(slash) : "/" + uri.substring(end);
      int q = origin.indexOf('?');
      return new RequestTarget(authority != null ? authority : req.authority(),
          q >= 0 ? origin.substring(0, q) : origin, origin);
    }
    return new RequestTarget(req.authority(), "/", uri); // "*" (OPTIONS)
  }
}
