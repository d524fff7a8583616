package tether.upstream;

import java.time.Duration;
import java.time.Instant;

/**
 * An upstream's maintenance switch, runtime state like a server's admin state: switched by the admin API, kept across
 * reloads (keyed by upstream name), lost on restart. While on, every request routed to the upstream gets 503 with the
 * error page and {@code Retry-After}, without touching a backend or the user's sticky pin (HAProxy's
 * {@code http-request return status 503 ... if { nbsrv(app) eq 0 }} on a disabled backend; Google's advice for
 * planned downtime: 503 with Retry-After). Switched off, users go back to the servers they are pinned to.
 */
public final class Maintenance {

  /** The switch while on: since when, and what {@code Retry-After} says. */
  public record On(Instant since, long retryAfterSeconds) {}

  public static final Duration DEFAULT_RETRY_AFTER = Duration.ofMinutes(5);

  private volatile On on;

  /** null when off: the request path reads this once. */
  public On on() {
    return on;
  }

  /** @return true when it was off */
  public boolean switchOn(Duration retryAfter) {
    On before = on;
    on = new On(before == null ? Instant.now() : before.since(), Math.max(1, retryAfter.toSeconds()));
    return before == null;
  }

  /** @return true when it was on */
  public boolean switchOff() {
    On before = on;
    on = null;
    return before != null;
  }
}
