package tether.limits;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import tether.config.LimitKey;
import tether.config.RateLimitConfig;

/** GCRA with nginx's limit_req counts, on a clock the test moves: no sockets, no sleeps. */
class RateLimiterTest {

  private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
  private final AtomicLong clock = new AtomicLong(1_000 * SECOND);
  private final Ticker ticker = clock::get;

  private RateLimiter limiter(int perMinute, int burst, int maxKeys) {
    return new RateLimiter(new RateLimitConfig(perMinute, Duration.ofMinutes(1), burst, LimitKey.IP, maxKeys),
        ticker);
  }

  private static int passed(RateLimiter limiter, String key, int requests) {
    int ok = 0;
    for (int i = 0; i < requests; i++) {
      if (limiter.acquire(key) == 0) {
        ok++;
      }
    }
    return ok;
  }

  @Test
  void burstPlusOnePassAtOnceThenOnePerInterval() {
    RateLimiter limiter = limiter(60, 5, 100); // one a second
    assertThat(passed(limiter, "a", 20)).isEqualTo(6); // nginx: burst=5 lets 6 through at once
    // the 7th waits one interval (the 6th used the last slot of the burst)
    assertThat(limiter.acquire("a")).isEqualTo(SECOND);
    clock.addAndGet(SECOND / 4);
    assertThat(limiter.acquire("a")).isEqualTo(SECOND * 3 / 4);
    clock.addAndGet(SECOND * 3 / 4);
    assertThat(limiter.acquire("a")).isZero(); // a token came back
    assertThat(limiter.acquire("a")).isEqualTo(SECOND);
    clock.addAndGet(10 * SECOND); // idle long enough to refill the whole burst, never more
    assertThat(passed(limiter, "a", 20)).isEqualTo(6);
  }

  @Test
  void refusedRequestsDoNotDrainTheBucket() {
    RateLimiter limiter = limiter(60, 0, 100);
    assertThat(limiter.acquire("a")).isZero();
    for (int i = 0; i < 1000; i++) {
      assertThat(limiter.acquire("a")).isPositive(); // a client hammering while refused...
    }
    clock.addAndGet(SECOND);
    assertThat(limiter.acquire("a")).isZero(); // ...is admitted again after one interval, as with nginx
  }

  @Test
  void keysAreIndependent() {
    RateLimiter limiter = limiter(1, 2, 100);
    assertThat(passed(limiter, "a", 10)).isEqualTo(3);
    assertThat(passed(limiter, "b", 10)).isEqualTo(3);
    assertThat(passed(limiter, "a", 10)).isZero();
  }

  @Test
  void theTableNeverHoldsMoreThanMaxKeys() {
    RateLimiter limiter = limiter(1, 0, 1000);
    for (int i = 0; i < 50_000; i++) {
      limiter.acquire("client-" + i);
    }
    assertThat(limiter.keys()).isLessThanOrEqualTo(1000);
  }

  @Test
  void anIdleKeyIsDroppedOnceItsBucketIsFull() {
    RateLimiter limiter = limiter(60, 4, 1000);
    for (int i = 0; i < 100; i++) {
      limiter.acquire("client-" + i);
    }
    assertThat(limiter.keys()).isEqualTo(100);
    clock.addAndGet(5 * SECOND + 1); // (burst + 1) intervals: as good as new, so nothing is lost by forgetting
    assertThat(limiter.keys()).isZero();
  }

  /** Four threads stand for four event loops sharing one key: CAS, no lock, and still exactly burst + 1. */
  @Test
  void loopsSharingAKeyShareOneBucket() throws Exception {
    RateLimiter limiter = limiter(1, 49, 100);
    AtomicInteger ok = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Callable<Void>> loops = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        loops.add(() -> {
          ok.addAndGet(passed(limiter, "shared", 10_000));
          return null;
        });
      }
      for (Future<Void> f : pool.invokeAll(loops, 30, TimeUnit.SECONDS)) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(ok.get()).isEqualTo(50);
  }
}
