package tether.proxy;

import java.util.HashMap;
import java.util.Map;
import tether.config.TetherConfig;
import tether.sticky.StickySession;
import io.vertx.core.net.SocketAddress;
import tether.upstream.Backend;
import tether.upstream.Upstream;

/** Everything the request path reads, built off the event loop and published with one atomic swap. */
public record ProxySnapshot(TetherConfig config, Router router, Map<String, Upstream> upstreams,
                            Map<String, StickySession> sticky, Map<String, Backend> byAddress) {

  /** The server at this address (ip:port), or null: to name a pooled connection's server. */
  public Backend backendAt(SocketAddress address) {
    return address == null ? null : byAddress.get(address.hostAddress() + ":" + address.port());
  }

  public static ProxySnapshot of(TetherConfig config, Map<String, Upstream> upstreams,
                                 java.util.function.Function<Upstream, StickySession> stickyFactory) {
    Map<String, StickySession> sticky = new HashMap<>();
    upstreams.values().forEach(u -> sticky.put(u.name(), stickyFactory.apply(u)));
    Map<String, Backend> byAddress = new HashMap<>();
    upstreams.values().forEach(u -> u.backends().forEach(b ->
        byAddress.putIfAbsent(b.config().host() + ":" + b.config().port(), b)));
    return new ProxySnapshot(config, new Router(config.routes(), upstreams), Map.copyOf(upstreams),
        Map.copyOf(sticky), Map.copyOf(byAddress));
  }
}
