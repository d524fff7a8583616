package tether.config;

import java.util.List;
import java.util.Map;

/**
 * The whole validated configuration: an immutable snapshot, swapped as one on reload. {@code resolve}: how often
 * servers named by a host name are looked up again (see {@code tether.resolve.ServerResolver}). {@code errorPages}:
 * the global ones (each upstream's {@link UpstreamConfig#errorPages()} already falls back to them).
 * {@code compression}: the top level's block (each route carries its own, merged over it).
 * {@code http2}: the limits of HTTP/2 client connections. {@code transport}: the event loops' I/O, as written (often
 * {@link IoTransport#AUTO}; the running one is {@code transport.resolve()}).
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
    tether.edge.ErrorPages errorPages,
    tether.edge.ServerHeader serverHeader,
    CompressionConfig compression,
    Http2Config http2,
    IoTransport transport) {

  public TetherConfig {
    listen = List.copyOf(listen);
    upstreams = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(upstreams));
    routes = List.copyOf(routes);
  }
}
