package tether.limits;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import tether.cache.EventLoopCaches;
import tether.config.RateLimitConfig;

/**
 * nginx's {@code limit_req ... burst=B nodelay}, as GCRA (the generic cell rate algorithm, the same arithmetic as
 * nginx's leaky-bucket "excess"): each key holds one number, its theoretical arrival time (TAT). A request at
 * {@code now} passes when {@code TAT - now <= burst * interval}, and moves TAT one interval on; a refused one changes
 * nothing and waits {@code TAT - now - burst * interval}. With burst B, B + 1 requests pass at once, then one per
 * interval: nginx's count exactly.
 *
 * <p>Every event loop shares one table, so a key has one bucket whatever loop its connections land on. A key
 * already in the table costs a lock-free read and one compare-and-set; a new key is one insert into Caffeine's
 * ConcurrentHashMap (its bin lock is held for the insert alone, never across I/O). The table is bounded: at most
 * {@code max_keys} keys (Caffeine evicts the least valuable, near LRU, as nginx's zone drops its least recently used
 * state), and an entry idle for {@code (burst + 1) * interval} is dropped, since by then it is as good as new.
 */
final class RateLimiter {

  private final long interval;
  private final long tolerance;
  private final Ticker ticker;
  private final Cache<String, AtomicLong> arrivals;

  RateLimiter(RateLimitConfig config, Ticker ticker) {
    this.interval = config.intervalNanos();
    this.tolerance = config.toleranceNanos();
    this.ticker = ticker;
    this.arrivals = EventLoopCaches.newBuilder().maximumSize(config.maxKeys())
        .expireAfterAccess(Duration.ofNanos(tolerance + interval)).ticker(ticker).build();
  }

  /** 0 when a request of {@code key} may pass (its token is taken), else the nanoseconds until one would. */
  long acquire(String key) {
    long now = ticker.read();
    AtomicLong tat = arrivals.get(key, k -> new AtomicLong(now));
    for (;;) {
      long prev = tat.get();
      long start = prev - now > 0 ? prev : now; // max(TAT, now), safe across nanoTime's wrap
      long wait = start - now - tolerance;
      if (wait > 0) {
        return wait;
      }
      if (tat.compareAndSet(prev, start + interval)) {
        return 0;
      }
    }
  }

  /** Keys held, after pending evictions ran (for tests and gauges). */
  long keys() {
    arrivals.cleanUp();
    return arrivals.estimatedSize();
  }
}
