package tether.accesslog;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tether.testing.Backends;
import tether.testing.ProxyTestBase;
import tether.testing.RawHttp;
import tether.testing.TetherHarness;

/** The access log written to a file, as operators run it: escaping, every attempt, request ids, JSON, reload. */
class AccessLogTest extends ProxyTestBase {

  @TempDir
  Path dir;

  private List<String> lines(Path log, int atLeast) {
    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(log)
        && Files.readAllLines(log).size() >= atLeast);
    try {
      return Files.readAllLines(log);
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private String yaml(Path log, String format, String trusted, Backends.Backend... servers) {
    StringBuilder y = new StringBuilder("access_log: {enabled: true, format: " + format + ", path: \"" + log + "\"}\n"
        + trusted + "upstreams:\n  app:\n    servers:\n");
    for (Backends.Backend b : servers) {
      y.append("      - {name: ").append(b.name()).append(", address: \"").append(b.address()).append("\"}\n");
    }
    return y.toString();
  }

  @Test
  void aQuoteInTheUserAgentIsEscapedAndEveryAttemptIsListed() throws Exception {
    Backends.Backend dead = backends.start("dead");
    Backends.Backend live = backends.start("live");
    backends.stop("dead");
    Path log = dir.resolve("access.log");
    tether = TetherHarness.start(yaml(log, "text", "", dead, live));
    for (int i = 0; i < 2; i++) { // round robin: one of the two starts on the dead server
      try (RawHttp raw = new RawHttp(tether.port())) {
        raw.send("GET /a?q=%22x HTTP/1.1\r\nHost: shop.example\r\nUser-Agent: evil\" agent\\ \u00e9\r\n"
            + "Referer: http://x/\"\r\nConnection: close\r\n\r\n").readUntilCloseOrQuiet(5000);
      }
    }
    List<String> lines = lines(log, 2);
    String retried = lines.stream().filter(l -> l.contains("attempts=2")).findFirst().orElseThrow();
    assertThat(retried).matches("127\\.0\\.0\\.1 - - \\[\\d\\d/\\w{3}/\\d{4}:\\d\\d:\\d\\d:\\d\\d\\.\\d{3} \\+0000] "
        + "\"GET /a\\?q=%22x HTTP/1\\.1\" 200 4 \"http://x/\\\\\"\" \"evil\\\\\" agent\\\\\\\\ \\\\xe9\" .*")
        .contains(" host=\"shop.example\" upstream=app server=live upstream_addr=\"127.0.0.1:" + dead.port()
            + ", 127.0.0.1:" + live.port() + "\" upstream_status=\"connect_failed, 200\" ")
        .containsPattern(" request_id=[0-9a-f]{32}$");
    // a combined-log parser sees exactly its quotes: request, referer, user agent, host, upstream_addr, _status
    assertThat(retried.replace("\\\"", "").chars().filter(c -> c == '"').count()).isEqualTo(12);
  }

  @Test
  void requestIdsAreMadeForUntrustedClientsAndKeptFromTrustedProxies() throws Exception {
    AtomicReference<String> seen = new AtomicReference<>();
    Backends.Backend app = backends.start("app", req -> {
      seen.set(req.getHeader("X-Request-Id"));
      req.response().end("ok");
    });
    Path log = dir.resolve("access.json");
    tether = TetherHarness.start(yaml(log, "json", "", app));
    tether.get("/", "X-Request-Id", "spoofed");
    assertThat(seen.get()).matches("[0-9a-f]{32}");
    JsonObject line = new JsonObject(lines(log, 1).get(0));
    assertThat(line.getString("request_id")).isEqualTo(seen.get());
    assertThat(line.getString("upstream_status")).isEqualTo("200");
    assertThat(line.getInteger("status")).isEqualTo(200);
    tether.close();
    tether = TetherHarness.start(yaml(dir.resolve("trusted.json"), "json", "trusted_proxies: [127.0.0.1/32]\n", app));
    tether.get("/", "X-Request-Id", "from-the-edge-1");
    assertThat(seen.get()).isEqualTo("from-the-edge-1");
  }

  @Test
  void aReloadSwitchesFormatAndFileWithoutARestart() throws Exception {
    Backends.Backend app = backends.start("app");
    Path text = dir.resolve("a.log");
    Path json = dir.resolve("b.json");
    Path file = dir.resolve("tether.yaml");
    String admin = "listen: [{address: 127.0.0.1, port: 0}]\nadmin: {address: 127.0.0.1, port: 0}\nworkers: 1\n";
    Files.writeString(file, admin + yaml(text, "text", "", app));
    tether = TetherHarness.startFromFile(file);
    tether.get("/one");
    assertThat(lines(text, 1).get(0)).contains("\"GET /one HTTP/1.1\" 200");
    Files.writeString(file, admin + yaml(json, "json", "", app));
    assertThat(tether.admin("POST", "/reload").statusCode()).isEqualTo(200);
    tether.get("/two");
    assertThat(new JsonObject(lines(json, 1).get(0)).getString("uri")).isEqualTo("/two");
    assertThat(Files.readAllLines(text)).hasSize(1);
  }
}
