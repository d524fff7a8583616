package tether.proxy;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.HostAndPort;

/** X-Forwarded-For (appended), X-Forwarded-Proto, X-Forwarded-Host and Via on the request to the backend. */
final class ForwardedHeaders {

  private static final String VIA = "1.1 tether";

  private ForwardedHeaders() {}

  static void apply(HttpServerRequest req, MultiMap headers) {
    String client = req.remoteAddress().hostAddress();
    String xff = headers.get("X-Forwarded-For");
    headers.set("X-Forwarded-For", xff == null ? client : xff + ", " + client);
    headers.set("X-Forwarded-Proto", req.isSSL() ? "https" : "http");
    HostAndPort authority = req.authority();
    if (authority != null) {
      headers.set("X-Forwarded-Host", authority.port() > 0 ? authority.host() + ":" + authority.port()
          : authority.host());
    }
    String via = headers.get("Via");
    headers.set("Via", via == null ? VIA : via + ", " + VIA);
  }
}
