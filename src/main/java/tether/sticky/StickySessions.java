package tether.sticky;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import tether.config.StickyConfig;
import tether.upstream.Upstream;

/**
 * Builds the {@link StickySession} each upstream's {@code sticky:} config asks for, and hands the same one back
 * across reloads while that config is unchanged, so learned tables survive a reload.
 */
public final class StickySessions {

  private record Built(StickyConfig config, StickySession session) {}

  private final Map<String, Built> byUpstream = new ConcurrentHashMap<>();

  public StickySession forUpstream(Upstream upstream) {
    StickyConfig config = upstream.config().sticky();
    return byUpstream.compute(upstream.name(), (name, prev) ->
        prev != null && prev.config.equals(config) ? prev : new Built(config, create(config))).session;
  }

  private static StickySession create(StickyConfig config) {
    return switch (config.mode()) {
      case NONE -> StickySession.NONE;
      case COOKIE -> new CookieSticky(config);
      case ROUTE -> new RouteSticky(config);
      case LEARN -> new LearnSticky(config);
      case HASH -> new HashSticky(config);
    };
  }
}
