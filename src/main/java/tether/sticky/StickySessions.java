package tether.sticky;

import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import tether.config.StickyConfig;
import tether.upstream.Upstream;

/**
 * Builds the {@link StickySession} each upstream's {@code sticky:} config asks for, and hands the same one back
 * across reloads while that config is unchanged, so learned tables (and store connections) survive a reload.
 */
public final class StickySessions {

  private record Built(StickyConfig config, StickySession session) {}

  private final Map<String, Built> byUpstream = new ConcurrentHashMap<>();
  /** Every session built and not closed yet: those a published snapshot no longer uses are closed. */
  private final Set<StickySession> open = ConcurrentHashMap.newKeySet();

  public StickySession forUpstream(Upstream upstream) {
    StickyConfig config = upstream.config().sticky();
    return byUpstream.compute(upstream.name(), (name, prev) ->
        prev != null && prev.config.equals(config) ? prev : new Built(config, create(name, config))).session;
  }

  /** Closes the sessions built but not in {@code live} (the published snapshot's): a reload replaced them. */
  public void retain(Collection<StickySession> live) {
    for (StickySession s : Set.copyOf(open)) {
      if (!live.contains(s) && open.remove(s)) {
        s.close();
      }
    }
  }

  /** Closes every session (Tether stops). */
  public void close() {
    retain(Set.of());
  }

  private StickySession create(String upstream, StickyConfig config) {
    StickySession s;
    if (config instanceof StickyConfig.Cookie c) {
      s = new CookieSticky(c);
    } else if (config instanceof StickyConfig.Route r) {
      s = new RouteSticky(r);
    } else if (config instanceof StickyConfig.Learn l) {
      s = new LearnSticky(l, upstream, store(l.store()));
    } else if (config instanceof StickyConfig.Hash h) {
      s = new HashSticky(h, upstream, store(h.store()));
    } else {
      return StickySession.NONE;
    }
    open.add(s);
    return s;
  }

  private static SessionStore store(StickyConfig.Store config) {
    return config == null ? null : new MemcachedStore(config.addresses());
  }
}
