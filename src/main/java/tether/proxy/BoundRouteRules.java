package tether.proxy;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpServerRequest;
import java.util.Locale;
import java.util.function.Consumer;
import tether.config.TrustedProxies;
import tether.edge.HeaderValue;
import tether.edge.RouteRules;

/**
 * A route's {@link RouteRules} bound to one request's {@code $variables} ({@link HeaderValue.Variable}): the redirect
 * (Tether answers it), the rewrite of the URI sent to the backend, and the header rules on the forwarded request and
 * on every response, relayed or Tether's own. One per exchange on a route with rules; none on the others, the usual
 * case. It is its own {@link HeaderValue.Vars}, so applying a rule allocates nothing. Every variable is of the
 * configuration the request started with: a reload that lands while it is in flight (its response rules run when
 * the response arrives) changes none of them, as it changes nothing else of the request.
 */
final class BoundRouteRules implements HeaderValue.Vars {

  private final RouteRules rules;
  private final TrustedProxies trusted;
  private final HttpServerRequest req;
  private final RequestTarget target;
  private final String requestId;
  private final boolean https;
  /** {@code $client_ip}, once a rule asked for it. */
  private String clientIp;

  /**
   * @param trusted   {@code trusted_proxies} of the configuration the request started with: whose
   *                  {@code X-Forwarded-For} {@code $client_ip} believes
   * @param requestId the {@code X-Request-Id} the backend gets; {@code https} what {@code $scheme} says
   */
  BoundRouteRules(RouteRules rules, TrustedProxies trusted, HttpServerRequest req, RequestTarget target,
                  String requestId, boolean https) {
    this.rules = rules;
    this.trusted = trusted;
    this.req = req;
    this.target = target;
    this.requestId = requestId;
    this.https = https;
  }

  /** The route answers every request with a redirect ({@link #redirect}). */
  boolean redirects() {
    return rules.redirect() != null;
  }

  /**
   * Answers the route's redirect, with {@code decorate} on the answer's headers.
   *
   * @param close the client connection is closed after the answer (its body is not read)
   * @return the redirect's status
   */
  int redirect(boolean close, Consumer<MultiMap> decorate) {
    ErrorResponses.redirect(req, rules.redirect().status(), rules.redirect().location(target.originForm()), close,
        decorate);
    return rules.redirect().status();
  }

  /** @return the origin-form URI to forward: {@code uri}, or the route's rewrite of it */
  String rewrite(String uri) {
    return rules.rewrite() == null ? uri : rules.rewrite().apply(uri);
  }

  /** The route's request rules on the head sent to the backend. */
  void onRequest(MultiMap headers) {
    if (rules.request() != null) {
      rules.request().apply(headers, this);
    }
  }

  /** The route's response rules on a response's headers (before the sticky cookie: a rule cannot drop it). */
  void onResponse(MultiMap headers) {
    if (rules.response() != null) {
      rules.response().apply(headers, this);
    }
  }

  /** A header rule's variable, for this request. */
  @Override
  public String value(HeaderValue.Variable v) {
    return switch (v) {
      case CLIENT_IP -> clientIp != null ? clientIp : (clientIp = ForwardedHeaders.clientIp(req, trusted));
      case REQUEST_ID -> requestId;
      case SCHEME -> https ? "https" : "http";
      case HOST -> target.authority() == null ? "" : target.authority().host().toLowerCase(Locale.ROOT);
    };
  }
}
