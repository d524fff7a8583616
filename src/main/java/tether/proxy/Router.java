package tether.proxy;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import tether.config.CompressionConfig;
import tether.config.RouteConfig;
import tether.limits.RouteLimits;
import tether.edge.RouteRules;
import tether.upstream.Upstream;

/** Host and path-prefix routes, first match wins; host {@code *} matches any. */
final class Router {

  /**
   * A matched route: where it goes ({@code upstream} null on a redirect), its rate and connection limits, its
   * redirect, rewrite and header rules ({@code rules} null without any), and how its responses are compressed.
   */
  record Route(String host, String pathPrefix, Upstream upstream, RouteLimits limits, RouteRules rules,
               CompressionConfig compression) {}

  private final Route[] routes;

  /** {@code limits}: one per route, in order. */
  Router(List<RouteConfig> routes, Map<String, Upstream> upstreams, List<RouteLimits> limits) {
    Route[] built = new Route[routes.size()];
    for (int i = 0; i < built.length; i++) {
      RouteConfig r = routes.get(i);
      built[i] = new Route(r.host().equals("*") ? null : r.host().toLowerCase(Locale.ROOT), r.path(),
          r.upstream() == null ? null : upstreams.get(r.upstream()), limits.get(i), r.rules(), r.compression());
    }
    this.routes = built;
  }

  /** @param host the request's host without port, or null; @return null when no route matches */
  Upstream route(String host, String path) {
    Route r = match(host, path);
    return r == null ? null : r.upstream;
  }

  /** @param host the request's host without port, or null; @return null when no route matches */
  Route match(String host, String path) {
    for (Route r : routes) {
      if ((r.host == null || r.host.equalsIgnoreCase(host)) && path.startsWith(r.pathPrefix)) {
        return r;
      }
    }
    return null;
  }
}
