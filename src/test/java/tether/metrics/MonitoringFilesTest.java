package tether.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import tether.testing.Backends;
import tether.testing.CookieClient;
import tether.testing.MonitoringFiles;
import tether.testing.PrometheusText;
import tether.testing.ProxyTestBase;
import tether.testing.TetherHarness;

/**
 * The shipped Prometheus rules and Grafana dashboard: promtool checks and unit-tests the rules, every metric they and
 * the dashboard query is one Tether exports, and the dashboard is well formed. (A real Prometheus evaluating them
 * against a real Tether: {@code tether.e2e.PrometheusE2ETest}.)
 */
class MonitoringFilesTest extends ProxyTestBase {

  private static final Pattern METRIC = Pattern.compile("\\b((?:tether|jvm|process)_[a-z_]+)\\b");
  private static final Set<String> PANEL_TYPES = Set.of("row", "stat", "timeseries", "state-timeline");

  private static String promtool(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("promtool"));
    command.addAll(List.of(args));
    Process p;
    try {
      p = new ProcessBuilder(command).redirectErrorStream(true).start();
    } catch (IOException e) {
      Assumptions.abort("promtool is not installed (Debian: apt-get install prometheus)");
      return null;
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(String.join(" ", command) + ":\n" + out).isZero();
    return out;
  }

  @Test
  void promtoolChecksTheRulesAndRunsTheirUnitTests() throws Exception {
    assertThat(promtool("check", "rules", MonitoringFiles.RULES.toString())).contains("SUCCESS: 6 rules found");
    assertThat(promtool("test", "rules", MonitoringFiles.RULE_TESTS.toString())).contains("SUCCESS");
  }

  @Test
  void everyMetricTheDashboardAndTheRulesQueryIsExported() throws Exception {
    Backends.Backend web1 = backends.start("web1");
    Backends.Backend web2 = backends.start("web2");
    tether = TetherHarness.start("admin: {address: 127.0.0.1, port: 0}\n"
        + upstream("    sticky: {mode: cookie, secret: s}\n", web1, web2));
    CookieClient client = new CookieClient(tether);
    String home = client.get("/").body();
    backends.stop(home);
    client.get("/"); // a connect failure: a retry and a re-pin, whose counters exist from their first use
    await().atMost(Duration.ofSeconds(5)).until(() -> tether.admin("GET", "/metrics").body()
        .contains("tether_retries_total{"));
    Set<String> exported = new HashSet<>();
    PrometheusText.parse(tether.admin("GET", "/metrics").body()).keySet()
        .forEach(k -> exported.add(k.replaceAll("\\{.*", "")));

    Set<String> missing = new TreeSet<>();
    List<String> queries = new ArrayList<>(MonitoringFiles.dashboardQueries());
    queries.addAll(MonitoringFiles.ruleQueries());
    Set<String> used = new TreeSet<>();
    for (String q : queries) {
      Matcher m = METRIC.matcher(q);
      while (m.find()) {
        used.add(m.group(1));
        if (!exported.contains(m.group(1))) {
          missing.add(m.group(1));
        }
      }
    }
    assertThat(missing).as("queried but not exported").isEmpty();
    assertThat(used).as("the new metrics are on the dashboard").contains("tether_build_info",
        "tether_config_last_reload_successful", "tether_config_last_reload_success_timestamp_seconds",
        "tether_upstream_connect_duration_seconds_bucket", "tether_upstream_first_byte_duration_seconds_bucket",
        "tether_client_connections_refused_total", "tether_health_check_duration_seconds_bucket");
  }

  @Test
  void theDashboardIsWellFormed() throws Exception {
    JsonObject dash = MonitoringFiles.dashboard();
    assertThat(dash.getString("uid")).isEqualTo("tether");
    Set<String> variables = new HashSet<>();
    dash.getJsonObject("templating").getJsonArray("list")
        .forEach(v -> variables.add(((JsonObject) v).getString("name")));
    assertThat(variables).containsExactlyInAnyOrder("datasource", "instance", "upstream");
    Set<Integer> ids = new HashSet<>();
    boolean[][] grid = new boolean[400][24];
    for (Object o : dash.getJsonArray("panels")) {
      JsonObject p = (JsonObject) o;
      String title = p.getString("title");
      assertThat(ids.add(p.getInteger("id"))).as("unique id: " + title).isTrue();
      assertThat(PANEL_TYPES).as(title).contains(p.getString("type"));
      JsonObject pos = p.getJsonObject("gridPos");
      int x = pos.getInteger("x");
      int y = pos.getInteger("y");
      assertThat(x + pos.getInteger("w")).as("inside 24 columns: " + title).isLessThanOrEqualTo(24);
      for (int r = y; r < y + pos.getInteger("h"); r++) {
        for (int c = x; c < x + pos.getInteger("w"); c++) {
          assertThat(grid[r][c]).as("overlaps another panel: " + title).isFalse();
          grid[r][c] = true;
        }
      }
      if (p.getString("type").equals("row")) {
        continue;
      }
      assertThat(p.getJsonObject("datasource").getString("uid")).as(title).isEqualTo("${datasource}");
      JsonArray targets = p.getJsonArray("targets");
      assertThat(targets).as("queries of " + title).isNotEmpty();
      Set<String> refIds = new HashSet<>();
      for (Object t : targets) {
        JsonObject target = (JsonObject) t;
        assertThat(refIds.add(target.getString("refId"))).as(title).isTrue();
        Matcher vars = Pattern.compile("\\$(?!__)(\\w+)").matcher(target.getString("expr"));
        while (vars.find()) {
          assertThat(vars.group(1)).as(title).isIn(variables.toArray()).isNotEqualTo("datasource");
        }
      }
    }
  }
}
