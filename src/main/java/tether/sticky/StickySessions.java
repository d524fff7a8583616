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
    if (config instanceof StickyConfig.Cookie c) {
      return new CookieSticky(c);
    } else if (config instanceof StickyConfig.Route r) {
      return new RouteSticky(r);
    } else if (config instanceof StickyConfig.Learn l) {
      return new LearnSticky(l);
    } else if (config instanceof StickyConfig.Hash h) {
      return new HashSticky(h);
    }
    return StickySession.NONE;
  }
}
