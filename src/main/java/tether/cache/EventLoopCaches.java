package tether.cache;

import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Scheduler;

/**
 * Caffeine builders for the caches the event loops read and write on every request (pinned users, sticky tables,
 * rate limits). Caffeine's default hands its upkeep (replaying reads into the eviction order, evicting, expiring)
 * to {@code ForkJoinPool.commonPool()} each time a read buffer fills, about every 16 reads: a task submitted and a
 * thread woken on the event loop's core, 10 % of a core's samples at 30k sticky hits per second
 * ({@code bench/results/20261202-s11-caffeine}). Here the upkeep runs on the thread that filled the buffer (a few
 * entries at a time, under Caffeine's own try-lock: never waited on), and expired entries are removed by Caffeine's
 * paced timer ({@link Scheduler#systemScheduler()}, at most one wake-up a second) rather than all at once by the
 * first request after a quiet spell.
 */
public final class EventLoopCaches {

  private EventLoopCaches() {}

  /** {@link Caffeine#newBuilder()} with the upkeep above; size, expiry and ticker are the caller's. */
  public static Caffeine<Object, Object> newBuilder() {
    return Caffeine.newBuilder().executor(Runnable::run).scheduler(Scheduler.systemScheduler());
  }
}
