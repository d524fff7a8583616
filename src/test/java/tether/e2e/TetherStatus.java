package tether.e2e;

import static org.awaitility.Awaitility.await;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import tether.testing.TetherHarness;

/** Tether's health checks as its admin {@code GET /status} shows them, for the only upstream of an e2e test. */
final class TetherStatus {

  /** Checks every 500ms, timeout 500ms, fall 1 (the e2e config) mark a dead or hung server down well within this. */
  private static final Duration HEALTH_NOTICES = Duration.ofSeconds(3);

  private final TetherHarness tether;

  TetherStatus(TetherHarness tether) {
    this.tether = tether;
  }

  /** Whether Tether's health checks consider the server up. */
  boolean healthy(String server) {
    return server(server).getBoolean("healthy");
  }

  JsonObject server(String server) {
    JsonObject status = new JsonObject(tether.admin("GET", "/status").body());
    for (Object o : status.getJsonArray("upstreams").getJsonObject(0).getJsonArray("servers")) {
      JsonObject s = (JsonObject) o;
      if (s.getString("name").equals(server)) {
        return s;
      }
    }
    throw new IllegalArgumentException("no server " + server + " in /status");
  }

  /**
   * Waits (bounded) until the health checks mark the server up or down, and returns how long after
   * {@code sinceMillis} (wall clock) the check that did it ran: with rise 1 and fall 1, the first check with that
   * outcome, read from /status ({@code last_check_at}, polled every 10ms while checks run every 500ms); a timeout
   * that was not counted (the server answered real requests meanwhile) is not that check.
   */
  Duration awaitHealth(String server, boolean up, long sinceMillis) {
    long[] first = {Long.MAX_VALUE};
    await(server + " marked " + (up ? "up" : "down")).atMost(HEALTH_NOTICES).pollInterval(Duration.ofMillis(10))
        .until(() -> {
          JsonObject s = server(server);
          String at = s.getString("last_check_at");
          String check = s.getString("last_check", "");
          if (at != null && check.startsWith("ok") == up && !check.contains("not counted")) {
            long atMillis = Instant.parse(at).toEpochMilli();
            if (atMillis >= sinceMillis) {
              first[0] = Math.min(first[0], atMillis);
            }
          }
          return s.getBoolean("healthy") == up;
        });
    return Duration.ofMillis(first[0] == Long.MAX_VALUE ? System.currentTimeMillis() - sinceMillis
        : first[0] - sinceMillis);
  }
}
