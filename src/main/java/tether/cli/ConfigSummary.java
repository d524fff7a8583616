package tether.cli;

import tether.config.RouteConfig;
import tether.config.ListenConfig;
import tether.config.ServerConfig;
import tether.config.TlsConfig;
import tether.tls.CertificateKeyPair;
import tether.tls.ServerTls;
import tether.config.StickyConfig;
import tether.config.Units;
import tether.config.TetherConfig;
import tether.config.UpstreamConfig;
import tether.edge.RouteRules;

/** What a configuration will do, in words: listeners, upstreams and their failover semantics. */
final class ConfigSummary {

  private ConfigSummary() {}

  static String describe(TetherConfig config) {
    StringBuilder out = new StringBuilder();
    config.listen().forEach(l -> out.append(listen(l, config)));
    for (UpstreamConfig u : config.upstreams().values()) {
      out.append("upstream ").append(u.name()).append(": balance ").append(u.balance().name().toLowerCase())
          .append(", max_attempts ").append(u.maxAttempts()).append('\n');
      for (ServerConfig s : u.servers()) {
        out.append("  server ").append(s.name()).append(' ').append(s.address()).append(" weight ")
            .append(s.weight()).append(s.backup() ? " backup" : "")
            .append(u.sticky().mode() == StickyConfig.Mode.ROUTE ? " route " + s.route() : "").append('\n');
      }
      out.append("  sticky: ").append(sticky(u.sticky())).append('\n');
      out.append("  failover: a pinned server that is down, ejected or disabled -> re-pinned at once, new pin"
          + " sent in the same response\n");
      out.append("            connect refused/timed out -> next server, any method and body size (body held"
          + " until connected)\n");
      out.append("            pooled connection closed by the server as it was reused -> same server, fresh"
          + " connection, once (GET, HEAD, PUT, DELETE, OPTIONS, TRACE with a held body); not a server failure\n");
      if (u.retryAfterSend() == tether.config.RetryAfterSend.NEVER) {
        out.append("            failure after sending -> 502/504, never sent to another server"
            + " (retry_after_send: never: at most once)\n");
      } else {
        out.append("            failure after sending -> retried only for GET, HEAD, PUT, DELETE, OPTIONS, TRACE with"
            + " a body of at most ").append(u.retryBuffer()).append(" bytes (at least once: may run twice);"
            + " POST/PATCH never twice\n");
      }
      out.append("            never once the response started (client connection closed); at most ")
          .append(u.maxAttempts()).append(" servers per request\n");
      if (!u.errorPages().isEmpty()) {
        out.append("  error pages (to browsers; others get plain text): ");
        u.errorPages().files().forEach((status, file) -> out.append(status).append(' ').append(file).append("; "));
        out.setLength(out.length() - 2);
        out.append('\n');
      }
    }
    for (RouteConfig r : config.routes()) {
      if (r.rules() != null) {
        out.append(edge(r));
      }
    }
    out.append("server header: ").append(config.serverHeader().name().toLowerCase()).append('\n');
    out.append("transport: ").append(config.transport().resolve().configName())
        .append(config.transport() == tether.config.IoTransport.AUTO ? " (auto, on this machine)" : "").append('\n');
    return out.toString();
  }

  /** A route with edge rules, in words: {@code route *:/api/ -> app: rewrite /api -> /v2; request set ...}. */
  private static String edge(RouteConfig r) {
    RouteRules rules = r.rules();
    StringBuilder out = new StringBuilder("route ").append(r.host()).append(':').append(r.path());
    if (rules.redirect() != null) {
      out.append(" -> redirect ").append(rules.redirect().status()).append(' ').append(rules.redirect().to())
          .append(rules.redirect().keepsUri() ? " + the request's path and query" : "");
    } else {
      out.append(" -> ").append(r.upstream());
    }
    if (rules.rewrite() != null) {
      String strip = rules.rewrite().stripPrefix();
      String add = rules.rewrite().addPrefix();
      out.append("; rewrite: strip ").append(strip == null ? "-" : strip).append(", add ")
          .append(add == null ? "-" : add);
    }
    if (rules.request() != null) {
      out.append("; request: ").append(rules.request());
    }
    if (rules.response() != null) {
      out.append("; response: ").append(rules.response());
    }
    return out.append('\n').toString();
  }

  /** One listener: its address, protocols and certificates (names, expiry), redirect and HSTS. */
  private static String listen(ListenConfig l, TetherConfig config) {
    StringBuilder out = new StringBuilder("listen ").append(l.address()).append(':').append(l.port());
    if (l.secure()) {
      TlsConfig tls = l.tls();
      out.append(" https (TLS 1.2/1.3, ").append(ServerTls.describe(tls.engine())).append("; ALPN ")
          .append(tls.http2() ? "h2, http/1.1" : "http/1.1").append(')');
      if (l.hsts() != null) {
        out.append(", Strict-Transport-Security: ").append(l.hsts().headerValue());
      }
      out.append('\n');
      long now = System.currentTimeMillis();
      for (int i = 0; i < tls.certificates().size(); i++) {
        CertificateKeyPair c = tls.certificates().get(i);
        long days = (c.notAfter().toEpochMilli() - now) / 86_400_000L;
        out.append("  certificate ").append(c.certFile()).append(": ").append(String.join(", ", c.names()))
            .append(i == 0 ? " (default)" : "").append(", expires ").append(c.notAfter()).append(" (in ")
            .append(days).append(" days)").append(days < 14 ? " RENEW SOON" : "").append('\n');
      }
    } else {
      out.append(" http").append(l.h2c() ? " (HTTP/1.1 and h2c)" : "");
      if (l.redirectHttpsPort() != 0) {
        out.append(", redirects to https (port ").append(l.redirectHttpsPort()).append(") but ")
            .append("/.well-known/acme-challenge/");
      }
      out.append('\n');
    }
    if (l.secure() && l.tls().http2() || l.h2c()) {
      var h2 = config.http2();
      out.append("  http/2: ").append(h2.maxConcurrentStreams()).append(" streams per connection, header list ")
          .append(config.limits().maxHeaderBytes()).append(" bytes, windows ").append(h2.streamWindow())
          .append(" per stream / ").append(h2.connectionWindow()).append(" per connection, more than ")
          .append(h2.maxResets()).append(" resets in ").append(Units.format(h2.resetWindow()))
          .append(" -> GOAWAY\n");
    }
    return out.toString();
  }

  private static String sticky(StickyConfig config) {
    if (config instanceof StickyConfig.Cookie s) {
      return "cookie " + s.cookie() + " (HMAC-signed, " + s.secrets().size() + " key(s)"
          + (s.secretGenerated() ? " GENERATED AT START: cookies die with this process" : "")
          + ", max_idle " + (s.maxIdle() == null ? "off" : Units.format(s.maxIdle()))
          + ", max_life " + (s.maxLife() == null ? "off" : Units.format(s.maxLife()))
          + "; Path=/; HttpOnly; SameSite=" + s.sameSite().attribute() + "; Secure " + switch (s.secure()) {
            case AUTO -> "on https";
            case ALWAYS -> "always";
            case NEVER -> "never";
          } + (s.domain() == null ? "" : "; Domain=" + s.domain())
          + (s.maxAge() == null ? "" : "; Max-Age=" + s.maxAge().toSeconds()) + ")";
    } else if (config instanceof StickyConfig.Route s) {
      return "route from cookie " + s.cookie() + ", ;" + s.pathParam() + "= or ?" + s.queryParam()
          + "= (separator \"" + s.separator() + "\"); moves remembered " + Units.format(s.ttl());
    } else if (config instanceof StickyConfig.Learn s) {
      return "learn " + s.cookie() + " from Set-Cookie (max " + s.maxEntries() + " entries, idle ttl "
          + Units.format(s.ttl()) + ")" + store(s.store());
    } else if (config instanceof StickyConfig.Hash s) {
      return "consistent hash of " + (s.key() == StickyConfig.HashKey.IP ? "client ip"
          : s.key().name().toLowerCase() + " " + s.keyName()) + "; new keys remembered "
          + Units.format(s.learnWindow()) + " (sliding)" + store(s.store());
    }
    return "none";
  }

  private static String store(StickyConfig.Store store) {
    return store == null ? "; this instance's own table" : "; shared through memcached " + store.addresses()
        + " (requests wait " + Units.format(store.timeout()) + " at most, recheck " + Units.format(store.recheck())
        + ")";
  }
}
