package tether.proxy;

import java.util.HashMap;
import java.util.Map;
import tether.config.TetherConfig;
import tether.limits.Limiters;
import tether.sticky.StickySession;
import tether.upstream.Upstream;

/** Everything the request path reads, built off the event loop and published with one atomic swap. */
public record ProxySnapshot(TetherConfig config, Router router, Map<String, Upstream> upstreams,
                            Map<String, StickySession> sticky) {

  /** {@code limiters} hands each route its rate and connection limits (kept across reloads while unchanged). */
  public static ProxySnapshot of(TetherConfig config, Map<String, Upstream> upstreams,
                                 java.util.function.Function<Upstream, StickySession> stickyFactory,
                                 Limiters limiters) {
    Map<String, StickySession> sticky = new HashMap<>();
    upstreams.values().forEach(u -> sticky.put(u.name(), stickyFactory.apply(u)));
    return new ProxySnapshot(config, new Router(config.routes(), upstreams, limiters.forRoutes(config.routes())),
        Map.copyOf(upstreams), Map.copyOf(sticky));
  }
}
