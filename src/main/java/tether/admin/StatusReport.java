package tether.admin;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;
import java.lang.management.RuntimeMXBean;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import tether.metrics.PinnedUsers;
import tether.metrics.TetherMetrics;
import tether.proxy.ProxySnapshot;
import tether.upstream.AdminState;
import tether.upstream.Backend;
import tether.upstream.BackendState;
import tether.upstream.Upstream;

/**
 * {@code GET /status}: every upstream and server as JSON, read from the live snapshot and runtime state. Times are
 * UTC instants (the page shows them in the browser's zone); durations are milliseconds, measured here so that a
 * browser with a wrong clock still counts right. Counters only grow: the page turns them into rates.
 */
final class StatusReport {

  /** As {@code tether --version} reads it: the jar's manifest, "dev" when run from classes. */
  private static final String VERSION = version();

  private StatusReport() {}

  static JsonObject of(ProxySnapshot snapshot, PinnedUsers pinned, TetherMetrics metrics) {
    RuntimeMXBean runtime = ManagementFactory.getRuntimeMXBean();
    long nowNanos = System.nanoTime();
    long nowMillis = System.currentTimeMillis();
    JsonArray upstreams = new JsonArray();
    for (Upstream u : snapshot.upstreams().values()) {
      JsonArray servers = new JsonArray();
      for (Backend b : u.backends()) {
        servers.add(server(b, pinned, metrics, nowNanos, nowMillis));
      }
      var sticky = snapshot.sticky().get(u.name());
      TetherMetrics.UpstreamCounts counts = metrics.counts(u.name());
      upstreams.add(new JsonObject()
          .put("name", u.name())
          .put("balance", u.config().balance().name().toLowerCase())
          .put("sticky", u.config().sticky().mode().name().toLowerCase())
          .put("learned_entries", sticky == null ? 0 : sticky.learnedEntries())
          .put("health_checks", u.config().health() != null)
          .put("maintenance", u.maintenance().on() != null)
          .put("sticky_hits", counts.stickyHits())
          .put("sticky_new", counts.stickyNew())
          .put("repins", sorted(counts.repins()))
          .put("retries", sorted(counts.retries()))
          .put("servers", servers));
    }
    return new JsonObject()
        .put("version", VERSION)
        .put("java", Runtime.version().toString())
        .put("started_at", Instant.ofEpochMilli(runtime.getStartTime()).toString())
        .put("uptime_ms", runtime.getUptime())
        .put("now", Instant.ofEpochMilli(nowMillis).toString())
        .put("config", snapshot.config().source())
        .put("pinned_users_window_seconds", PinnedUsers.WINDOW.toSeconds())
        .put("upstreams", upstreams);
  }

  private static JsonObject server(Backend b, PinnedUsers pinned, TetherMetrics metrics, long nowNanos,
                                   long nowMillis) {
    BackendState s = b.state();
    long requests = s.requests();
    long stateForMs = Math.max(0, (nowNanos - s.statusSinceNanos()) / 1_000_000);
    long deadline = s.adminState() == AdminState.DRAIN ? s.drainDeadlineNanos() : 0;
    long deadlineInMs = deadline == 0 ? 0 : Math.max(0, (deadline - nowNanos) / 1_000_000);
    JsonObject errors = new JsonObject();
    metrics.errors(s).forEach(errors::put);
    return new JsonObject()
        .put("name", b.name())
        .put("address", b.config().address())
        .put("resolved", b.resolved().shown()).put("resolve_error", b.resolved().failure())
        .put("state", TetherMetrics.stateOf(s))
        .put("state_since", Instant.ofEpochMilli(nowMillis - stateForMs).toString())
        .put("state_for_ms", stateForMs)
        .put("healthy", s.healthy())
        .put("ejected", s.ejected(nowNanos))
        .put("admin", s.adminState().name().toLowerCase())
        .put("drain_deadline_at", deadline == 0 ? null : Instant.ofEpochMilli(nowMillis + deadlineInMs).toString())
        .put("drain_deadline_in_ms", deadline == 0 ? null : deadlineInMs)
        .put("weight", b.weight())
        .put("backup", b.config().backup())
        .put("in_flight", s.inFlight())
        .put("connections", metrics.connections(s))
        .put("tunnels", metrics.tunnels(s))
        .put("requests", requests)
        .put("failures", s.failures())
        .put("error_rate", requests == 0 ? 0.0 : Math.round(1000.0 * s.failures() / requests) / 1000.0)
        .put("errors", errors)
        .put("last_check", s.lastCheck())
        .put("last_check_at", s.lastCheckMillis() == 0 ? null : Instant.ofEpochMilli(s.lastCheckMillis()).toString())
        .put("last_check_ms", s.lastCheckNanos() < 0 ? null : Math.round(s.lastCheckNanos() / 1e5) / 10.0)
        .put("last_transition", s.lastTransition())
        .put("pinned_users_recent", pinned.recent(s));
  }

  private static JsonObject sorted(Map<String, Long> counts) {
    JsonObject json = new JsonObject();
    new TreeMap<>(counts).forEach(json::put);
    return json;
  }

  private static String version() {
    String v = StatusReport.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }
}
