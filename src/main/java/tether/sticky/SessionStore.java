package tether.sticky;

import java.util.concurrent.CompletionStage;

/**
 * A store several Tether instances share, holding {@code key -> server name} entries. Nothing here blocks: each call
 * queues the operation and returns; the stage completes on the store client's own thread. A stage that fails with
 * {@link Dropped} was never sent (the client's bounded queue was full).
 */
interface SessionStore {

  /** The value, or null when the store has none. */
  CompletionStage<String> get(String key);

  /**
   * Writes the entry; with {@code onlyIfAbsent}, only when the key has none (the first instance to learn a session
   * wins). True when written.
   */
  CompletionStage<Boolean> put(String key, String value, int ttlSeconds, boolean onlyIfAbsent);

  /** Extends the entry's life to {@code ttlSeconds} from now; false when there is no entry. */
  CompletionStage<Boolean> touch(String key, int ttlSeconds);

  /** Connected to every server, and operations are not failing. */
  boolean up();

  void close();

  /** The operation was not queued: the client's queue is full. */
  final class Dropped extends RuntimeException {
    Dropped() {
      super("store queue full", null, false, false);
    }
  }
}
