package tether.upstream;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Runtime state of one server, kept across reloads (keyed by upstream and server name), apart from its config.
 * Written by health checks, the admin API and the proxy; read lock-free on the request path.
 */
public final class BackendState {

  private volatile boolean healthy;
  private volatile long ejectedUntilNanos;
  private volatile long availableSinceNanos = System.nanoTime() - Long.MAX_VALUE / 4;
  private volatile AdminState adminState = AdminState.ACTIVE;
  private volatile long drainDeadlineNanos;
  private volatile String lastTransition = "";
  private volatile String lastCheck = "";
  private volatile long lastCheckMillis;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final LongAdder requests = new LongAdder();
  private final LongAdder failures = new LongAdder();

  public BackendState(boolean startDown) {
    this.healthy = !startDown;
  }

  /** Healthy (active checks), not ejected (passive checks) and not disabled. */
  public boolean available(long nowNanos) {
    return healthy && adminState != AdminState.DISABLED && nowNanos - ejectedUntilNanos >= 0;
  }

  /** Available and not draining: may be given new users. */
  public boolean acceptsNewUsers(long nowNanos) {
    return adminState == AdminState.ACTIVE && available(nowNanos);
  }

  public boolean healthy() {
    return healthy;
  }

  public void healthy(boolean healthy, long nowNanos) {
    if (healthy && !this.healthy) {
      availableSinceNanos = nowNanos;
    }
    this.healthy = healthy;
  }

  public boolean ejected(long nowNanos) {
    return nowNanos - ejectedUntilNanos < 0;
  }

  public void ejectUntil(long untilNanos) {
    ejectedUntilNanos = untilNanos;
    availableSinceNanos = untilNanos;
  }

  /** Since when the server has been available again: the slow-start ramp starts there. */
  public long availableSinceNanos() {
    return availableSinceNanos;
  }

  public AdminState adminState() {
    return adminState;
  }

  public void adminState(AdminState state, long drainDeadlineNanos) {
    if (state == AdminState.ACTIVE && adminState != AdminState.ACTIVE) {
      availableSinceNanos = System.nanoTime();
    }
    this.drainDeadlineNanos = drainDeadlineNanos;
    this.adminState = state;
  }

  /** 0 when the drain has no deadline. */
  public long drainDeadlineNanos() {
    return drainDeadlineNanos;
  }

  public String lastTransition() {
    return lastTransition;
  }

  public void lastTransition(String reason) {
    lastTransition = reason;
  }

  /** The last active check: its outcome in words and when (epoch ms, 0 = never). */
  public void lastCheck(String result, long epochMillis) {
    lastCheck = result;
    lastCheckMillis = epochMillis;
  }

  public String lastCheck() {
    return lastCheck;
  }

  public long lastCheckMillis() {
    return lastCheckMillis;
  }

  public long ejectedUntilNanos() {
    return ejectedUntilNanos;
  }

  public int inFlight() {
    return inFlight.get();
  }

  public void requestStarted() {
    inFlight.incrementAndGet();
    requests.increment();
  }

  public void requestEnded(boolean failed) {
    inFlight.decrementAndGet();
    if (failed) {
      failures.increment();
    }
  }

  public long requests() {
    return requests.sum();
  }

  public long failures() {
    return failures.sum();
  }
}
