package tether.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tether.testing.Backends;
import tether.testing.CookieClient;
import tether.testing.PrometheusText;
import tether.testing.ProxyTestBase;
import tether.testing.RawHttp;
import tether.testing.TetherHarness;

/** The operator's metrics (issue 15), read from {@code /metrics} after real traffic, probes, refusals and reloads. */
class OperatorMetricsTest extends ProxyTestBase {

  private static final String WEB1 = "{server=\"web1\",upstream=\"app\"}";

  @TempDir
  Path dir;

  private Map<String, Double> metrics() {
    return PrometheusText.parse(tether.admin("GET", "/metrics").body());
  }

  private Path write(String yaml) {
    Path file = dir.resolve("tether.yaml");
    try {
      Files.writeString(file, yaml);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return file;
  }

  private static String config(String extra, Backends.Backend web1) {
    return "listen: [{address: 127.0.0.1, port: 0}]\nadmin: {address: 127.0.0.1, port: 0}\nworkers: 1\n"
        + "access_log: {enabled: false}\n" + extra + "upstreams:\n  app:\n"
        + "    servers: [{name: web1, address: \"" + web1.address() + "\"}]\n";
  }

  @Test
  void connectTimeCountsNewConnectionsAndTimeToFirstByteEveryResponse() {
    Backends.Backend web1 = backends.start("web1", req -> backends.vertx().setTimer(30, t ->
        req.response().end("web1")));
    tether = TetherHarness.startFromFile(write(config("", web1)));
    for (int i = 0; i < 5; i++) {
      assertThat(tether.get("/").statusCode()).isEqualTo(200);
    }
    Map<String, Double> m = metrics();
    assertThat(m.get("tether_upstream_first_byte_duration_seconds_count" + WEB1)).isEqualTo(5.0);
    // the backend waits 30 ms before its head, so no first byte comes sooner
    assertThat(m.get("tether_upstream_first_byte_duration_seconds_bucket{server=\"web1\",upstream=\"app\","
        + "le=\"0.025\"}")).isEqualTo(0.0);
    // sequential requests ride one pooled connection: one connect, not five
    assertThat(m.get("tether_upstream_connect_duration_seconds_count" + WEB1)).isEqualTo(1.0);
    // both are timed from the attempt's start: the first response came at least 30 ms after its connect
    assertThat(m.get("tether_upstream_first_byte_duration_seconds_sum" + WEB1))
        .isGreaterThanOrEqualTo(m.get("tether_upstream_connect_duration_seconds_sum" + WEB1) + 5 * 0.030);
    assertThat(m).containsKey("tether_upstream_connect_duration_seconds_bucket{server=\"web1\",upstream=\"app\","
        + "le=\"2.5E-4\"}"); // finer buckets than for requests: a LAN connect takes well under a millisecond
  }

  @Test
  void healthChecksAreTimed() {
    Backends.Backend web1 = backends.start("web1");
    tether = TetherHarness.startFromFile(write(config("", web1).replace("    servers:",
        "    health: {path: /health, interval: 100ms, timeout: 100ms, rise: 1, fall: 1}\n    servers:")));
    await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
      Map<String, Double> m = metrics();
      assertThat(m.get("tether_health_check_duration_seconds_count" + WEB1)).isGreaterThanOrEqualTo(2.0);
      assertThat(m.get("tether_health_check_duration_seconds_count" + WEB1)).isEqualTo(
          m.get("tether_health_checks_total{result=\"ok\",server=\"web1\",upstream=\"app\"}")
              + m.get("tether_health_checks_total{result=\"failed\",server=\"web1\",upstream=\"app\"}"));
    });
    assertThat(metrics().get("tether_health_check_duration_seconds_sum" + WEB1)).isGreaterThan(0.0);
  }

  /** The access log's dropped lines are exported from the start (LogSinkTest makes a disk that cannot keep up). */
  @Test
  void accessLogLinesDroppedAreExported() throws Exception {
    Backends.Backend web1 = backends.start("web1");
    tether = TetherHarness.startFromFile(write(config("", web1)));
    assertThat(metrics().get("tether_access_log_dropped_lines_total")).isEqualTo(0.0);
  }

  @Test
  void connectionsOverMaxConnectionsAreCountedAsRefused() throws Exception {
    Backends.Backend web1 = backends.start("web1");
    tether = TetherHarness.startFromFile(write(config("limits: {max_connections: 1}\n", web1)));
    assertThat(metrics().get("tether_client_connections_refused_total")).isEqualTo(0.0);
    try (RawHttp held = new RawHttp(tether.port())) {
      await().atMost(Duration.ofSeconds(15)).until(() -> metrics().get("tether_client_connections") == 1.0);
      try (RawHttp second = new RawHttp(tether.port())) {
        assertThat(second.readUntilCloseOrQuiet(5_000).closed()).isTrue();
      }
      await().atMost(Duration.ofSeconds(15)).until(() ->
          metrics().get("tether_client_connections_refused_total") == 1.0);
      assertThat(metrics().get("tether_client_connections")).isEqualTo(1.0);
    }
  }

  @Test
  void buildInfoAndReloadResultFollowPrometheusConventions() throws Exception {
    Backends.Backend web1 = backends.start("web1");
    Path file = write(config("", web1));
    long before = System.currentTimeMillis();
    tether = TetherHarness.startFromFile(file);
    Map<String, Double> m = metrics();
    assertThat(m).containsEntry("tether_build_info{version=\"" + TetherMetrics.version() + "\"}", 1.0);
    assertThat(m).containsEntry("tether_config_last_reload_successful", 1.0); // the start is a successful load
    double started = m.get("tether_config_last_reload_success_timestamp_seconds");
    assertThat(started * 1000).isBetween(before - 1000.0, System.currentTimeMillis() + 1000.0);
    assertThat(m).containsEntry("tether_config_reloads_total{result=\"failed\"}", 0.0); // there from the start

    Files.writeString(file, "bogus: 1\n" + config("", web1));
    assertThat(tether.admin("POST", "/reload").statusCode()).isEqualTo(400);
    m = metrics();
    assertThat(m).containsEntry("tether_config_last_reload_successful", 0.0);
    assertThat(m).containsEntry("tether_config_last_reload_success_timestamp_seconds", started);
    assertThat(m).containsEntry("tether_config_reloads_total{result=\"failed\"}", 1.0);

    Thread.sleep(20); // a later timestamp (milliseconds)
    Files.writeString(file, config("", web1));
    assertThat(tether.admin("POST", "/reload").statusCode()).isEqualTo(200);
    m = metrics();
    assertThat(m).containsEntry("tether_config_last_reload_successful", 1.0);
    assertThat(m.get("tether_config_last_reload_success_timestamp_seconds")).isGreaterThan(started);
    assertThat(m).containsEntry("tether_config_reloads_total{result=\"ok\"}", 1.0);
  }

  /** The learned-entries gauge read NaN once its source was collected: no gauge of Tether's may do that. */
  @Test
  void noTetherGaugeReadsNaNAfterAGarbageCollection() {
    Backends.Backend web1 = backends.start("web1");
    tether = TetherHarness.startFromFile(write(config("", web1).replace("    servers:",
        "    sticky: {mode: learn, cookie: PHPSESSID}\n    servers:")));
    new CookieClient(tether).get("/");
    System.gc();
    System.gc();
    Map<String, Double> m = metrics();
    assertThat(m.keySet()).filteredOn(k -> k.startsWith("tether_")).hasSizeGreaterThan(40);
    assertThat(m.entrySet()).filteredOn(e -> e.getKey().startsWith("tether_"))
        .allSatisfy(e -> assertThat(e.getValue()).as(e.getKey()).isNotNaN());
  }
}
