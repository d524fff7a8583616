package tether.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
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
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
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

  private static final Duration[] BUCKETS = {Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(10),
      Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
      Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(5),
      Duration.ofSeconds(10), Duration.ofSeconds(30)};
  public static final String[] STATES = {"up", "down", "ejected", "drain", "disabled"};

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Map<BackendState, ServerMeters> servers = new ConcurrentHashMap<>();
  private final Map<String, UpstreamMeters> upstreams = new ConcurrentHashMap<>();
  private final AtomicInteger clientConnections = new AtomicInteger();
  private final Map<String, Counter> reloads = new ConcurrentHashMap<>();
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
      upstreams.computeIfAbsent(u.name(), name -> new UpstreamMeters(name, current));
      for (Backend b : u.backends()) {
        servers.computeIfAbsent(b.state(), s -> new ServerMeters(b));
      }
      var sticky = snapshot.sticky().get(u.name());
      if (sticky != null && sticky.store() != null) {
        storeMeters.computeIfAbsent(u.name(), name -> registerStore(name, current));
      }
    }
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
    reloads.computeIfAbsent(ok ? "ok" : "failed", r -> Counter.builder("tether.config.reloads")
        .description("Configuration reloads by result").tag("result", r).register(registry)).increment();
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
  public void probed(Backend backend, boolean ok) {
    ServerMeters s = servers.get(backend.state());
    if (s != null) {
      (ok ? s.checksOk : s.checksFailed).increment();
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

  /** The state shown everywhere (metrics, /status, page): admin state first, then health. */
  public static String stateOf(BackendState state) {
    return state.status(System.nanoTime()).label();
  }

  private final class UpstreamMeters {
    final Timer duration;
    final Counter received;
    final Counter sent;
    final Counter stickyHits;
    final Counter newPins;
    final Counter[] unserved = new Counter[6];
    final Map<String, Counter> repins = new ConcurrentHashMap<>();
    final Map<String, Counter> retries = new ConcurrentHashMap<>();
    final Map<String, ServerMeters> byName = new ConcurrentHashMap<>();

    UpstreamMeters(String name, Supplier<ProxySnapshot> current) {
      duration = Timer.builder("tether.request.duration").description("Client request duration, first byte in"
          + " to last byte out").tag("upstream", name).serviceLevelObjectives(BUCKETS).register(registry);
      received = Counter.builder("tether.client.received").baseUnit("bytes")
          .description("Bytes received from clients").tag("upstream", name).register(registry);
      sent = Counter.builder("tether.client.sent").baseUnit("bytes")
          .description("Bytes sent to clients").tag("upstream", name).register(registry);
      stickyHits = Counter.builder("tether.sticky.hits").description("Requests that reached their pinned server")
          .tag("upstream", name).register(registry);
      newPins = Counter.builder("tether.sticky.new").description("Users pinned for the first time")
          .tag("upstream", name).register(registry);
      for (int c = 1; c <= 5; c++) {
        unserved[c] = requests(name, "none", c);
      }
      Gauge.builder("tether.sticky.learned.entries", current, s -> {
        var session = s.get().sticky().get(name);
        return session == null ? 0 : session.learnedEntries();
      }).description("Entries in the sticky mode's learned table").tag("upstream", name)
          .strongReference(true) // the supplier is a method reference held by nobody else: weakly held, it was NaN
          .register(registry);
    }
  }

  private Counter requests(String upstream, String server, int statusClass) {
    return Counter.builder("tether.requests").description("Requests by upstream, server and status class")
        .tags("upstream", upstream, "server", server, "status", statusClass + "xx").register(registry);
  }

  private final class ServerMeters {
    final Counter[] byStatusClass = new Counter[6];
    final Timer upstreamDuration;
    final AtomicInteger connections = new AtomicInteger();
    final Counter checksOk;
    final Counter checksFailed;
    final Counter transitionsUp;
    final Counter transitionsDown;
    final Counter ejections;

    ServerMeters(Backend b) {
      Tags tags = Tags.of("upstream", b.upstream(), "server", b.name());
      for (int c = 1; c <= 5; c++) {
        byStatusClass[c] = requests(b.upstream(), b.name(), c);
      }
      upstreamDuration = Timer.builder("tether.upstream.duration").description("Backend time: connect to last"
          + " response byte").tags(tags).serviceLevelObjectives(BUCKETS).register(registry);
      BackendState state = b.state();
      Gauge.builder("tether.upstream.connections", connections, AtomicInteger::get)
          .description("Open pooled connections to the server").tags(tags).register(registry);
      Gauge.builder("tether.upstream.in.flight", state, BackendState::inFlight)
          .description("Requests in flight to the server").tags(tags).register(registry);
      Gauge.builder("tether.server.up", state, s -> stateOf(s).equals("up") || stateOf(s).equals("drain") ? 1 : 0)
          .description("1 when the server takes traffic (up or draining), else 0").tags(tags).register(registry);
      for (String st : STATES) {
        Gauge.builder("tether.server.state", state, s -> stateOf(s).equals(st) ? 1 : 0)
            .description("1 for the server's current state").tags(tags.and("state", st)).register(registry);
      }
      checksOk = Counter.builder("tether.health.checks").description("Active health checks by result")
          .tags(tags.and("result", "ok")).register(registry);
      checksFailed = Counter.builder("tether.health.checks").tags(tags.and("result", "failed")).register(registry);
      transitionsUp = Counter.builder("tether.health.transitions").description("Server state changes")
          .tags(tags.and("to", "up")).register(registry);
      transitionsDown = Counter.builder("tether.health.transitions").tags(tags.and("to", "down")).register(registry);
      ejections = Counter.builder("tether.passive.ejections").description("Ejections by passive health checks")
          .tags(tags).register(registry);
      upstreams.get(b.upstream()).byName.put(b.name(), this);
    }
  }
}
