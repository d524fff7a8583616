package tether.sticky;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
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
 */
final class HashSticky implements StickySession {

  private final StickyConfig.Hash config;
  private final Cache<String, String> young;

  HashSticky(StickyConfig.Hash config) {
    this(config, Ticker.systemTicker());
  }

  HashSticky(StickyConfig.Hash config, Ticker ticker) {
    this.config = config;
    this.young = Caffeine.newBuilder().maximumSize(config.maxEntries())
        .expireAfterAccess(config.learnWindow()).ticker(ticker).build();
  }

  @Override
  public Pin resolve(StickyRequest request, Upstream upstream) {
    String key = switch (config.key()) {
      case COOKIE -> Cookies.first(request.headers(), config.keyName());
      case HEADER -> request.headers().get(config.keyName());
      case IP -> request.clientAddress();
    };
    if (key == null) {
      return Pin.NONE;
    }
    long hash = HashRing.hash(key);
    String remembered = young.getIfPresent(key);
    Backend target = remembered == null ? null : upstream.byName(remembered);
    return new KeyedPin(target != null ? target : upstream.ringOwner(hash), null, key, hash);
  }

  @Override
  public void onResponse(Pin pin, Backend servedBy, MultiMap upstreamHeaders, MultiMap responseHeaders,
                         boolean https) {
    if (config.key() == StickyConfig.HashKey.COOKIE) {
      String issued = Cookies.setCookieValue(upstreamHeaders, config.keyName());
      if (issued != null && (!(pin instanceof KeyedPin k) || !issued.equals(k.key))) {
        young.put(issued, servedBy.name());
      }
    }
    if (pin instanceof KeyedPin k && pin.target() != servedBy) {
      young.put(k.key, servedBy.name());
    }
  }

  @Override
  public long learnedEntries() {
    return young.estimatedSize();
  }
}
