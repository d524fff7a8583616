package tether.config;

import java.util.List;

/**
 * {@code routes[].conn_limit}: nginx's {@code limit_conn zone=... N}, counted per request rather than per
 * connection: at most {@code max} requests of one {@code key} in flight on the route (a WebSocket counts for its
 * whole life); one more is answered 429.
 */
public record ConnLimitConfig(int max, LimitKey key) {

  public ConnLimitConfig {
    if (max < 1) {
      throw new InvalidConfig(List.of(new InvalidConfig.Problem("max", "expected 1 or more, got " + max)));
    }
    if (key == null) {
      throw new InvalidConfig(List.of(new InvalidConfig.Problem("key", "missing")));
    }
  }
}
