package tether.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;

/** Histogram buckets and the request counter shared by the upstream and server meters. */
final class Buckets {

  /** Requests and responses: 1 ms to 30 s. */
  static final Duration[] REQUEST = {Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(10),
      Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
      Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(5),
      Duration.ofSeconds(10), Duration.ofSeconds(30)};
  /** Connects and health checks on a LAN take well under a millisecond: finer at the low end. */
  static final Duration[] FAST = {Duration.ofNanos(100_000), Duration.ofNanos(250_000),
      Duration.ofNanos(500_000), Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5),
      Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100),
      Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2),
      Duration.ofSeconds(5)};

  private Buckets() {}

  static Counter requests(MeterRegistry registry, String upstream, String server, int statusClass) {
    return Counter.builder("tether.requests").description("Requests by upstream, server and status class")
        .tags("upstream", upstream, "server", server, "status", statusClass + "xx").register(registry);
  }
}
