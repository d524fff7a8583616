package tether.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import tether.limits.RouteLimits;
import tether.proxy.ExchangeRecord;
import tether.proxy.ProxyListener;
import tether.proxy.ProxySnapshot;
import tether.sticky.StoreStatus;
import tether.upstream.Backend;
import tether.upstream.BackendState;
import tether.upstream.ServerEvents;
import tether.upstream.Upstream;

/**
 * Prometheus metrics (Micrometer), fed as a {@link ProxyListener} and {@link ServerEvents}: nothing in the proxy
 * calls a meter. Meters are registered when a server or upstream appears, and found on the request path through
 * one map lookup, never built per request.
 */
public final class TetherMetrics implements ProxyListener, ServerEvents {

  public static final String[] STATES = {"up", "down", "ejected", "drain", "disabled"};
  /** Kinds of server errors: the proxy's failure reasons, and 5xx answers. Always present, so zeros show. */
  public static final List<String> ERROR_KINDS = List.of("connect_failed", "timeout", "reset", "broken_response",
      "invalid_response", "status_5xx");

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Map<BackendState, ServerMeters> servers = new ConcurrentHashMap<>();
  private final Map<String, UpstreamMeters> upstreams = new ConcurrentHashMap<>();
  /** {@code route + " " + limit} -> its counter: routes' labels are written in the config, so few. */
  private final Map<String, Counter> limited = new ConcurrentHashMap<>();
  private final AtomicInteger clientConnections = new AtomicInteger();
  private final Counter refused;
  private final Counter reloadsOk;
  private final Counter reloadsFailed;
  // Prometheus's own names and semantics: the start counts as a successful load
  private final AtomicInteger lastReloadSuccessful = new AtomicInteger(1);
  private final AtomicLong lastReloadSuccessMillis = new AtomicLong(System.currentTimeMillis());
  /** The snapshot supplier each upstream's store meters read: held here, as meters hold it weakly. */
  private final Map<String, Supplier<ProxySnapshot>> storeMeters = new ConcurrentHashMap<>();

  public TetherMetrics() {
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
    Gauge.builder("tether.client.connections", clientConnections, AtomicInteger::get)
        .description("Open client connections").register(registry);
    refused = Counter.builder("tether.client.connections.refused")
        .description("Client connections closed at once because max_connections were open").register(registry);
    Gauge.builder("tether.build.info", () -> 1).description("Always 1; the version is in the label")
        .tag("version", version()).strongReference(true).register(registry);
    reloadsOk = reloads("ok");
    reloadsFailed = reloads("failed");
    Gauge.builder("tether.config.last.reload.successful", lastReloadSuccessful, AtomicInteger::get)
        .description("1 when the last configuration reload (or the start) succeeded, 0 when it failed")
        .register(registry);
    Gauge.builder("tether.config.last.reload.success.timestamp.seconds", lastReloadSuccessMillis, m -> m.get() / 1e3)
        .description("Unix time of the last successful configuration load (the start or a reload)")
        .register(registry);
  }

  /**
   * {@code tether_access_log_dropped_lines_total}: access-log lines dropped because the disk could not keep up.
   *
   * @param dropped the running total (it never decreases, across reloads)
   */
  public void accessLogDropped(java.util.function.LongSupplier dropped) {
    FunctionCounter.builder("tether.access.log.dropped.lines", dropped, java.util.function.LongSupplier::getAsLong)
        .description("Access-log lines dropped because the disk could not keep up (an event loop never waits for it)")
        .register(registry);
  }

  private Counter reloads(String result) {
    return Counter.builder("tether.config.reloads").description("Configuration reloads by result")
        .tag("result", result).register(registry);
  }

  /** The jar's version ({@code Implementation-Version} of its manifest), "dev" when run from classes. */
  static String version() {
    String v = TetherMetrics.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  public MeterRegistry registry() {
    return registry;
  }

  public String scrape() {
    return registry.scrape();
  }

  /** Registers meters for every upstream and server of a new snapshot (idempotent). */
  public void register(ProxySnapshot snapshot, Supplier<ProxySnapshot> current) {
    for (Upstream u : snapshot.upstreams().values()) {
      upstreams.computeIfAbsent(u.name(), name -> new UpstreamMeters(registry, name, current));
      for (Backend b : u.backends()) {
        servers.computeIfAbsent(b.state(), s -> {
          ServerMeters m = new ServerMeters(registry, b);
          upstreams.get(b.upstream()).byName.put(b.name(), m);
          return m;
        });
      }
      var sticky = snapshot.sticky().get(u.name());
      if (sticky != null && sticky.store() != null) {
        storeMeters.computeIfAbsent(u.name(), name -> registerStore(name, current));
      }
    }
    for (var route : snapshot.config().routes()) { // so a route's zeros show before its first refusal
      if (route.rateLimit() != null) {
        limitedCounter(route.label(), RouteLimits.RATE);
      }
      if (route.connLimit() != null) {
        limitedCounter(route.label(), RouteLimits.CONN);
      }
    }
  }

  private Counter limitedCounter(String route, String limit) {
    return limited.computeIfAbsent(route + " " + limit, k -> Counter.builder("tether.limited.requests")
        .description("Requests a route's rate_limit or conn_limit answered 429, by route (host + path) and limit")
        .tags("route", route, "limit", limit).register(registry));
  }

  @Override
  public void limited(String route, String limit) {
    Counter c = limited.get(route + " " + limit);
    (c != null ? c : limitedCounter(route, limit)).increment();
  }

  /** The sticky store's meters, read through the live snapshot (a reload may replace the store's client). */
  private Supplier<ProxySnapshot> registerStore(String upstream, Supplier<ProxySnapshot> current) {
    Gauge.builder("tether.sticky.store.up", current, s -> {
      StoreStatus st = store(s, upstream);
      return st == null ? Double.NaN : st.up() ? 1 : 0;
    }).description("1 when the sticky store shared by Tether instances is reachable, 0 while the table is local"
        + " only").tag("upstream", upstream).register(registry);
    for (StoreStatus.Op op : StoreStatus.Op.values()) {
      for (String kind : new String[] {StoreStatus.ERROR, StoreStatus.TIMEOUT, StoreStatus.DROPPED}) {
        FunctionCounter.builder("tether.sticky.store.errors", current, s -> {
          StoreStatus st = store(s, upstream);
          return st == null ? 0 : st.errors(op, kind);
        }).description("Sticky store operations that failed, timed out or were dropped (the request went on with"
            + " the local table)").tags("upstream", upstream, "op", op.name().toLowerCase(), "kind", kind)
            .register(registry);
      }
    }
    return current;
  }

  private static StoreStatus store(Supplier<ProxySnapshot> current, String upstream) {
    ProxySnapshot s = current.get();
    var sticky = s == null ? null : s.sticky().get(upstream);
    return sticky == null ? null : sticky.store();
  }

  public void reloaded(boolean ok) {
    (ok ? reloadsOk : reloadsFailed).increment();
    if (ok) {
      lastReloadSuccessMillis.set(System.currentTimeMillis());
    }
    lastReloadSuccessful.set(ok ? 1 : 0);
  }

  @Override
  public void exchangeEnded(ExchangeRecord r) {
    UpstreamMeters u = r.upstream() == null ? null : upstreams.get(r.upstream());
    if (u == null) {
      return;
    }
    u.duration.record(r.totalNanos(), TimeUnit.NANOSECONDS);
    u.received.increment(r.bytesReceived());
    u.sent.increment(r.bytesSent());
    ServerMeters s = r.server() == null ? null : u.byName.get(r.server());
    if (s == null) {
      u.unserved[Math.min(5, Math.max(1, r.status() / 100))].increment();
      return;
    }
    s.byStatusClass[Math.min(5, Math.max(1, r.status() / 100))].increment();
    if (r.upstreamNanos() >= 0) {
      s.upstreamDuration.record(r.upstreamNanos(), TimeUnit.NANOSECONDS);
    }
  }

  @Override
  public void stickyHit(Backend backend, String userKey) {
    UpstreamMeters u = upstreams.get(backend.upstream());
    if (u != null) {
      u.stickyHits.increment();
    }
  }

  @Override
  public void newPin(String upstream) {
    UpstreamMeters u = upstreams.get(upstream);
    if (u != null) {
      u.newPins.increment();
    }
  }

  @Override
  public void repinned(String upstream, String reason) {
    UpstreamMeters u = upstreams.get(upstream);
    if (u != null) {
      u.repins.computeIfAbsent(reason, r -> Counter.builder("tether.sticky.repins")
          .description("Pinned users moved to another server, by reason")
          .tags("upstream", upstream, "reason", r).register(registry)).increment();
    }
  }

  @Override
  public void retried(Backend failed, String reason) {
    UpstreamMeters u = upstreams.get(failed.upstream());
    if (u != null) {
      u.retries.computeIfAbsent(reason, r -> Counter.builder("tether.retries")
          .description("Requests sent to another server after a failed attempt, by reason")
          .tags("upstream", failed.upstream(), "reason", r).register(registry)).increment();
    }
  }

  @Override
  public void backendFailed(Backend backend, String reason) {
    ServerMeters s = servers.get(backend.state());
    if (s != null) {
      s.error(reason).increment();
    }
  }

  @Override
  public void connected(Backend backend, long connectNanos) {
    ServerMeters s = servers.get(backend.state());
    if (s != null) {
      s.connect.record(connectNanos, TimeUnit.NANOSECONDS);
    }
  }

  @Override
  public void backendResponded(Backend backend, int status) {
    ServerMeters s = servers.get(backend.state());
    if (s != null && status >= 500) {
      s.error("status_5xx").increment();
    }
  }

  @Override
  public void firstByte(Backend backend, long nanos) {
    ServerMeters s = servers.get(backend.state());
    if (s != null) {
      s.firstByte.record(nanos, TimeUnit.NANOSECONDS);
    }
  }

  @Override
  public void clientRefused() {
    refused.increment();
  }

  @Override
  public void clientConnections(int delta) {
    clientConnections.addAndGet(delta);
  }

  @Override
  public void upstreamConnections(Backend backend, int delta) {
    ServerMeters s = servers.get(backend.state());
    if (s != null) {
      s.connections.addAndGet(delta);
    }
  }

  @Override
  public void probed(Backend backend, boolean ok, long nanos) {
    ServerMeters s = servers.get(backend.state());
    if (s != null) {
      (ok ? s.checksOk : s.checksFailed).increment();
      s.checkDuration.record(nanos, TimeUnit.NANOSECONDS);
    }
  }

  @Override
  public void transition(Backend backend, BackendState.Transition t) {
    ServerMeters s = servers.get(backend.state());
    if (s != null && t.from().serving() != t.to().serving()) {
      (t.to().serving() ? s.transitionsUp : s.transitionsDown).increment();
    }
  }

  @Override
  public void ejected(Backend backend, Duration duration) {
    ServerMeters s = servers.get(backend.state());
    if (s != null) {
      s.ejections.increment();
    }
  }

  @Override
  public void tunnelOpened(Backend backend) {
    ServerMeters s = servers.get(backend.state());
    if (s != null) {
      s.tunnels.incrementAndGet();
    }
  }

  /** A tunnel's bytes count with the client bytes of its upstream, as its handshake's did. */
  @Override
  public void tunnelClosed(Backend backend, long fromClientBytes, long toClientBytes, long nanos, String reason) {
    ServerMeters s = servers.get(backend.state());
    if (s != null) {
      s.tunnels.decrementAndGet();
    }
    UpstreamMeters u = upstreams.get(backend.upstream());
    if (u != null) {
      u.received.increment(fromClientBytes);
      u.sent.increment(toClientBytes);
      u.tunnelsClosed.computeIfAbsent(reason, r -> Counter.builder("tether.tunnels.closed")
          .description("Tunnels (WebSocket) closed, by reason: client_closed, backend_closed, idle")
          .tags("upstream", backend.upstream(), "reason", r).register(registry)).increment();
    }
  }

  /** Open tunnels (WebSocket) to the server with this state (0 if unknown). */
  public int tunnels(BackendState state) {
    ServerMeters s = servers.get(state);
    return s == null ? 0 : s.tunnels.get();
  }

  /** Removes every meter of a server a reload removed (call once its last request ended). */
  public void remove(String upstream, String server, BackendState state) {
    servers.remove(state);
    UpstreamMeters u = upstreams.get(upstream);
    if (u != null) {
      u.byName.remove(server);
    }
    for (var meter : registry.getMeters()) {
      if (upstream.equals(meter.getId().getTag("upstream")) && server.equals(meter.getId().getTag("server"))) {
        registry.remove(meter);
      }
    }
  }

  /** Open pooled connections to the server with this state (0 if unknown). */
  public int connections(BackendState state) {
    ServerMeters s = servers.get(state);
    return s == null ? 0 : s.connections.get();
  }

  /** What the status page shows of an upstream's stickiness and retries. */
  public record UpstreamCounts(long stickyHits, long stickyNew, Map<String, Long> repins, Map<String, Long> retries) {}

  /** Zeros for an upstream not registered (yet). */
  public UpstreamCounts counts(String upstream) {
    UpstreamMeters u = upstreams.get(upstream);
    if (u == null) {
      return new UpstreamCounts(0, 0, Map.of(), Map.of());
    }
    return new UpstreamCounts((long) u.stickyHits.count(), (long) u.newPins.count(), counts(u.repins),
        counts(u.retries));
  }

  /** The server's errors by kind ({@link #ERROR_KINDS} first, then any other), empty if unknown. */
  public Map<String, Long> errors(BackendState state) {
    ServerMeters s = servers.get(state);
    return s == null ? Map.of() : counts(s.errors);
  }

  private static Map<String, Long> counts(Map<String, Counter> counters) {
    Map<String, Long> out = new LinkedHashMap<>();
    counters.forEach((reason, c) -> out.put(reason, (long) c.count()));
    return out;
  }

  /** The state shown everywhere (metrics, /status, page): admin state first, then health. */
  public static String stateOf(BackendState state) {
    return state.status(System.nanoTime()).label();
  }

}
