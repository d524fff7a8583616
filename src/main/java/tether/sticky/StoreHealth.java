package tether.sticky;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether a store is usable: every server connected, and operations not failing in a row. Each change is logged
 * once (never per request), naming the cause; while down, Tether learns locally and serves on.
 */
final class StoreHealth {

  private static final Logger LOG = LoggerFactory.getLogger("tether.sticky.store");
  /** Failed operations in a row (on a connected store: a hung or overloaded server) that make it down. */
  static final int FAILURES_DOWN = 3;

  private final String name;
  private final int servers;
  private final Set<String> connected = ConcurrentHashMap.newKeySet();
  private final AtomicInteger failuresInARow = new AtomicInteger();
  private volatile boolean up;
  private boolean reported; // guarded by this: false until the first state is announced
  private String cause = "not connected yet";

  /** {@code name}: what the log calls the store ({@code memcached [10.0.0.5:11211]}). */
  StoreHealth(String name, int servers) {
    this.name = name;
    this.servers = servers;
  }

  boolean up() {
    return up;
  }

  void connected(String server) {
    connected.add(server);
    failuresInARow.set(0);
    update("connected to " + server);
  }

  void lost(String server) {
    connected.remove(server);
    update("connection to " + server + " lost");
  }

  void succeeded() {
    if (failuresInARow.getAndSet(0) >= FAILURES_DOWN) {
      update("operations succeed again");
    }
  }

  void failed(String what) {
    if (failuresInARow.incrementAndGet() == FAILURES_DOWN) {
      update(FAILURES_DOWN + " operations failed in a row (last: " + what + ")");
    }
  }

  /** Logs a change of state, once; nothing before {@link #announce} (the client is still connecting). */
  void update(String why) {
    boolean now = connected.size() >= servers && failuresInARow.get() < FAILURES_DOWN;
    synchronized (this) {
      cause = why;
      if (!reported || now == up) {
        up = now;
        return;
      }
      up = now;
      log(false);
    }
  }

  /** Logs the state the client reached while starting (called once it connected, or gave it time to). */
  void announce() {
    synchronized (this) {
      if (!reported) {
        reported = true;
        up = connected.size() >= servers && failuresInARow.get() < FAILURES_DOWN;
        log(true);
      }
    }
  }

  private void log(boolean first) {
    if (up) {
      LOG.info("sticky store {} {}: learned sessions are shared ({})", name, first ? "up" : "up again", cause);
    } else {
      LOG.warn("sticky store {} down: learning locally and serving on, sessions learned meanwhile are written"
          + " to it when it is back ({})", name, cause);
    }
  }

  synchronized String cause() {
    return cause;
  }
}
