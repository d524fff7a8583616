package tether.proxy;

import tether.upstream.Backend;

/** Observes the proxy without being part of it: access log, metrics and tests implement it. */
public interface ProxyListener {

  default void exchangeEnded(ExchangeRecord record) {}

  /** The pinned server was not used; reason: down, connect_failed, disabled, drain_deadline, ... */
  default void repinned(String upstream, String reason) {}

  /** A pinned user reached its server; {@code userKey} identifies the user's pin (null if unknown). */
  default void stickyHit(Backend backend, String userKey) {}

  default void newPin(String upstream) {}

  /** Another server is tried after {@code failed} did not answer; reason: connect_failed, timeout, reset. */
  default void retried(Backend failed, String reason) {}

  /** A backend attempt failed (connect error, timeout, broken response): passive health listens here. */
  default void backendFailed(Backend backend, String reason) {}

  /** A backend answered with this status. */
  default void backendResponded(Backend backend, int status) {}

  /** A new connection to this backend is up, {@code connectNanos} after the attempt began (not for reused ones). */
  default void connected(Backend backend, long connectNanos) {}

  /** The backend's response head arrived, {@code nanos} after the attempt began (connect included). */
  default void firstByte(Backend backend, long nanos) {}

  /** A client connection opened (+1) or closed (-1). */
  default void clientConnections(int delta) {}

  /** A client connection was closed at once: {@code max_connections} were open. */
  default void clientRefused() {}

  /** A pooled connection to this backend opened (+1) or closed (-1). */
  default void upstreamConnections(Backend backend, int delta) {}

  /** A connection to this backend switched protocols (a WebSocket): a tunnel opened. */
  default void tunnelOpened(Backend backend) {}

  /**
   * A tunnel to this backend closed after {@code nanos}, having carried these bytes from and to the client;
   * reason: client_closed, backend_closed, idle.
   */
  default void tunnelClosed(Backend backend, long fromClientBytes, long toClientBytes, long nanos, String reason) {}

  /**
   * A route's limit refused a request (429, before any server was chosen); {@code route} is the route's
   * {@code host + path} label, {@code limit} is {@code rate} or {@code conn}.
   */
  default void limited(String route, String limit) {}

  static ProxyListener all(java.util.List<ProxyListener> listeners) {
    ProxyListener[] ls = listeners.toArray(ProxyListener[]::new);
    return new ProxyListener() {
      @Override
      public void exchangeEnded(ExchangeRecord r) {
        for (ProxyListener l : ls) l.exchangeEnded(r);
      }

      @Override
      public void repinned(String upstream, String reason) {
        for (ProxyListener l : ls) l.repinned(upstream, reason);
      }

      @Override
      public void stickyHit(Backend backend, String userKey) {
        for (ProxyListener l : ls) l.stickyHit(backend, userKey);
      }

      @Override
      public void newPin(String upstream) {
        for (ProxyListener l : ls) l.newPin(upstream);
      }

      @Override
      public void retried(Backend failed, String reason) {
        for (ProxyListener l : ls) l.retried(failed, reason);
      }

      @Override
      public void backendFailed(Backend backend, String reason) {
        for (ProxyListener l : ls) l.backendFailed(backend, reason);
      }

      @Override
      public void backendResponded(Backend backend, int status) {
        for (ProxyListener l : ls) l.backendResponded(backend, status);
      }

      @Override
      public void connected(Backend backend, long connectNanos) {
        for (ProxyListener l : ls) l.connected(backend, connectNanos);
      }

      @Override
      public void firstByte(Backend backend, long nanos) {
        for (ProxyListener l : ls) l.firstByte(backend, nanos);
      }

      @Override
      public void clientConnections(int delta) {
        for (ProxyListener l : ls) l.clientConnections(delta);
      }

      @Override
      public void clientRefused() {
        for (ProxyListener l : ls) l.clientRefused();
      }

      @Override
      public void upstreamConnections(Backend backend, int delta) {
        for (ProxyListener l : ls) l.upstreamConnections(backend, delta);
      }

      @Override
      public void tunnelOpened(Backend backend) {
        for (ProxyListener l : ls) l.tunnelOpened(backend);
      }

      @Override
      public void tunnelClosed(Backend backend, long fromClientBytes, long toClientBytes, long nanos, String reason) {
        for (ProxyListener l : ls) l.tunnelClosed(backend, fromClientBytes, toClientBytes, nanos, reason);
      }

      @Override
      public void limited(String route, String limit) {
        for (ProxyListener l : ls) l.limited(route, limit);
      }
    };
  }
}
