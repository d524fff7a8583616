package tether.proxy;

import java.util.HashMap;
import java.util.Map;
import tether.config.TetherConfig;
import tether.sticky.StickySession;
import tether.upstream.Upstream;

/** Everything the request path reads, built off the event loop and published with one atomic swap. */
public record ProxySnapshot(TetherConfig config, Router router, Map<String, Upstream> upstreams,
                            Map<String, StickySession> sticky) {

  public static ProxySnapshot of(TetherConfig config, Map<String, Upstream> upstreams,
                                 java.util.function.Function<Upstream, StickySession> stickyFactory) {
    Map<String, StickySession> sticky = new HashMap<>();
    upstreams.values().forEach(u -> sticky.put(u.name(), stickyFactory.apply(u)));
    return new ProxySnapshot(config, new Router(config.routes(), upstreams), Map.copyOf(upstreams),
        Map.copyOf(sticky));
  }
}
