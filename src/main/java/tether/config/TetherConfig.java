package tether.config;

import java.util.List;
import java.util.Map;

/**
 * The whole validated configuration: an immutable snapshot, swapped as one on reload. {@code resolve}: how often
 * servers named by a host name are looked up again (see {@code tether.resolve.ServerResolver}); {@code http2}: the
 * limits of HTTP/2 client connections.
 */
public record TetherConfig(
    String source,
    List<ListenConfig> listen,
    AdminConfig admin,
    Map<String, UpstreamConfig> upstreams,
    List<RouteConfig> routes,
    TimeoutsConfig timeouts,
    LimitsConfig limits,
    int workers,
    AccessLogConfig accessLog,
    TrustedProxies trustedProxies,
    java.time.Duration shutdownTimeout,
    java.time.Duration resolve,
    Http2Config http2) {

  /** With the default HTTP/2 limits. */
  public TetherConfig(String source, List<ListenConfig> listen, AdminConfig admin, Map<String, UpstreamConfig> upstreams,
                      List<RouteConfig> routes, TimeoutsConfig timeouts, LimitsConfig limits, int workers,
                      AccessLogConfig accessLog, TrustedProxies trustedProxies, java.time.Duration shutdownTimeout,
                      java.time.Duration resolve) {
    this(source, listen, admin, upstreams, routes, timeouts, limits, workers, accessLog, trustedProxies,
        shutdownTimeout, resolve, Http2Config.DEFAULTS);
  }

  public TetherConfig {
    listen = List.copyOf(listen);
    upstreams = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(upstreams));
    routes = List.copyOf(routes);
  }
}
