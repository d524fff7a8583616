package tether.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.RemovalCause;
import java.time.Duration;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;

/** Where a request-path cache's upkeep runs: on the caller, and expiry on Caffeine's timer, never a pool's thread. */
class EventLoopCachesTest {

  private record Removal(String thread, RemovalCause cause) {}

  @Test
  void evictionRunsOnTheThreadThatFilledTheCache() {
    Queue<Removal> removals = new ConcurrentLinkedQueue<>();
    Cache<Integer, Integer> cache = EventLoopCaches.newBuilder().maximumSize(10)
        .removalListener((k, v, cause) -> removals.add(new Removal(Thread.currentThread().getName(), cause)))
        .build();
    for (int i = 0; i < 1_000; i++) {
      cache.put(i, i);
      cache.getIfPresent(i / 2); // (reads fill the read buffer: its drain is upkeep too)
    }
    cache.cleanUp();
    assertThat(removals).hasSizeGreaterThanOrEqualTo(990)
        .allSatisfy(r -> assertThat(r.thread()).isEqualTo(Thread.currentThread().getName()));
  }

  @Test
  void expiredEntriesGoOnTheTimerWithoutARequestToTriggerIt() {
    Queue<Removal> removals = new ConcurrentLinkedQueue<>();
    Cache<Integer, Integer> cache = EventLoopCaches.newBuilder().expireAfterAccess(Duration.ofMillis(200))
        .removalListener((k, v, cause) -> removals.add(new Removal(Thread.currentThread().getName(), cause)))
        .build();
    for (int i = 0; i < 1_000; i++) {
      cache.put(i, i);
    }
    // nothing touches the cache from here: only Caffeine's timer can expire the entries
    await().atMost(Duration.ofSeconds(10)).until(() -> removals.size() == 1_000);
    assertThat(removals).allSatisfy(r -> {
      assertThat(r.cause()).isEqualTo(RemovalCause.EXPIRED);
      assertThat(r.thread()).isNotEqualTo(Thread.currentThread().getName()).doesNotContain("ForkJoinPool");
    });
  }
}
