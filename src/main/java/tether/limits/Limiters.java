package tether.limits;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import tether.config.RouteConfig;

/**
 * Builds each route's {@link RouteLimits} for a new snapshot, and hands back the same one across reloads while the
 * route's host, path and limits are unchanged, so a reload neither forgives a client its burst nor forgets the
 * requests it has in flight. Routes a reload removed are forgotten with their tables.
 */
public final class Limiters {

  private Map<String, RouteLimits> byRoute = Map.of();

  /** One {@link RouteLimits} per route, in order ({@link RouteLimits#NONE} for a route without limits). */
  public synchronized List<RouteLimits> forRoutes(List<RouteConfig> routes) { // a reload's, never a request's
    Map<String, RouteLimits> next = new HashMap<>();
    List<RouteLimits> out = new ArrayList<>(routes.size());
    for (RouteConfig r : routes) {
      RouteLimits built = next.get(r.label());
      if (built == null || !built.sameLimits(r)) {
        RouteLimits prev = byRoute.get(r.label());
        built = prev != null && prev.sameLimits(r) ? prev : RouteLimits.of(r);
        next.putIfAbsent(r.label(), built);
      }
      out.add(built);
    }
    byRoute = next;
    return out;
  }
}
