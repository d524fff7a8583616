package tether.metrics;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import tether.cache.EventLoopCaches;
import tether.proxy.ProxyListener;
import tether.upstream.Backend;
import tether.upstream.BackendState;

/**
 * Distinct pinned users each server served in the last {@link #WINDOW}: how far a drain still has to go. A user
 * counts until {@link #WINDOW} after its last request (a read of a known user refreshes it; only a new user is a
 * write: the cache's writes cost more than its reads, and most requests are known users').
 */
public final class PinnedUsers implements ProxyListener {

  public static final Duration WINDOW = Duration.ofMinutes(5);

  private final Map<BackendState, Cache<String, Boolean>> seen = new ConcurrentHashMap<>();
  private final Ticker ticker;

  public PinnedUsers() {
    this(Ticker.systemTicker());
  }

  /** @param ticker the clock the window is on (a test's) */
  PinnedUsers(Ticker ticker) {
    this.ticker = ticker;
  }

  @Override
  public void stickyHit(Backend backend, String userKey) {
    if (userKey != null) {
      Cache<String, Boolean> users = seen.computeIfAbsent(backend.state(), s -> EventLoopCaches.newBuilder()
          .maximumSize(100_000).expireAfterAccess(WINDOW).ticker(ticker).build());
      if (users.getIfPresent(userKey) == null) {
        users.put(userKey, Boolean.TRUE);
      }
    }
  }

  /** Forgets a server a reload removed. */
  public void remove(BackendState state) {
    seen.remove(state);
  }

  public long recent(BackendState state) {
    Cache<String, Boolean> users = seen.get(state);
    if (users == null) {
      return 0;
    }
    users.cleanUp();
    return users.estimatedSize();
  }
}
