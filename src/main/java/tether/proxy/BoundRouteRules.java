package tether.proxy;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpServerRequest;
import java.util.Locale;
import java.util.function.Consumer;
import tether.edge.HeaderValue;
import tether.edge.RouteRules;

/**
 * A route's {@link RouteRules} bound to one request's {@code $variables} ({@link HeaderValue.Variable}): the redirect
 * (Tether answers it), the rewrite of the URI sent to the backend, and the header rules on the forwarded request and
 * on every response, relayed or Tether's own. One per exchange on a route with rules; none on the others, the usual
 * case. It is its own {@link HeaderValue.Vars}, so applying a rule allocates nothing.
 */
final class BoundRouteRules implements HeaderValue.Vars {

  private final RouteRules rules;
  private final ProxyContext ctx;
  private final HttpServerRequest req;
  private final RequestTarget target;
  private final String requestId;
  private final boolean https;

  /** @param requestId the {@code X-Request-Id} the backend gets; {@code https} what {@code $scheme} says */
  BoundRouteRules(RouteRules rules, ProxyContext ctx, HttpServerRequest req, RequestTarget target, String requestId,
            boolean https) {
    this.rules = rules;
    this.ctx = ctx;
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
      case CLIENT_IP -> ForwardedHeaders.clientIp(req, ctx.snapshot().config().trustedProxies());
      case REQUEST_ID -> requestId;
      case SCHEME -> https ? "https" : "http";
      case HOST -> target.authority() == null ? "" : target.authority().host().toLowerCase(Locale.ROOT);
    };
  }
}
