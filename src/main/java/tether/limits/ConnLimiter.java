package tether.limits;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * nginx's {@code limit_conn}: at most {@code max} requests of one key in flight. One counter per key with a
 * request in flight, shared by every event loop; the table holds only keys in flight, so it is bounded by the
 * requests in flight (by {@code limits.max_connections}), and nothing is ever evicted from it (evicting a count
 * would let its key past the limit).
 *
 * <p>A counter that reaches 0 is dead: it is removed and never counts up again, so a request racing with the
 * removal retries on a fresh counter instead of counting on one no longer in the table. The counters are updated
 * with compare-and-set; the table's insert and remove take ConcurrentHashMap's bin lock for the update alone.
 */
final class ConnLimiter {

  private final int max;
  private final ConcurrentHashMap<String, AtomicInteger> inFlight = new ConcurrentHashMap<>();

  ConnLimiter(int max) {
    this.max = max;
  }

  /** The counter now holding one more request of {@code key}, or null when {@code max} are in flight. */
  AtomicInteger acquire(String key) {
    for (;;) {
      AtomicInteger count = inFlight.get(key);
      if (count == null) {
        AtomicInteger fresh = new AtomicInteger(1);
        if (inFlight.putIfAbsent(key, fresh) == null) {
          return fresh;
        }
        continue;
      }
      int n = count.get();
      if (n == 0) {
        inFlight.remove(key, count); // dead: its last request ended; help remove it and start a fresh one
      } else if (n >= max) {
        return null;
      } else if (count.compareAndSet(n, n + 1)) {
        return count;
      }
    }
  }

  /** One request counted on {@code count} (from {@link #acquire}) ended. */
  void release(String key, AtomicInteger count) {
    if (count.decrementAndGet() == 0) {
      inFlight.remove(key, count);
    }
  }

  /** Keys with a request in flight. */
  int keys() {
    return inFlight.size();
  }
}
