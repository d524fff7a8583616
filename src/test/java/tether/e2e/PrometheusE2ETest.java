package tether.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tether.testing.Backends;
import tether.testing.CookieClient;
import tether.testing.MonitoringFiles;
import tether.testing.ProxyTestBase;
import tether.testing.TetherHarness;

/**
 * A real Prometheus (Debian's {@code prometheus} package) scrapes a real Tether's {@code /metrics} with the admin
 * token, every second, and evaluates the shipped rules: killing a server makes {@code TetherServerDown} fire, and
 * every query of the shipped dashboard runs. The rules' {@code for:} durations are cut to a second (their timing is
 * what {@code promtool test rules} covers).
 */
class PrometheusE2ETest extends ProxyTestBase {

  private static final String TOKEN = "scrape-s3cret";

  @TempDir
  Path dir;

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private Process prometheus;
  private int port;

  @AfterEach
  void stopPrometheus() throws InterruptedException {
    if (prometheus != null) {
      prometheus.destroy();
      if (!prometheus.waitFor(10, TimeUnit.SECONDS)) {
        prometheus.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    }
  }

  private void startPrometheus(int adminPort) throws Exception {
    Files.writeString(dir.resolve("tether-rules.yml"), Files.readString(MonitoringFiles.RULES)
        .replaceAll("(?m)^(\\s+for:) \\S+$", "$1 1s"));
    Files.writeString(dir.resolve("prometheus.yml"), """
        global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
        rule_files: [tether-rules.yml]
        scrape_configs:
          - job_name: tether
            authorization: {credentials: %s}
            static_configs: [{targets: ["127.0.0.1:%d"]}]
          - job_name: tether-without-token
            static_configs: [{targets: ["127.0.0.1:%2$d"]}]
        """.formatted(TOKEN, adminPort));
    port = Ports.free();
    List<String> command = List.of("prometheus", "--config.file=" + dir.resolve("prometheus.yml"),
        "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + port, "--log.level=warn");
    try {
      prometheus = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(dir.resolve("prometheus.log").toFile()).start();
    } catch (IOException e) {
      Assumptions.abort("prometheus is not installed (Debian: apt-get install prometheus)");
    }
    await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100)).until(() -> {
      try {
        return get("/-/ready").statusCode() == 200;
      } catch (IOException e) {
        return false; // not listening yet
      }
    });
  }

  private HttpResponse<String> get(String path) throws IOException, InterruptedException {
    if (!prometheus.isAlive()) {
      throw new AssertionError("prometheus exited:\n" + Files.readString(dir.resolve("prometheus.log")));
    }
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private JsonObject api(String path) throws IOException, InterruptedException {
    HttpResponse<String> r = get(path);
    JsonObject body = new JsonObject(r.body());
    assertThat(body.getString("status")).as(path + " -> " + r.body()).isEqualTo("success");
    return body;
  }

  private JsonObject query(String promql) throws IOException, InterruptedException {
    return api("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
  }

  private List<JsonObject> alerts(String name) throws IOException, InterruptedException {
    List<JsonObject> found = new ArrayList<>();
    for (Object a : api("/api/v1/alerts").getJsonObject("data").getJsonArray("alerts")) {
      JsonObject alert = (JsonObject) a;
      if (alert.getJsonObject("labels").getString("alertname").equals(name)) {
        found.add(alert);
      }
    }
    return found;
  }

  @Test
  void killingAServerFiresTheServerDownAlertAndTheDashboardQueriesRun() throws Exception {
    Backends.Backend web1 = backends.start("web1");
    Backends.Backend web2 = backends.start("web2");
    tether = TetherHarness.start("admin: {address: 127.0.0.1, port: 0, token: " + TOKEN + "}\n" + upstream(
        "    sticky: {mode: cookie, secret: s}\n"
        + "    health: {path: /health, interval: 250ms, timeout: 250ms, rise: 1, fall: 1}\n", web1, web2));
    startPrometheus(tether.tether().adminPort());

    // scraping with the token works (and without it does not): the target is up, Tether's series are in Prometheus
    await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
      JsonArray targets = api("/api/v1/targets").getJsonObject("data").getJsonArray("activeTargets");
      assertThat(targets).hasSize(2);
      for (Object t : targets) {
        JsonObject target = (JsonObject) t;
        if (target.getString("scrapePool").equals("tether")) {
          assertThat(target.getString("health")).as(target.encode()).isEqualTo("up");
        } else {
          assertThat(target.getString("health")).as(target.encode()).isEqualTo("down");
          assertThat(target.getString("lastError")).contains("401");
        }
      }
    });
    assertThat(query("tether_server_up{job=\"tether\"}").getJsonObject("data").getJsonArray("result")).hasSize(2);

    CookieClient client = new CookieClient(tether);
    String home = client.get("/").body();
    for (int i = 0; i < 5; i++) {
      client.get("/");
    }
    backends.stop(home);
    client.get("/"); // re-pinned to the other server
    String other = home.equals("web1") ? "web2" : "web1";

    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
      List<JsonObject> down = alerts("TetherServerDown");
      assertThat(down).as(down.toString()).anySatisfy(a -> {
        assertThat(a.getString("state")).isEqualTo("firing");
        assertThat(a.getJsonObject("labels").getString("server")).isEqualTo(home);
        assertThat(a.getJsonObject("labels").getString("upstream")).isEqualTo("app");
        assertThat(a.getJsonObject("labels").getString("severity")).isEqualTo("warning");
      });
    });
    assertThat(alerts("TetherServerDown")).noneSatisfy(a ->
        assertThat(a.getJsonObject("labels").getString("server")).isEqualTo(other));
    assertThat(alerts("TetherNoServerAvailable")).as("the other server still serves").isEmpty();
    assertThat(alerts("TetherReloadFailed")).isEmpty();

    // every query of the dashboard is valid PromQL over what Prometheus scraped, and the core panels have data
    for (String expr : MonitoringFiles.dashboardQueries()) {
      String promql = expr.replace("$__rate_interval", "5s").replace("$instance", ".*").replace("$upstream", ".*");
      JsonArray result = query(promql).getJsonObject("data").getJsonArray("result");
      if (promql.contains("tether_requests_total") || promql.contains("tether_server_state")
          || promql.contains("tether_build_info")) {
        assertThat(result).as(promql).isNotEmpty();
      }
    }
  }
}
