package tether.limits;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ConnLimiterTest {

  @Test
  void atMostMaxInFlightPerKeyAndASlotComesBackOnRelease() {
    ConnLimiter limiter = new ConnLimiter(2);
    AtomicInteger a1 = limiter.acquire("a");
    AtomicInteger a2 = limiter.acquire("a");
    assertThat(a1).isNotNull();
    assertThat(a2).isNotNull();
    assertThat(limiter.acquire("a")).isNull();
    assertThat(limiter.acquire("b")).isNotNull(); // another key is not affected
    limiter.release("a", a1);
    AtomicInteger a3 = limiter.acquire("a");
    assertThat(a3).isNotNull();
    limiter.release("a", a2);
    limiter.release("a", a3);
    assertThat(limiter.keys()).isEqualTo(1); // only b is still in flight: the table holds keys in flight only
  }

  /** Four threads acquire and release one key in a loop: never more than max at once, nothing left behind. */
  @Test
  void neverOverMaxUnderRacesAndEmptyAfterwards() throws Exception {
    ConnLimiter limiter = new ConnLimiter(3);
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger highest = new AtomicInteger();
    AtomicInteger admitted = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Callable<Void>> loops = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        loops.add(() -> {
          for (int i = 0; i < 20_000; i++) {
            AtomicInteger slot = limiter.acquire("k");
            if (slot != null) {
              admitted.incrementAndGet();
              highest.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
              inFlight.decrementAndGet();
              limiter.release("k", slot);
            }
          }
          return null;
        });
      }
      for (Future<Void> f : pool.invokeAll(loops, 30, TimeUnit.SECONDS)) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(highest.get()).isBetween(1, 3);
    assertThat(admitted.get()).isPositive();
    assertThat(limiter.keys()).isZero();
  }
}
