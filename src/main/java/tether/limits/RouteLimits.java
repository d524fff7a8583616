package tether.limits;

import com.github.benmanes.caffeine.cache.Ticker;
import io.vertx.core.MultiMap;
import java.util.concurrent.atomic.AtomicInteger;
import tether.config.ConnLimitConfig;
import tether.config.RateLimitConfig;
import tether.config.RouteConfig;
import tether.config.TrustedProxies;

/**
 * One route's {@code rate_limit} and {@code conn_limit}, checked after routing and before a server is chosen, as
 * nginx's {@code limit_req} and {@code limit_conn} run before its proxy handler: a refused request never reaches a
 * backend. The rate is checked first (a request it refuses takes no slot), then the requests in flight. A request
 * without the key's header or cookie is not counted (nginx does not account an empty key).
 */
public final class RouteLimits {

  public static final RouteLimits NONE = new RouteLimits("", null, null, Ticker.systemTicker());

  public static final String RATE = "rate";
  public static final String CONN = "conn";

  private final String route;
  private final RateLimitConfig rateConfig;
  private final ConnLimitConfig connConfig;
  private final RateLimiter rate;
  private final ConnLimiter conn;

  RouteLimits(String route, RateLimitConfig rateConfig, ConnLimitConfig connConfig, Ticker ticker) {
    this.route = route;
    this.rateConfig = rateConfig;
    this.connConfig = connConfig;
    this.rate = rateConfig == null ? null : new RateLimiter(rateConfig, ticker);
    this.conn = connConfig == null ? null : new ConnLimiter(connConfig.max());
  }

  static RouteLimits of(RouteConfig route) {
    return route.rateLimit() == null && route.connLimit() == null ? NONE
        : new RouteLimits(route.label(), route.rateLimit(), route.connLimit(), Ticker.systemTicker());
  }

  /** The route's metrics label ({@link RouteConfig#label()}). */
  public String route() {
    return route;
  }

  /**
   * Admits a request of client {@code peer} (the socket's address) with these headers, or says which limit refused
   * it; an admitted request holds its {@code conn_limit} slot until {@link Admission#release()}.
   */
  public Admission admit(MultiMap headers, String peer, TrustedProxies trusted) {
    if (rate != null) {
      String key = LimitKeys.read(rateConfig.key(), headers, peer, trusted);
      long wait = key == null ? 0 : rate.acquire(key);
      if (wait > 0) {
        return Admission.refused(RATE, wait);
      }
    }
    if (conn != null) {
      String key = LimitKeys.read(connConfig.key(), headers, peer, trusted);
      if (key != null) {
        AtomicInteger slot = conn.acquire(key);
        // a slot frees when some request ends, which nobody can foretell: a second is the hint
        return slot == null ? Admission.refused(CONN, 1) : Admission.holding(conn, key, slot);
      }
    }
    return Admission.ADMITTED;
  }

  boolean sameLimits(RouteConfig r) {
    return java.util.Objects.equals(rateConfig, r.rateLimit()) && java.util.Objects.equals(connConfig, r.connLimit());
  }
}
