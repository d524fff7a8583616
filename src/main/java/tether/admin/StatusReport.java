package tether.admin;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import tether.metrics.PinnedUsers;
import tether.metrics.TetherMetrics;
import tether.proxy.ProxySnapshot;
import tether.upstream.Backend;
import tether.upstream.BackendState;
import tether.upstream.Upstream;

/** {@code GET /status}: every upstream and server as JSON, read from the live snapshot and runtime state. */
final class StatusReport {

  private StatusReport() {}

  static JsonObject of(ProxySnapshot snapshot, PinnedUsers pinned, TetherMetrics metrics) {
    JsonArray upstreams = new JsonArray();
    for (Upstream u : snapshot.upstreams().values()) {
      JsonArray servers = new JsonArray();
      for (Backend b : u.backends()) {
        BackendState s = b.state();
        long requests = s.requests();
        servers.add(new JsonObject()
            .put("name", b.name())
            .put("address", b.config().address())
            .put("resolved", b.resolved().shown()).put("resolve_error", b.resolved().failure())
            .put("state", TetherMetrics.stateOf(s))
            .put("healthy", s.healthy())
            .put("ejected", s.ejected(System.nanoTime()))
            .put("admin", s.adminState().name().toLowerCase())
            .put("weight", b.weight())
            .put("backup", b.config().backup())
            .put("in_flight", s.inFlight())
            .put("connections", metrics.connections(s))
            .put("tunnels", metrics.tunnels(s))
            .put("requests", requests)
            .put("failures", s.failures())
            .put("error_rate", requests == 0 ? 0.0 : Math.round(1000.0 * s.failures() / requests) / 1000.0)
            .put("last_check", s.lastCheck())
            .put("last_check_at", s.lastCheckMillis() == 0 ? null : Instant.ofEpochMilli(s.lastCheckMillis()).toString())
            .put("last_transition", s.lastTransition())
            .put("pinned_users_recent", pinned.recent(s)));
      }
      var sticky = snapshot.sticky().get(u.name());
      upstreams.add(new JsonObject()
          .put("name", u.name())
          .put("balance", u.config().balance().name().toLowerCase())
          .put("sticky", u.config().sticky().mode().name().toLowerCase())
          .put("learned_entries", sticky == null ? 0 : sticky.learnedEntries())
          .put("health_checks", u.config().health() != null)
          .put("servers", servers));
    }
    return new JsonObject()
        .put("config", snapshot.config().source())
        .put("pinned_users_window_seconds", PinnedUsers.WINDOW.toSeconds())
        .put("upstreams", upstreams);
  }
}
