package tether.sticky;

import com.github.benmanes.caffeine.cache.Ticker;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import tether.config.StickyConfig;
import tether.upstream.Backend;
import tether.upstream.Upstream;

/**
 * Mode {@code learn}: for apps whose session ids carry no route (PHP with Memcached). Learns
 * {@code session id -> server} from the backend's Set-Cookie and from who served a request carrying the id, in a
 * bounded table (max_entries, idle ttl), shared with the other Tether instances when {@code store} is configured
 * ({@link LearnedTable}). A re-pinned user's entry is rewritten in the same response.
 */
final class LearnSticky implements StickySession {

  private final String cookie;
  private final LearnedTable table;

  /** A local table only, on {@code ticker}'s clock (tests). */
  LearnSticky(StickyConfig.Learn config, Ticker ticker) {
    this.cookie = config.cookie();
    this.table = new LearnedTable(config.maxEntries(), config.ttl(), "", null, null, ticker);
  }

  LearnSticky(StickyConfig.Learn config, String upstream, SessionStore store) {
    this.cookie = config.cookie();
    this.table = new LearnedTable(config.maxEntries(), config.ttl(), "tether:learn:" + upstream + ":",
        config.store(), store);
  }

  @Override
  public Pin resolve(StickyRequest request, Upstream upstream) {
    String id = Cookies.first(request.headers(), cookie);
    return id == null ? Pin.NONE : pin(id, table.local(id), upstream);
  }

  @Override
  public Future<Pin> resolveAsync(StickyRequest request, Upstream upstream) {
    String id = Cookies.first(request.headers(), cookie);
    if (id == null) {
      return Future.succeededFuture(Pin.NONE);
    }
    return table.lookup(id).map(server -> pin(id, server, upstream));
  }

  private static Pin pin(String id, String server, Upstream upstream) {
    if (server == null) {
      return new KeyedPin(null, null, id);
    }
    Backend target = upstream.byName(server);
    return target == null ? new KeyedPin(null, "unknown_server", id) : new KeyedPin(target, null, id);
  }

  @Override
  public void onResponse(Pin pin, Backend servedBy, MultiMap upstreamHeaders, MultiMap responseHeaders,
                         boolean https) {
    onResponseShared(pin, servedBy, upstreamHeaders, responseHeaders, https);
  }

  /** A new session id is in the store before the response goes: the user's next request may reach another instance. */
  @Override
  public Future<Void> onResponseShared(Pin pin, Backend servedBy, MultiMap upstreamHeaders,
                                       MultiMap responseHeaders, boolean https) {
    String issued = Cookies.setCookieValue(upstreamHeaders, cookie);
    Future<Void> shared = issued == null ? Future.succeededFuture() : table.learnIssued(issued, servedBy.name());
    if (pin instanceof KeyedPin k && !k.key.equals(issued)) {
      if (pin.target() != servedBy) { // an id not known here (first), or a move off a server that failed
        table.learn(k.key, servedBy.name(), pin.target() == null && pin.invalid() == null);
      } else {
        table.served(k.key, servedBy.name());
      }
    }
    return shared;
  }

  @Override
  public long learnedEntries() {
    return table.size();
  }

  @Override
  public StoreStatus store() {
    return table.hasStore() ? table : null;
  }

  @Override
  public void close() {
    table.close();
  }
}
