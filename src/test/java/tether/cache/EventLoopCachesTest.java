package tether.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.RemovalCause;
import java.time.Duration;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Where a request-path cache's upkeep runs: on the upkeep thread, never on the thread reading or writing (an event
 * loop) and never on a pool's. Recorded with Caffeine's eviction listener, which runs on the thread that evicts.
 */
class EventLoopCachesTest {

  private record Eviction(String thread, RemovalCause cause) {}

  private static void record(Queue<Eviction> evictions, RemovalCause cause) {
    evictions.add(new Eviction(Thread.currentThread().getName(), cause));
  }

  private static void assertAllOnTheUpkeepThread(Queue<Eviction> evictions, RemovalCause cause) {
    assertThat(evictions).allSatisfy(e -> {
      assertThat(e.cause()).isEqualTo(cause);
      assertThat(e.thread()).isEqualTo(EventLoopCaches.THREAD);
    });
  }

  @Test
  void sizeEvictionRunsOnTheUpkeepThread() {
    Queue<Eviction> evictions = new ConcurrentLinkedQueue<>();
    Cache<Integer, Integer> cache = EventLoopCaches.newBuilder().maximumSize(10)
        .evictionListener((k, v, cause) -> record(evictions, cause)).build();
    for (int i = 0; i < 100; i++) { // (fewer writes than the write buffer holds: no writer does the upkeep itself)
      cache.put(i, i);
      cache.getIfPresent(i / 2);
    }
    // Writes that landed while an upkeep ran wait for the cache's next use (Caffeine reschedules by itself only on
    // its common pool or its expiry timer): a miss, as traffic would, asks for the rest
    await().atMost(Duration.ofSeconds(10)).until(() -> cache.getIfPresent(-1) == null && evictions.size() == 90);
    assertAllOnTheUpkeepThread(evictions, RemovalCause.SIZE);
  }

  /** 100,000 entries expired together: the read that finds one of them removes none (~20-60 ms on the caller). */
  @Test
  void aMassExpiryIsNotRemovedByTheReadThatFindsIt() {
    AtomicLong nanos = new AtomicLong(1_000_000_000L);
    Queue<Eviction> evictions = new ConcurrentLinkedQueue<>();
    Cache<Integer, Integer> cache = EventLoopCaches.newBuilder().expireAfterAccess(Duration.ofSeconds(30))
        .ticker(nanos::get).evictionListener((k, v, cause) -> record(evictions, cause)).build();
    for (int i = 0; i < 100_000; i++) {
      cache.put(i, i);
    }
    nanos.addAndGet(Duration.ofSeconds(31).toNanos());
    assertThat(cache.getIfPresent(7)).isNull();
    await().atMost(Duration.ofSeconds(10)).until(() -> evictions.size() == 100_000);
    assertAllOnTheUpkeepThread(evictions, RemovalCause.EXPIRED);
  }

  @Test
  void expiredEntriesGoOnTheTimerWithoutARequestToTriggerIt() {
    Queue<Eviction> evictions = new ConcurrentLinkedQueue<>();
    Cache<Integer, Integer> cache = EventLoopCaches.newBuilder().expireAfterAccess(Duration.ofMillis(200))
        .evictionListener((k, v, cause) -> record(evictions, cause)).build();
    for (int i = 0; i < 100; i++) { // (fewer than the write buffer holds: no writer does the upkeep, nor expires)
      cache.put(i, i);
    }
    // nothing touches the cache from here: only Caffeine's timer can expire the entries
    await().atMost(Duration.ofSeconds(10)).until(() -> evictions.size() == 100);
    assertAllOnTheUpkeepThread(evictions, RemovalCause.EXPIRED);
  }
}
