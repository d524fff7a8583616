package tether.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tether.testing.Backends;
import tether.testing.ProxyTestBase;
import tether.testing.CookieClient;
import tether.testing.PrometheusText;
import tether.testing.RawHttp;
import tether.testing.TetherHarness;

/** Metrics, /status, the admin API, live reload and graceful shutdown, on real sockets. */
class OperationsTest extends ProxyTestBase {

  @TempDir
  Path dir;


  private Path write(String yaml) throws IOException {
    Path file = dir.resolve("tether.yaml");
    Files.writeString(file, yaml);
    return file;
  }

  private static String config(String extra, Backends.Backend... servers) {
    StringBuilder y = new StringBuilder("""
        listen: [{address: 127.0.0.1, port: 0}]
        admin: {address: 127.0.0.1, port: 0}
        workers: 1
        access_log: {enabled: false}
        upstreams:
          app:
            sticky: {mode: cookie, secret: s}
            servers:
        """);
    for (Backends.Backend b : servers) {
      y.append("      - {name: ").append(b.name()).append(", address: \"").append(b.address()).append("\"}\n");
    }
    return y.append(extra).toString();
  }

  private Map<String, Double> metrics() {
    HttpResponse<String> r = tether.admin("GET", "/metrics");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type").orElseThrow()).startsWith("text/plain");
    return PrometheusText.parse(r.body());
  }

  private JsonObject server(String name) {
    JsonObject status = new JsonObject(tether.admin("GET", "/status").body());
    JsonArray servers = status.getJsonArray("upstreams").getJsonObject(0).getJsonArray("servers");
    for (int i = 0; i < servers.size(); i++) {
      if (servers.getJsonObject(i).getString("name").equals(name)) {
        return servers.getJsonObject(i);
      }
    }
    throw new AssertionError("no server " + name);
  }

  @Test
  void countersMoveWithTraffic() throws Exception {
    Backends.Backend web1 = backends.start("web1");
    Backends.Backend web2 = backends.start("web2");
    tether = TetherHarness.startFromFile(write(config("", web1, web2)));
    CookieClient client = new CookieClient(tether);
    String home = client.get("/").body();
    for (int i = 0; i < 4; i++) {
      client.get("/");
    }
    backends.stop(home);
    client.get("/");
    String moved = home.equals("web1") ? "web2" : "web1";
    Map<String, Double> m = metrics();
    await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
      Map<String, Double> now = metrics();
      assertThat(now.get("tether_requests_total{server=\"" + home + "\",status=\"2xx\",upstream=\"app\"}"))
          .isEqualTo(5.0);
      assertThat(now.get("tether_requests_total{server=\"" + moved + "\",status=\"2xx\",upstream=\"app\"}"))
          .isEqualTo(1.0);
    });
    assertThat(m.get("tether_sticky_hits_total{upstream=\"app\"}")).isEqualTo(4.0);
    assertThat(m.get("tether_sticky_new_total{upstream=\"app\"}")).isEqualTo(1.0);
    assertThat(m.get("tether_sticky_repins_total{reason=\"connect_failed\",upstream=\"app\"}")).isEqualTo(1.0);
    assertThat(m.get("tether_retries_total{reason=\"connect_failed\",upstream=\"app\"}")).isEqualTo(1.0);
    assertThat(m.get("tether_request_duration_seconds_count{upstream=\"app\"}")).isGreaterThanOrEqualTo(5.0);
    assertThat(m.get("tether_client_sent_bytes_total{upstream=\"app\"}")).isGreaterThan(0.0);
    assertThat(m.get("tether_server_state{server=\"" + moved + "\",state=\"up\",upstream=\"app\"}")).isEqualTo(1.0);
    assertThat(m).containsKey("jvm_memory_used_bytes{area=\"heap\",id=\"G1 Eden Space\"}");
    assertThat(m.keySet()).anyMatch(k -> k.startsWith("process_cpu_usage"));
  }

  @Test
  void statusFollowsKillsAndRevivalsAndAdminStatesSurviveReload() throws Exception {
    Backends.Backend web1 = backends.start("web1");
    Backends.Backend web2 = backends.start("web2");
    String health = "    health: {path: /health, interval: 1s, timeout: 1s, rise: 1, fall: 1}\n";
    Path file = write(config(health, web1, web2));
    tether = TetherHarness.startFromFile(file);
    await().atMost(Duration.ofSeconds(15)).until(() -> server("web2").getString("last_check").startsWith("ok"));
    assertThat(server("web2").getString("state")).isEqualTo("up");
    assertThat(server("web2").getString("address")).isEqualTo(web2.address());
    int port = web2.port();
    backends.stop("web2");
    await().atMost(Duration.ofSeconds(15)).until(() -> server("web2").getString("state").equals("down"));
    assertThat(server("web2").getString("last_transition")).startsWith("down: 1 consecutive failures, last:");
    backends.vertx().createHttpServer().requestHandler(r -> r.response().end("web2")).listen(port, "127.0.0.1")
        .await();
    await().atMost(Duration.ofSeconds(15)).until(() -> server("web2").getString("state").equals("up"));

    assertThat(tether.admin("POST", "/servers/app/web1/drain").statusCode()).isEqualTo(200);
    assertThat(server("web1").getString("state")).isEqualTo("drain");
    assertThat(tether.admin("POST", "/reload").statusCode()).isEqualTo(200);
    assertThat(server("web1").getString("state")).as("admin state kept across reload").isEqualTo("drain");
    assertThat(tether.admin("POST", "/servers/app/nope/drain").statusCode()).isEqualTo(404);
    assertThat(tether.admin("POST", "/servers/app/web1/explode").statusCode()).isEqualTo(400);
  }

  @Test
  void aBadReloadKeepsServingAndReportsEveryError() throws Exception {
    Backends.Backend web1 = backends.start("web1");
    Path file = write(config("", web1));
    tether = TetherHarness.startFromFile(file);
    Files.writeString(file, "bogus: 1\n" + config("    balance: fastest\n", web1));
    HttpResponse<String> r = tether.admin("POST", "/reload");
    assertThat(r.statusCode()).isEqualTo(400);
    JsonObject body = new JsonObject(r.body());
    assertThat(body.getBoolean("reloaded")).isFalse();
    assertThat(body.getJsonArray("errors").getList()).hasSize(2).allSatisfy(e ->
        assertThat((String) e).startsWith(file + ":"));
    assertThat(tether.get("/").body()).isEqualTo("web1");
    assertThat(metrics().get("tether_config_reloads_total{result=\"failed\"}")).isEqualTo(1.0);
  }

  @Test
  void reloadThatRemovesAServerUnderLoadDropsNoRequest() throws Exception {
    Backends.Backend web1 = backends.start("web1",
        req -> backends.vertx().setTimer(20, t -> req.response().end("web1")));
    Backends.Backend web2 = backends.start("web2",
        req -> backends.vertx().setTimer(20, t -> req.response().end("web2")));
    Path file = write(config("", web1, web2));
    tether = TetherHarness.startFromFile(file);
    AtomicBoolean reloaded = new AtomicBoolean();
    AtomicInteger failures = new AtomicInteger();
    AtomicInteger web2AfterReload = new AtomicInteger();
    List<CompletableFuture<Void>> loops = new ArrayList<>();
    for (int c = 0; c < 6; c++) {
      loops.add(CompletableFuture.runAsync(() -> {
        for (int i = 0; i < 60; i++) {
          boolean after = reloaded.get();
          HttpResponse<String> r = tether.get("/");
          if (r.statusCode() != 200) {
            failures.incrementAndGet();
          } else if (after && r.body().equals("web2")) {
            web2AfterReload.incrementAndGet();
          }
        }
      }));
    }
    Thread.sleep(300); // let the load run before the reload (not a wait for a result)
    Files.writeString(file, config("", web1));
    assertThat(tether.admin("POST", "/reload").statusCode()).isEqualTo(200);
    reloaded.set(true);
    loops.forEach(CompletableFuture::join);
    assertThat(failures).hasValue(0);
    assertThat(web2AfterReload).hasValue(0);
  }

  @Test
  void reloadRebindsAListenerThatChangesPort() throws Exception {
    Backends.Backend web1 = backends.start("web1");
    Path file = write(config("", web1));
    tether = TetherHarness.startFromFile(file);
    int before = tether.port();
    int free;
    try (var s = new java.net.ServerSocket(0)) {
      free = s.getLocalPort();
    }
    Files.writeString(file, config("", web1).replaceFirst("port: 0}\\]", "port: " + free + "}]"));
    assertThat(tether.admin("POST", "/reload").statusCode()).isEqualTo(200);
    assertThat(tether.port()).isEqualTo(free);
    assertThat(tether.get("/").body()).isEqualTo("web1");
    assertThat(before).isNotEqualTo(free);
  }

  @Test
  void shutdownLetsInFlightRequestsFinish() throws Exception {
    Backends.Backend slow = backends.start("slow",
        req -> backends.vertx().setTimer(1500, t -> req.response().end("finished")));
    tether = TetherHarness.startFromFile(write(config("", slow)));
    CompletableFuture<HttpResponse<String>> inFlight = tether.http().sendAsync(
        HttpRequest.newBuilder(URI.create(tether.url("/"))).build(), HttpResponse.BodyHandlers.ofString());
    await().atMost(Duration.ofSeconds(15)).until(() -> slow.served().get() == 1);
    tether.tether().shutdown().await();
    HttpResponse<String> r = inFlight.get();
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("finished");
    tether = null;
  }

  @Test
  void theAccessLogWritesJsonLinesToAFile() throws Exception {
    Backends.Backend web1 = backends.start("web1");
    Path log = dir.resolve("access.log");
    tether = TetherHarness.start("access_log: {format: json, path: " + log + "}\nupstreams:\n  app:\n"
        + "    sticky: {mode: cookie, secret: s}\n    servers: [{name: web1, address: \"" + web1.address() + "\"}]\n");
    tether.get("/hello?x=1", "User-Agent", "probe/1");
    await().atMost(Duration.ofSeconds(15)).until(() -> Files.exists(log) && !Files.readString(log).isBlank());
    JsonObject line = new JsonObject(Files.readAllLines(log).get(0));
    assertThat(line.getString("method")).isEqualTo("GET");
    assertThat(line.getString("uri")).isEqualTo("/hello?x=1");
    assertThat(line.getInteger("status")).isEqualTo(200);
    assertThat(line.getString("server")).isEqualTo("web1");
    assertThat(line.getString("sticky")).isEqualTo("new");
    assertThat(line.getString("user_agent")).isEqualTo("probe/1");
    assertThat(line.getDouble("upstream_time")).isNotNull();
  }

  @Test
  void aTokenProtectsTheAdminApi() throws Exception {
    Backends.Backend web1 = backends.start("web1");
    tether = TetherHarness.startFromFile(write(config("", web1)
        .replace("admin: {address: 127.0.0.1, port: 0}", "admin: {address: 127.0.0.1, port: 0, token: s3cret}")));
    assertThat(tether.admin("GET", "/status").statusCode()).isEqualTo(401);
    assertThat(tether.admin("GET", "/metrics", "Authorization", "Bearer wrong").statusCode()).isEqualTo(401);
    assertThat(tether.admin("POST", "/servers/app/web1/disable").statusCode()).isEqualTo(401);
    assertThat(tether.admin("GET", "/status", "Authorization", "Bearer s3cret").statusCode()).isEqualTo(200);
    assertThat(tether.admin("GET", "/").statusCode()).isEqualTo(200); // the page itself holds no data
  }

  private String rawGet(String path, String host) throws IOException {
    try (RawHttp raw = new RawHttp(tether.tether().adminPort())) {
      return raw.send("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
          .readUntilCloseOrQuiet(10_000).text();
    }
  }

  @Test
  void healthzNeedsNoTokenSaysNothingAndTurns503WhileShuttingDown() throws Exception {
    Backends.Backend slow = backends.start("slow",
        req -> backends.vertx().setTimer(1500, t -> req.response().end("finished")));
    tether = TetherHarness.startFromFile(write(config("", slow)
        .replace("admin: {address: 127.0.0.1, port: 0}", "admin: {address: 127.0.0.1, port: 0, token: s3cret}")));
    HttpResponse<String> ok = tether.admin("GET", "/healthz");
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(ok.body()).isEqualTo("ok\n");
    assertThat(ok.headers().firstValue("cache-control")).hasValue("no-store");
    assertThat(tether.admin("HEAD", "/healthz").statusCode()).isEqualTo(200);
    // a Kubernetes probe sends Host: <pod IP>:<port>; a DNS name of someone else's is still refused
    assertThat(rawGet("/healthz", "10.1.2.3:9901")).startsWith("HTTP/1.1 200");
    assertThat(rawGet("/healthz", "evil.example")).startsWith("HTTP/1.1 403");

    CompletableFuture<HttpResponse<String>> inFlight = tether.http().sendAsync(
        HttpRequest.newBuilder(URI.create(tether.url("/"))).build(), HttpResponse.BodyHandlers.ofString());
    await().atMost(Duration.ofSeconds(15)).until(() -> slow.served().get() == 1);
    var stopped = tether.tether().shutdown();
    HttpResponse<String> draining = tether.admin("GET", "/healthz");
    assertThat(draining.statusCode()).isEqualTo(503);
    assertThat(draining.body()).isEqualTo("shutting down\n");
    stopped.await();
    assertThat(inFlight.get().statusCode()).isEqualTo(200);
    tether = null;
  }
}
