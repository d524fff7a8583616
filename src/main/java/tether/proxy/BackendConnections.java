package tether.proxy;

import io.vertx.core.http.HttpConnection;
import java.util.IdentityHashMap;
import java.util.Map;
import tether.upstream.Backend;

/**
 * The pooled backend connections of one event loop, with how many requests each carried and since when it idles:
 * what tells a reused connection (the keep-alive race) from a fresh one. Event-loop confined, so no locks.
 */
final class BackendConnections {

  /** One connection's use. */
  static final class Use {
    private Backend server;
    private int requests;
    private long idleSinceNanos = System.nanoTime();

    /** Counts a request about to be sent; true when the connection carried one before (it is reused). */
    boolean startRequest() {
      return requests++ > 0;
    }

    /** Nanoseconds since its last request ended (or since it opened). */
    long idleNanos(long now) {
      return now - idleSinceNanos;
    }

    void requestEnded(long now) {
      idleSinceNanos = now;
    }

    /** Counts the connection as {@code backend}'s; true the first time (the one it was opened for). */
    boolean tag(Backend backend) {
      if (server != null) {
        return false;
      }
      server = backend;
      return true;
    }
  }

  private final Map<HttpConnection, Use> uses = new IdentityHashMap<>();

  void opened(HttpConnection connection) {
    uses.put(connection, new Use());
  }

  /** @return the server the closed connection counted for, or null */
  Backend closed(HttpConnection connection) {
    Use use = uses.remove(connection);
    return use == null ? null : use.server;
  }

  /** The connection's use; a connection not opened through the pool counts as fresh (and is not kept). */
  Use of(HttpConnection connection) {
    Use use = uses.get(connection);
    return use != null ? use : new Use();
  }
}
