package tether.health;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tether.upstream.Backend;
import tether.upstream.BackendState;
import tether.upstream.ServerEvents;
import tether.upstream.Upstream;

/**
 * One log line per server status change (never per request): WARN when a server stops serving, with how many of
 * its upstream's servers are left, INFO when it serves again; and, once per transition, HAProxy's
 * "backend has no server available!" at ERROR when an upstream has none left, INFO when it has one again.
 */
public final class HealthLog implements ServerEvents {

  private static final Logger LOG = LoggerFactory.getLogger(HealthLog.class);

  private final Supplier<Map<String, Upstream>> upstreams;
  private final Set<String> empty = ConcurrentHashMap.newKeySet();

  /** @param upstreams the live upstreams, to count what is left */
  public HealthLog(Supplier<Map<String, Upstream>> upstreams) {
    this.upstreams = upstreams;
  }

  @Override
  public void transition(Backend backend, BackendState.Transition t) {
    Upstream upstream = upstreams.get().get(backend.upstream());
    int serving = 0;
    int all = 0;
    if (upstream != null) {
      long now = System.nanoTime();
      for (Backend b : upstream.backends()) {
        all++;
        serving += b.state().status(now).serving() ? 1 : 0;
      }
    }
    if (t.from().serving() && !t.to().serving()) {
      LOG.warn("{}/{} {} (was {}): {}; {} of {} servers left in upstream {}", backend.upstream(), backend.name(),
          t.to().label(), t.from().label(), t.reason(), serving, all, backend.upstream());
    } else {
      LOG.info("{}/{} {} (was {}): {}", backend.upstream(), backend.name(), t.to().label(), t.from().label(),
          t.reason());
    }
    if (upstream == null) {
      return;
    }
    if (serving == 0 && empty.add(backend.upstream())) {
      LOG.error("upstream {} has no server available: requests get 503", backend.upstream());
    } else if (serving > 0 && empty.remove(backend.upstream())) {
      LOG.info("upstream {} has a server available again ({} of {})", backend.upstream(), serving, all);
    }
  }
}
