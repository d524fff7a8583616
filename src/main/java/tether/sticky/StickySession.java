package tether.sticky;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import tether.upstream.Backend;
import tether.upstream.Upstream;

/**
 * Keeps a user on its server. Runs before balancing ({@link #resolve}) and falls through to it; after the
 * response, {@link #onResponse} re-issues the pin for the server that actually served, which is how a user is
 * moved silently after a failover.
 */
public interface StickySession {

  Pin resolve(StickyRequest request, Upstream upstream);

  /**
   * {@link #resolve}, for a mode whose table is shared through a store: completes at once when the answer is known
   * locally (the usual case), else on the caller's event loop within the store's timeout. Never fails.
   */
  default Future<Pin> resolveAsync(StickyRequest request, Upstream upstream) {
    return Future.succeededFuture(resolve(request, upstream));
  }

  /**
   * @param upstreamHeaders the backend's response headers (read to learn session ids)
   * @param responseHeaders what the client will get (where a cookie is set)
   * @param https           the client reached us over TLS, directly or through a trusted proxy
   */
  void onResponse(Pin pin, Backend servedBy, MultiMap upstreamHeaders, MultiMap responseHeaders, boolean https);

  /**
   * {@link #onResponse}, for a mode that shares what it learns: the future completes once a session this response
   * created is in the store, so the user's next request finds it whichever instance it reaches. That is at once
   * in the usual case (nothing new learned, no store, store down), else within the store's timeout. Never fails.
   */
  default Future<Void> onResponseShared(Pin pin, Backend servedBy, MultiMap upstreamHeaders,
                                        MultiMap responseHeaders, boolean https) {
    onResponse(pin, servedBy, upstreamHeaders, responseHeaders, https);
    return Future.succeededFuture();
  }

  /** Entries in this mode's learned table (learn, hash, route moves); 0 for stateless modes. */
  default long learnedEntries() {
    return 0;
  }

  /** The request cookie that is Tether's own (the backend never sees it), or null: cookie mode's cookie name. */
  default String ownCookie() {
    return null;
  }

  /** The shared store's state, for metrics; null without one. */
  default StoreStatus store() {
    return null;
  }

  /** Releases what the mode holds outside the heap (a store client). */
  default void close() {}

  StickySession NONE = new StickySession() {
    @Override
    public Pin resolve(StickyRequest request, Upstream upstream) {
      return Pin.NONE;
    }

    @Override
    public void onResponse(Pin pin, Backend servedBy, MultiMap upstreamHeaders, MultiMap responseHeaders,
                           boolean https) {}
  };
}
