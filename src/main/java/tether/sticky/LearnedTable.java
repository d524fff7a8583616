package tether.sticky;

import com.github.benmanes.caffeine.cache.Cache;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import tether.cache.EventLoopCaches;
import tether.config.StickyConfig;

/**
 * A learned {@code session key -> server name} table: a bounded local table (idle entries expire), and, when a
 * {@link StickyConfig.Store} is configured, the store shared by every Tether instance behind it.
 *
 * <p>The request path never blocks. {@link #lookup} answers at once from the local table when the entry is fresh
 * ({@code recheck}) or when the store is down; otherwise the request waits for the store at most {@code timeout},
 * then goes on with what the local table knew (or balancing). {@link #learn} writes locally and queues the store
 * write; {@link #served} extends the store entry's life once a quarter of the ttl has passed, so an active session
 * never expires there, and writes an entry learned while the store was down on the session's next request.
 *
 * <p>Two instances may learn one new session at once: the client's second request reached the other instance
 * before the first one's write reached the store (a window of well under a millisecond on a LAN). The first write
 * wins ({@code add}), the loser reads it on its next request: the session converges within one request.
 */
final class LearnedTable implements StoreStatus {

  /** Store reads one instance waits for at once; more go on with the local table. */
  static final int MAX_PENDING_READS = 1024;

  /**
   * A server name (null: the store has none, remembered for {@code recheck}) and when this instance last compared it
   * with the store or wrote it there (nanos, 0 = never).
   */
  static final class Entry {
    final String server;
    volatile long checkedAt;
    volatile long storedAt;

    Entry(String server, long checkedAt) {
      this.server = server;
      this.checkedAt = checkedAt;
    }
  }

  private final Cache<String, Entry> local;
  private final SessionStore store;
  private final String prefix;
  private final int ttlSeconds;
  private final long refreshNanos;
  private final long timeoutMillis;
  private final long recheckNanos;
  private final AtomicInteger pendingReads = new AtomicInteger();
  private final LongAdder readErrors = new LongAdder();
  private final LongAdder readTimeouts = new LongAdder();
  private final LongAdder readsSkipped = new LongAdder();
  private final LongAdder writeErrors = new LongAdder();
  private final LongAdder writeTimeouts = new LongAdder();
  private final LongAdder writesDropped = new LongAdder();

  /**
   * @param prefix keys in the store: {@code prefix + session key} ({@code tether:learn:app:})
   * @param store  null: a local table only
   */
  LearnedTable(long maxEntries, Duration ttl, String prefix, StickyConfig.Store config, SessionStore store) {
    this(maxEntries, ttl, prefix, config, store, com.github.benmanes.caffeine.cache.Ticker.systemTicker());
  }

  /** @param ticker the local table's clock (tests pass their own) */
  LearnedTable(long maxEntries, Duration ttl, String prefix, StickyConfig.Store config, SessionStore store,
               com.github.benmanes.caffeine.cache.Ticker ticker) {
    this.local = EventLoopCaches.newBuilder().maximumSize(maxEntries).expireAfterAccess(ttl).ticker(ticker).build();
    this.store = store;
    this.prefix = prefix;
    // memcached reads an expiry over 30 days as a date; 0 means never: at least a second
    this.ttlSeconds = (int) Math.max(1, Math.min(ttl.toSeconds(), Duration.ofDays(30).toSeconds()));
    this.refreshNanos = Math.max(ttl.toNanos() / 4, Duration.ofSeconds(1).toNanos());
    this.timeoutMillis = config == null ? 0 : Math.max(1, config.timeout().toMillis());
    this.recheckNanos = config == null ? Long.MAX_VALUE : config.recheck().toNanos();
  }

  /** The local entry's server, without asking the store. */
  String local(String key) {
    Entry e = local.getIfPresent(key);
    return e == null ? null : e.server;
  }

  /**
   * The server learned for {@code key}, or null. Completes at once unless the store must be asked; then it
   * completes on the caller's event loop within the store timeout, never failed.
   */
  Future<String> lookup(String key) {
    Entry e = local.getIfPresent(key);
    long now = System.nanoTime();
    if (store == null || (e != null && now - e.checkedAt < recheckNanos)) {
      return Future.succeededFuture(e == null ? null : e.server);
    }
    Context context = Vertx.currentContext();
    if (!store.up() || context == null) {
      return Future.succeededFuture(e == null ? null : e.server);
    }
    if (pendingReads.incrementAndGet() > MAX_PENDING_READS) {
      pendingReads.decrementAndGet();
      readsSkipped.increment();
      return Future.succeededFuture(e == null ? null : e.server);
    }
    Promise<String> answer = Promise.promise();
    boolean[] settled = new boolean[1]; // read and written on the context's thread only
    long timer = context.owner().setTimer(timeoutMillis, t -> {
      if (!settled[0]) {
        settled[0] = true;
        readTimeouts.increment();
        answer.complete(e == null ? null : e.server);
      }
    });
    store.get(prefix + storeKey(key)).whenComplete((value, err) -> context.runOnContext(v -> {
      pendingReads.decrementAndGet();
      if (err != null) {
        readErrors.increment();
      } else {
        merge(key, e, value, now);
      }
      if (!settled[0]) {
        settled[0] = true;
        context.owner().cancelTimer(timer);
        Entry current = local.getIfPresent(key);
        answer.complete(current == null ? null : current.server);
      }
    }));
    return answer.future();
  }

  /** What the store said for {@code key}, against the local entry {@code e} the request started with. */
  private void merge(String key, Entry e, String stored, long now) {
    if (stored == null) {
      if (e == null) {
        local.asMap().putIfAbsent(key, new Entry(null, now)); // not asked again for every request until recheck
      } else if (e.server != null) { // learned here while the store was down, or evicted there: written soon
        e.checkedAt = now;
        e.storedAt = 0;
      } else {
        e.checkedAt = now;
      }
      return;
    }
    if (e != null && stored.equals(e.server)) {
      e.checkedAt = now;
      return;
    }
    Entry fresh = new Entry(stored, now);
    fresh.storedAt = now;
    local.asMap().merge(key, fresh, (cur, f) -> cur == e ? f : cur); // an entry learned meanwhile wins
  }

  /**
   * {@code key} is on {@code server} from now on: locally at once, in the store soon. {@code first}: this instance
   * did not know the session (a new id, or one it had never seen), so an entry another instance wrote meanwhile
   * wins, and this one follows it from the next request; otherwise (a move off a failed server) it overwrites.
   */
  void learn(String key, String server, boolean first) {
    learn(key, server, first, null);
  }

  /**
   * {@link #learn} of a session id a server just issued, with a future that completes (on the caller's event loop)
   * once the store has it, so the response can wait for that: the user's next request may reach another instance
   * at once. Completes at once without a store or while it is down, and within the store timeout at worst.
   */
  Future<Void> learnIssued(String key, String server) {
    Context context = store != null && store.up() ? Vertx.currentContext() : null;
    if (context == null) {
      learn(key, server, true, null);
      return Future.succeededFuture();
    }
    Promise<Void> stored = Promise.promise();
    boolean[] settled = new boolean[1]; // read and written on the context's thread only
    long timer = context.owner().setTimer(timeoutMillis, t -> {
      if (!settled[0]) {
        settled[0] = true;
        writeTimeouts.increment();
        stored.complete();
      }
    });
    learn(key, server, true, () -> context.runOnContext(v -> {
      if (!settled[0]) {
        settled[0] = true;
        context.owner().cancelTimer(timer);
        stored.complete();
      }
    }));
    return stored.future();
  }

  private void learn(String key, String server, boolean first, Runnable done) {
    Entry e = new Entry(server, System.nanoTime());
    local.put(key, e);
    if (store == null) {
      return;
    }
    e.storedAt = System.nanoTime();
    store.put(prefix + storeKey(key), server, ttlSeconds, first).whenComplete((written, err) -> {
      if (err != null) {
        failedWrite(e, err);
      } else if (!written) {
        e.checkedAt = 0; // another instance learned it first: read it on the next request
      }
      if (done != null) {
        done.run();
      }
    });
  }

  /**
   * A request of {@code key} was served by {@code server}, its pin: once a quarter of the ttl has passed, the store
   * entry's life is extended (or, missing there, written: learned while the store was down, or evicted).
   */
  void served(String key, String server) {
    if (store == null) {
      return;
    }
    Entry e = local.getIfPresent(key);
    if (e == null || !server.equals(e.server) || System.nanoTime() - e.storedAt <= refreshNanos) {
      return;
    }
    e.storedAt = System.nanoTime(); // one refresh in flight at most
    String storeKey = prefix + storeKey(key);
    store.touch(storeKey, ttlSeconds).whenComplete((found, err) -> {
      if (err != null) {
        failedWrite(e, err);
      } else if (!found) {
        store.put(storeKey, e.server, ttlSeconds, true).whenComplete((written, err2) -> {
          if (err2 != null) {
            failedWrite(e, err2);
          } else if (!written) {
            e.checkedAt = 0;
          }
        });
      }
    });
  }

  private void failedWrite(Entry e, Throwable err) {
    e.storedAt = 0;
    (err instanceof SessionStore.Dropped ? writesDropped : writeErrors).increment();
  }

  long size() {
    return local.estimatedSize();
  }

  void close() {
    if (store != null) {
      store.close();
    }
  }

  boolean hasStore() {
    return store != null;
  }

  @Override
  public boolean up() {
    return store != null && store.up();
  }

  @Override
  public long errors(Op op, String kind) {
    return switch (op) {
      case READ -> switch (kind) {
        case TIMEOUT -> readTimeouts.sum();
        case DROPPED -> readsSkipped.sum();
        default -> readErrors.sum();
      };
      case WRITE -> switch (kind) {
        case TIMEOUT -> writeTimeouts.sum();
        case DROPPED -> writesDropped.sum();
        default -> writeErrors.sum();
      };
    };
  }

  /**
   * A session key as memcached takes it (at most 250 bytes of printable ASCII, no space): as it is when it fits,
   * else its SHA-256 (the key comes from a client's cookie: anything may be in it).
   */
  static String storeKey(String key) {
    if (key.length() <= 200 && key.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
      return key;
    }
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
      return "#" + Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
