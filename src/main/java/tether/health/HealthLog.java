package tether.health;

import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tether.upstream.Backend;
import tether.upstream.BackendState;
import tether.upstream.ServerEvents;

/** One log line per server status change (never per request): WARN when a server stops serving, INFO otherwise. */
public final class HealthLog implements ServerEvents {

  private static final Logger LOG = LoggerFactory.getLogger(HealthLog.class);

  @Override
  public void transition(Backend backend, BackendState.Transition t) {
    if (t.from().serving() && !t.to().serving()) {
      LOG.warn("{}/{} {} (was {}): {}", backend.upstream(), backend.name(), t.to().label(), t.from().label(),
          t.reason());
    } else {
      LOG.info("{}/{} {} (was {}): {}", backend.upstream(), backend.name(), t.to().label(), t.from().label(),
          t.reason());
    }
  }

  @Override
  public void ejected(Backend backend, Duration duration) {
    // the transition line says it; a server already down gets its ejection noted in lastTransition
  }
}
