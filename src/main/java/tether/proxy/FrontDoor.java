package tether.proxy;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.net.HostAndPort;
import tether.config.LimitsConfig;
import tether.config.ListenConfig;

/**
 * What a listener answers by itself before routing: {@code redirect_https} on a plain listener (nginx's
 * {@code return 308 https://$host$request_uri}, Caddy's automatic redirect), which lets ACME HTTP-01 challenges
 * through to the backend as Caddy and Traefik do; and HSTS on a TLS listener (nginx's {@code add_header
 * Strict-Transport-Security ... always}: on every response, errors included), unless the backend sent its own.
 */
final class FrontDoor {

  static final String ACME_CHALLENGE = "/.well-known/acme-challenge/";
  private static final String STS = "Strict-Transport-Security";

  private FrontDoor() {}

  /** @return true when the request was answered here (redirected, or refused as malformed) */
  static boolean redirected(HttpServerRequest req, ListenConfig listen, LimitsConfig limits) {
    if (listen.redirectHttpsPort() == 0 || (req.path() != null && req.path().startsWith(ACME_CHALLENGE))) {
      return false;
    }
    RequestValidator.Rejection rejection = RequestValidator.check(req, limits);
    HostAndPort authority = req.authority();
    if (rejection != null || authority == null || req.uri() == null || !req.uri().startsWith("/")) {
      ErrorResponses.send(req, rejection == null ? 400 : rejection.status(),
          rejection == null ? "a redirect to https needs a Host and an origin-form target" : rejection.message(), true);
      return true;
    }
    int port = listen.redirectHttpsPort();
    String host = authority.host().indexOf(':') >= 0 ? "[" + authority.host() + "]" : authority.host();
    HttpServerResponse resp = req.response();
    resp.setStatusCode(308)
        .putHeader(HttpHeaders.LOCATION, "https://" + host + (port == 443 ? "" : ":" + port) + req.uri())
        .putHeader(HttpHeaders.CONTENT_LENGTH, "0");
    boolean body = req.headers().contains(HttpHeaders.TRANSFER_ENCODING)
        || (req.getHeader(HttpHeaders.CONTENT_LENGTH) != null && !"0".equals(req.getHeader(HttpHeaders.CONTENT_LENGTH)));
    if (body && req.version() != io.vertx.core.http.HttpVersion.HTTP_2) {
      resp.putHeader(HttpHeaders.CONNECTION, "close");
    }
    resp.end().onComplete(v -> {
      if (body) {
        ErrorResponses.dropRest(req); // the body is not read: the client resends it to the https URL
      }
    });
    return true;
  }

  /** Adds the listener's Strict-Transport-Security header to the response when it goes out. */
  static void hsts(HttpServerRequest req, ListenConfig listen) {
    if (listen.hsts() == null) {
      return;
    }
    String value = listen.hsts().headerValue();
    HttpServerResponse resp = req.response();
    resp.headersEndHandler(v -> {
      if (!resp.headers().contains(STS)) {
        resp.putHeader(STS, value);
      }
    });
  }
}
