package tether.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import tether.proxy.ProxySnapshot;

/** One upstream's meters, registered when it appears. */
final class UpstreamMeters {
  final Timer duration;
  final Counter received;
  final Counter sent;
  final Counter stickyHits;
  final Counter newPins;
  final Counter[] unserved = new Counter[6];
  final Map<String, Counter> repins = new ConcurrentHashMap<>();
  final Map<String, Counter> retries = new ConcurrentHashMap<>();
  final Map<String, Counter> tunnelsClosed = new ConcurrentHashMap<>();
  final Map<String, ServerMeters> byName = new ConcurrentHashMap<>();

  UpstreamMeters(MeterRegistry registry, String name, Supplier<ProxySnapshot> current) {
    duration = Timer.builder("tether.request.duration").description("Client request duration, first byte in"
        + " to last byte out").tag("upstream", name).serviceLevelObjectives(Buckets.REQUEST).register(registry);
    received = Counter.builder("tether.client.received").baseUnit("bytes")
        .description("Bytes received from clients").tag("upstream", name).register(registry);
    sent = Counter.builder("tether.client.sent").baseUnit("bytes")
        .description("Bytes sent to clients").tag("upstream", name).register(registry);
    stickyHits = Counter.builder("tether.sticky.hits").description("Requests that reached their pinned server")
        .tag("upstream", name).register(registry);
    newPins = Counter.builder("tether.sticky.new").description("Users pinned for the first time")
        .tag("upstream", name).register(registry);
    for (int c = 1; c <= 5; c++) {
      unserved[c] = Buckets.requests(registry, name, "none", c);
    }
    Gauge.builder("tether.sticky.learned.entries", current, s -> {
      var session = s.get().sticky().get(name);
      return session == null ? 0 : session.learnedEntries();
    }).description("Entries in the sticky mode's learned table").tag("upstream", name)
        .strongReference(true) // the supplier is a method reference held by nobody else: weakly held, it was NaN
        .register(registry);
  }
}
