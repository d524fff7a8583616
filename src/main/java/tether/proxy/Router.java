package tether.proxy;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import tether.config.CompressionConfig;
import tether.config.RouteConfig;
import tether.upstream.Upstream;

/** Host and path-prefix routes, first match wins; host {@code *} matches any. */
final class Router {

  /** A matched route: where the request goes and how its response is compressed. */
  record Route(String host, String pathPrefix, Upstream upstream, CompressionConfig compression) {}

  private final Route[] routes;

  Router(List<RouteConfig> routes, Map<String, Upstream> upstreams) {
    this.routes = routes.stream()
        .map(r -> new Route(r.host().equals("*") ? null : r.host().toLowerCase(Locale.ROOT), r.path(),
            upstreams.get(r.upstream()), r.compression()))
        .toArray(Route[]::new);
  }

  /** @param host the request's host without port, or null; @return null when no route matches */
  Upstream route(String host, String path) {
    Route r = match(host, path);
    return r == null ? null : r.upstream;
  }

  /** As {@link #route}, the whole route. */
  Route match(String host, String path) {
    for (Route r : routes) {
      if ((r.host == null || r.host.equalsIgnoreCase(host)) && path.startsWith(r.pathPrefix)) {
        return r;
      }
    }
    return null;
  }
}
