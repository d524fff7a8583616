package tether.cache;

import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Scheduler;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Caffeine builders for the caches the event loops read and write on every request (pinned users, sticky tables,
 * rate limits). Caffeine's upkeep (replaying reads into the eviction order, evicting, expiring) is asked for each
 * time a read buffer fills, about every 16 reads:
 * <ul>
 *   <li>by default it goes to {@code ForkJoinPool.commonPool()}: a task submitted and a thread woken on the event
 *       loop's core each time, 10 % of a core's samples at 30k sticky hits per second
 *       ({@code bench/results/20261202-s11-caffeine});</li>
 *   <li>run on the caller instead, an event loop would remove every entry expired at once (100,000 entries of a
 *       burst, ~20-60 ms; 1,000,000, ~0.4 s: Caffeine bounds no pass);</li>
 *   <li>so it is queued here, without waking anyone, and one daemon thread ({@value #THREAD}) carries out what is
 *       queued every {@value #TICK_MILLIS} ms, and Caffeine's paced expiry timer, on the same thread.</li>
 * </ul>
 * Left as Caffeine does it with any executor: a writer that finds the write buffer full (more new keys within a
 * tick than it holds, 128 per core) does the upkeep itself, under Caffeine's lock; and writes that land while an
 * upkeep runs are applied at the cache's next read or write (or its expiry timer), not by a task of their own.
 */
public final class EventLoopCaches {

  static final String THREAD = "tether-cache-upkeep";
  static final long TICK_MILLIS = 10;
  /** Upkeep tasks run in one tick at most (a cache asked again while its upkeep ran waits for the next tick). */
  private static final int TASKS_PER_TICK = 4096;

  private EventLoopCaches() {}

  /** {@link Caffeine#newBuilder()} with the upkeep above; size, expiry and ticker are the caller's. */
  public static Caffeine<Object, Object> newBuilder() {
    return Caffeine.newBuilder().executor(Upkeep.DEFERRED).scheduler(Upkeep.SCHEDULER);
  }

  /** The upkeep thread, started with the first builder. */
  private static final class Upkeep {

    private static final ConcurrentLinkedQueue<Runnable> QUEUED = new ConcurrentLinkedQueue<>();
    private static final ScheduledExecutorService THREAD = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, EventLoopCaches.THREAD);
      t.setDaemon(true);
      return t;
    });
    /** Caffeine asks for at most one upkeep per cache at a time: the queue holds one task per busy cache. */
    static final Executor DEFERRED = QUEUED::add;
    static final Scheduler SCHEDULER = Scheduler.forScheduledExecutorService(THREAD);

    static {
      THREAD.scheduleWithFixedDelay(Upkeep::runQueued, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
    }

    private static void runQueued() {
      Runnable task;
      for (int i = 0; i < TASKS_PER_TICK && (task = QUEUED.poll()) != null; i++) {
        try {
          task.run();
        } catch (RuntimeException e) {
          // (Caffeine's own tasks catch and log what they throw; one failing must not stop the others)
          Thread.currentThread().getUncaughtExceptionHandler().uncaughtException(Thread.currentThread(), e);
        }
      }
    }
  }
}
