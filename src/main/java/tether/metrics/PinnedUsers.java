package tether.metrics;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import tether.proxy.ProxyListener;
import tether.upstream.Backend;
import tether.upstream.BackendState;

/** Distinct pinned users each server served in the last minutes: how far a drain still has to go. */
public final class PinnedUsers implements ProxyListener {

  public static final Duration WINDOW = Duration.ofMinutes(5);

  private final Map<BackendState, Cache<String, Boolean>> seen = new ConcurrentHashMap<>();

  @Override
  public void stickyHit(Backend backend, String userKey) {
    if (userKey != null) {
      seen.computeIfAbsent(backend.state(), s -> Caffeine.newBuilder().maximumSize(100_000)
          .expireAfterWrite(WINDOW).build()).put(userKey, Boolean.TRUE);
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
