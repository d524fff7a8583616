package tether.health;

import java.time.Duration;
import tether.upstream.Backend;

/** Observes health: metrics and tests implement it. */
public interface HealthListener {

  default void transition(Backend backend, boolean up, String reason) {}

  default void probed(Backend backend, boolean ok) {}

  default void ejected(Backend backend, Duration duration) {}

  HealthListener NONE = new HealthListener() {};
}
