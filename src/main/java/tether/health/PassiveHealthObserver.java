package tether.health;

import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tether.config.PassiveHealthConfig;
import tether.proxy.ProxyListener;
import tether.upstream.Backend;
import tether.upstream.BackendState;

/**
 * Passive checks on real traffic: {@code max_fails} consecutive failures (connect error, timeout, reset, or a
 * status in {@code fail_statuses}) within {@code fail_window} eject a server for {@code eject_for}; failing again
 * right after it came back doubles the ejection, up to {@code max_eject_for}. An ejected server gets no new users
 * and its pinned users are re-pinned.
 */
public final class PassiveHealthObserver implements ProxyListener {

  private static final Logger LOG = LoggerFactory.getLogger(PassiveHealthObserver.class);

  private static final class Record {
    final AtomicInteger failures = new AtomicInteger();
    volatile long windowStart;
    volatile long readmitAt;
    volatile int doublings;
  }

  private final Vertx vertx;
  private final HealthListener listener;
  private final Map<BackendState, Record> records = new ConcurrentHashMap<>();

  public PassiveHealthObserver(Vertx vertx, HealthListener listener) {
    this.vertx = vertx;
    this.listener = listener;
  }

  @Override
  public void backendFailed(Backend backend, String reason) {
    PassiveHealthConfig cfg = backend.passive();
    if (cfg.maxFails() == 0) {
      return;
    }
    Record r = records.computeIfAbsent(backend.state(), s -> new Record());
    long now = System.nanoTime();
    if (now - r.windowStart > cfg.failWindow().toNanos()) {
      r.windowStart = now;
      r.failures.set(0);
    }
    if (r.failures.incrementAndGet() >= cfg.maxFails() && !backend.state().ejected(now)) {
      eject(backend, cfg, r, now, reason);
    }
  }

  @Override
  public void backendResponded(Backend backend, int status) {
    if (backend.passive().failStatuses().contains(status)) {
      backendFailed(backend, "status " + status);
      return;
    }
    Record r = records.get(backend.state());
    if (r != null && r.failures.get() > 0) {
      r.failures.set(0);
    }
  }

  private void eject(Backend backend, PassiveHealthConfig cfg, Record r, long now, String reason) {
    boolean relapse = r.readmitAt != 0 && now - r.readmitAt < cfg.ejectFor().toNanos();
    r.doublings = relapse ? Math.min(r.doublings + 1, 20) : 0;
    long nanos = Math.min(cfg.ejectFor().toNanos() << r.doublings, cfg.maxEjectFor().toNanos());
    r.readmitAt = now + nanos;
    r.failures.set(0);
    backend.state().ejectUntil(now + nanos);
    Duration duration = Duration.ofNanos(nanos);
    String why = cfg.maxFails() + " consecutive failures, last: " + reason;
    backend.state().lastTransition("ejected for " + duration.toMillis() + "ms: " + why);
    LOG.warn("{}/{} ejected for {}ms: {}", backend.upstream(), backend.name(), duration.toMillis(), why);
    listener.ejected(backend, duration);
    listener.transition(backend, false, "ejected: " + why);
    vertx.setTimer(Math.max(1, duration.toMillis()), t -> {
      if (!backend.state().ejected(System.nanoTime())) {
        LOG.info("{}/{} back after ejection", backend.upstream(), backend.name());
        backend.state().lastTransition("readmitted after ejection");
        listener.transition(backend, true, "readmitted after ejection");
      }
    });
  }
}
