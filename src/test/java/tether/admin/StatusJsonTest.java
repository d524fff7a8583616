package tether.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import tether.testing.Backends;
import tether.testing.CookieClient;
import tether.testing.PrometheusText;
import tether.testing.ProxyTestBase;
import tether.testing.TetherHarness;

/**
 * What {@code /status} tells the status page beyond states: version and uptime, time in state, errors by kind,
 * retries, sticky counters and re-pins by reason, the last check's latency and a drain deadline's countdown.
 */
class StatusJsonTest extends ProxyTestBase {

  private static final String ADMIN = "admin: {address: 127.0.0.1, port: 0}\n";

  private JsonObject status() {
    return new JsonObject(tether.admin("GET", "/status").body());
  }

  private JsonObject app() {
    return status().getJsonArray("upstreams").getJsonObject(0);
  }

  private JsonObject server(String name) {
    JsonArray servers = app().getJsonArray("servers");
    for (int i = 0; i < servers.size(); i++) {
      if (servers.getJsonObject(i).getString("name").equals(name)) {
        return servers.getJsonObject(i);
      }
    }
    throw new AssertionError("no server " + name);
  }

  /** A JSON object of counters as a map of longs, in its order (small numbers come back from JSON as ints). */
  private static Map<String, Long> counts(JsonObject counters) {
    Map<String, Long> out = new LinkedHashMap<>();
    counters.forEach(e -> out.put(e.getKey(), ((Number) e.getValue()).longValue()));
    return out;
  }

  @Test
  void versionAndUptime() throws Exception {
    tether = TetherHarness.start(ADMIN + upstream("", backends.start("web1")));
    JsonObject first = status();
    assertThat(first.getString("version")).isEqualTo("dev"); // no jar manifest when run from classes
    assertThat(first.getString("java")).isEqualTo(Runtime.version().toString());
    Instant started = Instant.parse(first.getString("started_at"));
    Instant now = Instant.parse(first.getString("now"));
    assertThat(started).isBefore(now);
    assertThat(Duration.between(started, now).toMillis()).isCloseTo(first.getLong("uptime_ms"),
        Offset.offset(1000L));
    Thread.sleep(20);
    assertThat(status().getLong("uptime_ms")).isGreaterThan(first.getLong("uptime_ms"));
  }

  @Test
  void errorsByKindRetriesAndStickyCountersFollowTraffic() throws Exception {
    Backends.Backend web1 = backends.start("web1", req -> req.response()
        .setStatusCode(req.path().equals("/boom") ? 500 : 200).putHeader("X-Served-By", "web1").end("web1"));
    Backends.Backend web2 = backends.start("web2", req -> req.response()
        .setStatusCode(req.path().equals("/boom") ? 500 : 200).putHeader("X-Served-By", "web2").end("web2"));
    tether = TetherHarness.start(ADMIN + upstream("    sticky: {mode: cookie, secret: s}\n", web1, web2));
    JsonObject fresh = server("web1");
    assertThat(counts(fresh.getJsonObject("errors"))).containsExactly(Map.entry("connect_failed", 0L),
        Map.entry("timeout", 0L), Map.entry("reset", 0L), Map.entry("broken_response", 0L),
        Map.entry("invalid_response", 0L), Map.entry("status_5xx", 0L));
    assertThat(counts(app().getJsonObject("repins"))).isEmpty();

    CookieClient user = new CookieClient(tether);
    String home = user.get("/").body();
    String other = home.equals("web1") ? "web2" : "web1";
    user.get("/");
    user.get("/boom");
    backends.stop(home); // no health checks: the next request finds out by failing to connect
    assertThat(user.get("/").body()).isEqualTo(other);

    JsonObject app = app();
    assertThat(app.getLong("sticky_new")).isEqualTo(1);
    assertThat(app.getLong("sticky_hits")).isEqualTo(2);
    assertThat(counts(app.getJsonObject("repins"))).isEqualTo(Map.of("connect_failed", 1L));
    // (and maybe reused_connection first: the pooled connection to the stopped server was closed under it)
    assertThat(counts(app.getJsonObject("retries"))).containsEntry("connect_failed", 1L);
    assertThat(counts(server(home).getJsonObject("errors"))).containsEntry("connect_failed", 1L)
        .containsEntry("status_5xx", 1L).containsEntry("timeout", 0L);
    assertThat(counts(server(other).getJsonObject("errors"))).allSatisfy((kind, n) -> assertThat(n).isEqualTo(0L));
    Map<String, Double> metrics = PrometheusText.parse(tether.admin("GET", "/metrics").body());
    assertThat(metrics).containsEntry(
        "tether_upstream_errors_total{kind=\"connect_failed\",server=\"" + home + "\",upstream=\"app\"}", 1.0);
    assertThat(metrics).containsEntry(
        "tether_upstream_errors_total{kind=\"status_5xx\",server=\"" + home + "\",upstream=\"app\"}", 1.0);
  }

  @Test
  void timeInStateLastCheckLatencyAndDrainDeadline() throws Exception {
    Backends.Backend slow = backends.start("slow", req -> backends.vertx().setTimer(80,
        t -> req.response().end("slow")));
    Backends.Backend web2 = backends.start("web2");
    tether = TetherHarness.start(ADMIN + upstream(
        "    health: {path: /health, interval: 1s, timeout: 1s, rise: 1, fall: 1}\n", slow, web2));
    await().atMost(Duration.ofSeconds(15)).until(() -> server("slow").getValue("last_check_ms") != null
        && server("web2").getValue("last_check_ms") != null);
    assertThat(server("slow").getDouble("last_check_ms")).isBetween(80.0, 1000.0);
    assertThat(server("web2").getDouble("last_check_ms")).isLessThan(server("slow").getDouble("last_check_ms"));

    // time in state: since the last transition
    await().atMost(Duration.ofSeconds(15)).until(() -> server("web2").getString("state").equals("up"));
    backends.stop("web2");
    await().atMost(Duration.ofSeconds(15)).until(() -> server("web2").getString("state").equals("down"));
    JsonObject down = server("web2");
    assertThat(down.getLong("state_for_ms")).isLessThan(2000);
    Thread.sleep(300);
    JsonObject later = server("web2");
    assertThat(later.getString("state")).isEqualTo("down");
    assertThat(later.getLong("state_for_ms")).isGreaterThanOrEqualTo(down.getLong("state_for_ms") + 250);
    assertThat(Duration.between(Instant.parse(later.getString("state_since")), Instant.now()).toMillis())
        .isBetween(later.getLong("state_for_ms") - 100, later.getLong("state_for_ms") + 1000);
    assertThat(server("slow").getLong("state_for_ms")).isGreaterThan(later.getLong("state_for_ms"));

    // a drain deadline counts down; none without one, and none once enabled again
    assertThat(server("slow").getValue("drain_deadline_in_ms")).isNull();
    assertThat(tether.admin("POST", "/servers/app/slow/drain?deadline=30s").statusCode()).isEqualTo(200);
    JsonObject draining = server("slow");
    assertThat(draining.getLong("drain_deadline_in_ms")).isBetween(25_000L, 30_000L);
    assertThat(Duration.between(Instant.now(), Instant.parse(draining.getString("drain_deadline_at"))).toSeconds())
        .isBetween(25L, 30L);
    assertThat(draining.getLong("state_for_ms")).isLessThan(1000);
    Thread.sleep(200);
    assertThat(server("slow").getLong("drain_deadline_in_ms")).isLessThan(draining.getLong("drain_deadline_in_ms"));
    tether.admin("POST", "/servers/app/slow/drain");
    assertThat(server("slow").getValue("drain_deadline_in_ms")).isNull();
    tether.admin("POST", "/servers/app/slow/enable");
    assertThat(server("slow").getValue("drain_deadline_at")).isNull();
  }
}
