package tether.sticky;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Ticker;
import io.vertx.core.MultiMap;
import tether.cache.EventLoopCaches;
import tether.config.StickyConfig;
import tether.upstream.Backend;
import tether.upstream.Upstream;

/**
 * Mode {@code route}: the app's session id ends in the server's route, as with Tomcat's jvmRoute or httpd's
 * mod_proxy_balancer ({@code abc123.web1}), read from the cookie, else the {@code ;jsessionid=} path parameter,
 * else the query parameter. When the route's server fails, the user is re-pinned and that move is remembered for
 * the session id and its old route (bounded, idle ttl), so the user does not bounce back; when the app re-suffixes
 * the id (its own failover), the new route is followed.
 */
final class RouteSticky implements StickySession {

  private record Move(String fromRoute, String toServer) {}

  private final StickyConfig.Route config;
  private final String pathParam;
  private final Cache<String, Move> moved;

  RouteSticky(StickyConfig.Route config) {
    this(config, Ticker.systemTicker());
  }

  RouteSticky(StickyConfig.Route config, Ticker ticker) {
    this.config = config;
    this.pathParam = ";" + config.pathParam() + "=";
    this.moved = EventLoopCaches.newBuilder().maximumSize(config.maxEntries()).expireAfterAccess(config.ttl())
        .ticker(ticker).build();
  }

  @Override
  public Pin resolve(StickyRequest request, Upstream upstream) {
    String value = sessionId(request);
    if (value == null) {
      return Pin.NONE;
    }
    int sep = value.lastIndexOf(config.separator());
    if (sep < 0) {
      return Pin.NONE;
    }
    String id = value.substring(0, sep);
    String route = value.substring(sep + config.separator().length());
    Move move = moved.getIfPresent(id);
    Backend target = move != null && move.fromRoute.equals(route) ? upstream.byName(move.toServer) : null;
    if (target == null) {
      target = upstream.byRoute(route);
    }
    return target == null ? new KeyedPin(null, "unknown_server", id + "\n" + route)
        : new KeyedPin(target, null, id + "\n" + route);
  }

  private String sessionId(StickyRequest request) {
    String cookie = Cookies.first(request.headers(), config.cookie());
    if (cookie != null) {
      return cookie;
    }
    String uri = request.uri();
    int p = uri.indexOf(pathParam);
    if (p >= 0) {
      int end = p + pathParam.length();
      while (end < uri.length() && "?;/#".indexOf(uri.charAt(end)) < 0) {
        end++;
      }
      return uri.substring(p + pathParam.length(), end);
    }
    return request.queryParam(config.queryParam());
  }

  @Override
  public void onResponse(Pin pin, Backend servedBy, MultiMap upstreamHeaders, MultiMap responseHeaders,
                         boolean https) {
    if (pin instanceof KeyedPin k && pin.target() != servedBy) {
      int nl = k.key.indexOf('\n');
      moved.put(k.key.substring(0, nl), new Move(k.key.substring(nl + 1), servedBy.name()));
    }
  }

  @Override
  public long learnedEntries() {
    return moved.estimatedSize();
  }
}
