package tether.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import tether.upstream.Backend;
import tether.upstream.BackendState;

/** One server's meters, registered when it appears; found by its state on the request path. */
final class ServerMeters {
  final Counter[] byStatusClass = new Counter[6];
  final Timer upstreamDuration;
  final Timer connect;
  final Timer firstByte;
  final Timer checkDuration;
  final AtomicInteger connections = new AtomicInteger();
  final AtomicInteger tunnels = new AtomicInteger();
  final Counter checksOk;
  final Counter checksFailed;
  final Counter transitionsUp;
  final Counter transitionsDown;
  final Counter ejections;
  final Map<String, Counter> errors = Collections.synchronizedMap(new LinkedHashMap<>());
  private final Tags tags;
  private final MeterRegistry registry;

  ServerMeters(MeterRegistry registry, Backend b) {
    this.registry = registry;
    Tags tags = Tags.of("upstream", b.upstream(), "server", b.name());
    this.tags = tags;
    TetherMetrics.ERROR_KINDS.forEach(this::error);
    for (int c = 1; c <= 5; c++) {
      byStatusClass[c] = Buckets.requests(registry, b.upstream(), b.name(), c);
    }
    upstreamDuration = Timer.builder("tether.upstream.duration").description("Backend time: connect to last"
        + " response byte").tags(tags).serviceLevelObjectives(Buckets.REQUEST).register(registry);
    connect = Timer.builder("tether.upstream.connect.duration").description("Time to open a new connection to"
        + " the server (reused pooled connections are not counted)").tags(tags)
        .serviceLevelObjectives(Buckets.FAST).register(registry);
    firstByte = Timer.builder("tether.upstream.first.byte.duration").description("Time to first byte: from the"
        + " start of an attempt (connect included) to the server's response head").tags(tags)
        .serviceLevelObjectives(Buckets.REQUEST).register(registry);
    checkDuration = Timer.builder("tether.health.check.duration").description("Active health check duration,"
        + " whatever the result").tags(tags).serviceLevelObjectives(Buckets.FAST).register(registry);
    BackendState state = b.state();
    Gauge.builder("tether.upstream.connections", connections, AtomicInteger::get)
        .description("Open pooled connections to the server").tags(tags).register(registry);
    Gauge.builder("tether.upstream.tunnels", tunnels, AtomicInteger::get)
        .description("Open tunnels (WebSocket connections) to the server").tags(tags).register(registry);
    Gauge.builder("tether.upstream.in.flight", state, BackendState::inFlight)
        .description("Requests in flight to the server").tags(tags).register(registry);
    Gauge.builder("tether.server.up", state, s -> TetherMetrics.stateOf(s).equals("up") || TetherMetrics.stateOf(s).equals("drain") ? 1 : 0)
        .description("1 when the server takes traffic (up or draining), else 0").tags(tags).register(registry);
    for (String st : TetherMetrics.STATES) {
      Gauge.builder("tether.server.state", state, s -> TetherMetrics.stateOf(s).equals(st) ? 1 : 0)
          .description("1 for the server's current state").tags(tags.and("state", st)).register(registry);
    }
    checksOk = Counter.builder("tether.health.checks").description("Active health checks by result")
        .tags(tags.and("result", "ok")).register(registry);
    checksFailed = Counter.builder("tether.health.checks").description("Active health checks by result")
        .tags(tags.and("result", "failed")).register(registry);
    transitionsUp = Counter.builder("tether.health.transitions").description("Server state changes")
        .tags(tags.and("to", "up")).register(registry);
    transitionsDown = Counter.builder("tether.health.transitions").description("Server state changes")
        .tags(tags.and("to", "down")).register(registry);
    ejections = Counter.builder("tether.passive.ejections").description("Ejections by passive health checks")
        .tags(tags).register(registry);
  }

  Counter error(String kind) {
    return errors.computeIfAbsent(kind, k -> Counter.builder("tether.upstream.errors")
        .description("Failed attempts (connect_failed, timeout, reset, broken_response, invalid_response) and 5xx"
            + " answers, by kind")
        .tags(tags.and("kind", k)).register(registry));
  }
}
