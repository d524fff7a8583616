package tether.sticky;

import com.github.benmanes.caffeine.cache.Ticker;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import tether.config.StickyConfig;
import tether.upstream.Backend;
import tether.upstream.Upstream;
import tether.upstream.balancing.HashRing;

/**
 * Mode {@code hash}: consistent hashing of a cookie, a header or the client IP; stateless and the same on every
 * instance, and a server's failure moves only its own keys. A new user's first request has no session cookie yet
 * and is balanced; the id the backend then issues may hash elsewhere, so keys issued that way (and keys moved by a
 * failover) are remembered for a short sliding window ({@code learn_window}), keeping the user where it started.
 * That memory is this process's own unless {@code store} shares it ({@link LearnedTable}): with several instances
 * and no store, an instance that did not see a user's first response sends it to the ring's choice, so there
 * {@code learn_window: 0} (the ring alone, the same everywhere) is the consistent setting.
 */
final class HashSticky implements StickySession {

  private final StickyConfig.Hash config;
  private final LearnedTable young;

  /** A local table only, on {@code ticker}'s clock (tests). */
  HashSticky(StickyConfig.Hash config, Ticker ticker) {
    this.config = config;
    this.young = new LearnedTable(config.maxEntries(), config.learnWindow(), "", null, null, ticker);
  }

  HashSticky(StickyConfig.Hash config, String upstream, SessionStore store) {
    this.config = config;
    this.young = new LearnedTable(config.maxEntries(), config.learnWindow(), "tether:hash:" + upstream + ":",
        config.store(), store);
  }

  private String key(StickyRequest request) {
    return switch (config.key()) {
      case COOKIE -> Cookies.first(request.headers(), config.keyName());
      case HEADER -> request.headers().get(config.keyName());
      case IP -> request.clientAddress();
    };
  }

  @Override
  public Pin resolve(StickyRequest request, Upstream upstream) {
    String key = key(request);
    return key == null ? Pin.NONE : pin(key, young.local(key), upstream);
  }

  @Override
  public Future<Pin> resolveAsync(StickyRequest request, Upstream upstream) {
    String key = key(request);
    return key == null ? Future.succeededFuture(Pin.NONE)
        : young.lookup(key).map(remembered -> pin(key, remembered, upstream));
  }

  private static Pin pin(String key, String remembered, Upstream upstream) {
    long hash = HashRing.hash(key);
    Backend target = remembered == null ? null : upstream.byName(remembered);
    return new KeyedPin(target != null ? target : upstream.ringOwner(hash), null, key, hash);
  }

  @Override
  public void onResponse(Pin pin, Backend servedBy, MultiMap upstreamHeaders, MultiMap responseHeaders,
                         boolean https) {
    onResponseShared(pin, servedBy, upstreamHeaders, responseHeaders, https);
  }

  /** With a store, a new key is in it before the response goes: the user's next request may reach another instance. */
  @Override
  public Future<Void> onResponseShared(Pin pin, Backend servedBy, MultiMap upstreamHeaders,
                                       MultiMap responseHeaders, boolean https) {
    Future<Void> shared = Future.succeededFuture();
    if (config.key() == StickyConfig.HashKey.COOKIE) {
      String issued = Cookies.setCookieValue(upstreamHeaders, config.keyName());
      if (issued != null && (!(pin instanceof KeyedPin k) || !issued.equals(k.key))) {
        shared = young.learnIssued(issued, servedBy.name());
      }
    }
    if (pin instanceof KeyedPin k && pin.target() != servedBy) {
      young.learn(k.key, servedBy.name(), false);
    } else if (pin instanceof KeyedPin k) {
      young.served(k.key, servedBy.name());
    }
    return shared;
  }

  @Override
  public long learnedEntries() {
    return young.size();
  }

  @Override
  public StoreStatus store() {
    return young.hasStore() ? young : null;
  }

  @Override
  public void close() {
    young.close();
  }
}
