package tether.proxy;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.HostAndPort;

/**
 * X-Forwarded-For (appended), X-Forwarded-Proto, X-Forwarded-Host and Via on the request to the backend. From a
 * trusted proxy, incoming X-Forwarded-* are kept (and the chain appended); from anyone else they are replaced, so
 * a client cannot spoof its address or scheme to the backend.
 */
final class ForwardedHeaders {

  private static final String VIA = "1.1 tether";

  private ForwardedHeaders() {}

  static void apply(HttpServerRequest req, MultiMap headers, boolean trusted, boolean https) {
    String client = req.remoteAddress().hostAddress();
    String xff = trusted ? headers.get("X-Forwarded-For") : null;
    headers.set("X-Forwarded-For", xff == null ? client : xff + ", " + client);
    headers.set("X-Forwarded-Proto", https ? "https" : "http");
    if (!trusted) {
      headers.remove("Forwarded");
    }
    HostAndPort authority = req.authority();
    if (!trusted || !headers.contains("X-Forwarded-Host")) {
      if (authority != null) {
        headers.set("X-Forwarded-Host", authority.port() > 0 ? authority.host() + ":" + authority.port()
            : authority.host());
      } else {
        headers.remove("X-Forwarded-Host");
      }
    }
    String via = headers.get("Via");
    headers.set("Via", via == null ? VIA : via + ", " + VIA);
  }
}
