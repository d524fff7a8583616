package tether.health;

import io.vertx.core.Vertx;
import java.time.Duration;
import tether.upstream.Backend;
import tether.upstream.ServerEvents;

/** Tells a server when its passive ejection is over, so that the change of status is announced when it happens. */
public final class EjectionTimer implements ServerEvents {

  private final Vertx vertx;

  public EjectionTimer(Vertx vertx) {
    this.vertx = vertx;
  }

  @Override
  public void ejected(Backend backend, Duration duration) {
    vertx.setTimer(Math.max(1, duration.toMillis()), t -> backend.ejectionOver());
  }
}
