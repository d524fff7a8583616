package tether.limits;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A route's limits' answer to one request: admitted (then {@link #release()} once it ends, giving back its
 * {@code conn_limit} slot) or refused by {@link #limit()} {@code rate} or {@code conn}, to be answered 429 with
 * {@code Retry-After: }{@link #retryAfterSeconds()}. One per request, used on its event loop only.
 */
public final class Admission {

  static final Admission ADMITTED = new Admission(null, 0, null, null, null);

  private final String limit;
  private final long retryAfterSeconds;
  private final ConnLimiter conn;
  private final String key;
  private AtomicInteger slot;

  private Admission(String limit, long retryAfterSeconds, ConnLimiter conn, String key, AtomicInteger slot) {
    this.limit = limit;
    this.retryAfterSeconds = retryAfterSeconds;
    this.conn = conn;
    this.key = key;
    this.slot = slot;
  }

  static Admission refused(String limit, long waitNanos) {
    // seconds until a token is back, rounded up: a client retrying then is admitted
    return new Admission(limit, Math.max(1, (waitNanos + 999_999_999L) / 1_000_000_000L), null, null, null);
  }

  static Admission holding(ConnLimiter conn, String key, AtomicInteger slot) {
    return new Admission(null, 0, conn, key, slot);
  }

  public boolean admitted() {
    return limit == null;
  }

  /** {@code rate} or {@code conn} when refused, else null. */
  public String limit() {
    return limit;
  }

  public long retryAfterSeconds() {
    return retryAfterSeconds;
  }

  /** The request ended: its {@code conn_limit} slot, if it holds one, is free again (a second call does nothing). */
  public void release() {
    if (slot != null) {
      conn.release(key, slot);
      slot = null;
    }
  }
}
