package tether.sticky;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import io.vertx.core.MultiMap;
import tether.config.StickyConfig;
import tether.upstream.Backend;
import tether.upstream.Upstream;

/**
 * Mode {@code learn}: for apps whose session ids carry no route (PHP with Memcached). Learns
 * {@code session id -> server} from the backend's Set-Cookie and from who served a request carrying the id, in a
 * bounded table (max_entries, idle ttl). A re-pinned user's entry is rewritten in the same response.
 */
final class LearnSticky implements StickySession {

  private final String cookie;
  private final Cache<String, String> table;

  LearnSticky(StickyConfig.Learn config) {
    this(config, Ticker.systemTicker());
  }

  LearnSticky(StickyConfig.Learn config, Ticker ticker) {
    this.cookie = config.cookie();
    this.table = Caffeine.newBuilder().maximumSize(config.maxEntries()).expireAfterAccess(config.ttl())
        .ticker(ticker).build();
  }

  @Override
  public Pin resolve(StickyRequest request, Upstream upstream) {
    String id = Cookies.first(request.headers(), cookie);
    if (id == null) {
      return Pin.NONE;
    }
    String server = table.getIfPresent(id);
    if (server == null) {
      return new KeyedPin(null, null, id);
    }
    Backend target = upstream.byName(server);
    return target == null ? new KeyedPin(null, "unknown_server", id) : new KeyedPin(target, null, id);
  }

  @Override
  public void onResponse(Pin pin, Backend servedBy, MultiMap upstreamHeaders, MultiMap responseHeaders,
                         boolean https) {
    String issued = Cookies.setCookieValue(upstreamHeaders, cookie);
    if (issued != null) {
      table.put(issued, servedBy.name());
    }
    if (pin instanceof KeyedPin k && pin.target() != servedBy && !k.key.equals(issued)) {
      table.put(k.key, servedBy.name());
    }
  }

  @Override
  public long learnedEntries() {
    return table.estimatedSize();
  }
}
