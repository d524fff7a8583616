package tether.proxy;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import tether.config.RouteConfig;
import tether.edge.RouteRules;
import tether.upstream.Upstream;

/** Host and path-prefix routes, first match wins; host {@code *} matches any. */
final class Router {

  /** A route as the request path reads it: {@code upstream} null on a redirect, {@code rules} null without any. */
  record Route(String host, String pathPrefix, Upstream upstream, RouteRules rules) {}

  private final Route[] routes;

  Router(List<RouteConfig> routes, Map<String, Upstream> upstreams) {
    this.routes = routes.stream()
        .map(r -> new Route(r.host().equals("*") ? null : r.host().toLowerCase(Locale.ROOT), r.path(),
            r.upstream() == null ? null : upstreams.get(r.upstream()), r.rules()))
        .toArray(Route[]::new);
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
