package tether.config;

import tether.edge.RouteRules;

/**
 * {@code host} is an exact host name (port ignored) or {@code *}; {@code path} a prefix. {@code upstream} is null on
 * a redirect route. {@code rateLimit}, {@code connLimit} and {@code rules} (redirect, rewrite, header rules) are null
 * when the route has none; {@code compression} is the top level's with the route's own block over it.
 */
public record RouteConfig(String host, String path, String upstream, RateLimitConfig rateLimit,
                          ConnLimitConfig connLimit, RouteRules rules, CompressionConfig compression) {

  /** A route with no limits, rules or compression. */
  public RouteConfig(String host, String path, String upstream) {
    this(host, path, upstream, null, null, null, CompressionConfig.OFF);
  }

  /**
   * The route as metrics name it: host and path prefix ({@code shop.example/api/}; host {@code *} for any), one per
   * route written, so a label of bounded cardinality.
   */
  public String label() {
    return host + path;
  }
}
