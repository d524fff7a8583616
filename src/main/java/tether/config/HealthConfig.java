package tether.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Active health checks (HAProxy's {@code check inter ... rise ... fall}), one probe at a time per server:
 * {@code interval} between probes and {@code timeout} per probe, both more than 0, the timeout at most the interval
 * (HAProxy's {@code timeout check} defaults to {@code inter}; Google Cloud health checks refuse a timeout over the
 * interval); a status in {@code expectStatusMin..expectStatusMax} (min <= max) passes; {@code expectBody} null means
 * any body, {@code host} null the server's address, {@code port} 0 the server's own port. Broken rules are thrown
 * together as {@link InvalidConfig}.
 */
public record HealthConfig(
    String path,
    String method,
    Duration interval,
    Duration timeout,
    int rise,
    int fall,
    int expectStatusMin,
    int expectStatusMax,
    String expectBody,
    String host,
    int port,
    boolean startDown) {

  public HealthConfig {
    List<InvalidConfig.Problem> problems = new ArrayList<>();
    if (interval.isZero() || interval.isNegative()) {
      problems.add(new InvalidConfig.Problem("interval", "must be more than 0"));
    }
    if (timeout.isZero() || timeout.isNegative()) {
      problems.add(new InvalidConfig.Problem("timeout", "must be more than 0"));
    } else if (timeout.compareTo(interval) > 0 && !interval.isZero()) {
      problems.add(new InvalidConfig.Problem("timeout", Units.format(timeout) + " is longer than interval "
          + Units.format(interval) + " (expected: timeout <= interval)"));
    }
    if (expectStatusMin > expectStatusMax) {
      problems.add(new InvalidConfig.Problem("expect_status", expectStatusMin + "-" + expectStatusMax
          + " is an empty range: no status would pass (expected: low-high, like 200-399)"));
    }
    InvalidConfig.throwIfAny(problems);
  }
}
