package tether.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.Promise;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tether.testing.Backends;
import tether.testing.ProxyTestBase;
import tether.testing.RawHttp;
import tether.testing.TetherHarness;

/**
 * A live reload (POST /reload) that changes {@code trusted_proxies} and the access log's format: who the client is
 * ({@code X-Forwarded-For} and a header rule's {@code $client_ip} sent to the backend, {@code $client_ip} in a response
 * rule) follows the new configuration from the next request on, on a connection accepted before the reload too (fast
 * path and Vert.x path alike); a request in flight across the reload finishes on the configuration it started with;
 * its access-log line is written by the log in force when it ends; a reload that fails changes none of it.
 */
class ReloadClientAddressTest extends ProxyTestBase {

  private static final String FORGED = "203.0.113.7";

  @TempDir
  Path dir;

  private Path file;
  private Path accessLog;
  /** The backend's answer to /slow waits for this, when set. */
  private final AtomicReference<Promise<Void>> hold = new AtomicReference<>();

  private Backends.Backend echo() {
    return backends.start("app", (HttpServerRequest req) -> {
      String said = "xff=" + req.getHeader("X-Forwarded-For") + " real=" + req.getHeader("X-Real-IP");
      Promise<Void> h = req.path().equals("/rules/slow") ? hold.get() : null;
      if (h == null) {
        req.response().end(said);
      } else {
        h.future().onComplete(v -> req.response().end(said));
      }
    });
  }

  /** The echo backend behind a Tether that trusts no proxy and logs text to {@code accessLog}; returns the backend. */
  private Backends.Backend startTrustingNobody() throws IOException {
    Backends.Backend app = echo();
    file = dir.resolve("tether.yaml");
    accessLog = dir.resolve("access.log");
    start(config(app, null, "text", accessLog));
    return app;
  }

  /** @param trusted {@code trusted_proxies}' entries, or none; @param format the access log's */
  private String config(Backends.Backend app, String trusted, String format, Path logPath) {
    return "listen: [{address: 127.0.0.1, port: 0}]\nadmin: {address: 127.0.0.1, port: 0}\nworkers: 1\n"
        + (trusted == null ? "" : "trusted_proxies: [" + trusted + "]\n")
        + "access_log: {format: " + format + ", path: \"" + logPath + "\"}\n"
        + "upstreams:\n  app:\n    servers: [{name: app, address: \"" + app.address() + "\"}]\n"
        + "routes:\n"
        + "  - path: /rules/\n    upstream: app\n    headers:\n"
        + "      request: {set: {X-Real-IP: $client_ip}}\n"
        + "      response: {set: {X-Client: $client_ip}}\n"
        + "  - {path: /, upstream: app}\n";
  }

  private void start(String yaml) throws IOException {
    Files.writeString(file, yaml);
    tether = TetherHarness.startFromFile(file);
  }

  private JsonObject reload(String yaml) throws IOException {
    Files.writeString(file, yaml);
    HttpResponse<String> r = tether.admin("POST", "/reload");
    return new JsonObject(r.body()).put("status", r.statusCode());
  }

  /** One request on {@code c} with a forged X-Forwarded-For: the response, head and body. */
  private static String get(RawHttp c, String path) throws IOException {
    return c.send("GET " + path + " HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: " + FORGED + "\r\n\r\n")
        .readResponse(5000, false);
  }

  /** The access log's lines so far, once it has at least {@code n}. */
  private List<String> logLines(Path log, int n) {
    await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(log) && Files.readAllLines(log).size() >= n);
    try {
      return Files.readAllLines(log);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void trustedProxiesAndTheLogFormatApplyFromTheNextRequestOnConnectionsOpenBeforeTheReloadToo() throws Exception {
    Backends.Backend app = startTrustingNobody();
    try (RawHttp before = new RawHttp(tether.port())) { // accepted before the reload, kept alive across it
      // nobody trusted: the forged address is replaced, and $client_ip is the peer
      assertThat(get(before, "/fast")).endsWith("xff=127.0.0.1 real=null"); // (fast path: a route without rules)
      String ruled = get(before, "/rules/a");
      assertThat(ruled).endsWith("xff=127.0.0.1 real=127.0.0.1").containsIgnoringCase("x-client: 127.0.0.1\r\n");
      assertThat(logLines(accessLog, 2)).allSatisfy(l -> assertThat(l).startsWith("127.0.0.1 - - ["));

      assertThat(reload(config(app, "127.0.0.1/32", "json", accessLog)).getInteger("status")).isEqualTo(200);

      String forwarded = "xff=" + FORGED + ", 127.0.0.1 real=" + FORGED;
      assertThat(get(before, "/fast")).endsWith("xff=" + FORGED + ", 127.0.0.1 real=null");
      ruled = get(before, "/rules/b");
      assertThat(ruled).endsWith(forwarded).containsIgnoringCase("x-client: " + FORGED + "\r\n");
      try (RawHttp after = new RawHttp(tether.port())) {
        assertThat(get(after, "/rules/c")).endsWith(forwarded);
      }
      List<String> lines = logLines(accessLog, 5);
      for (String json : lines.subList(2, 5)) { // the new format; the client field is the peer (as $remote_addr)
        JsonObject line = new JsonObject(json);
        assertThat(line.getString("client")).isEqualTo("127.0.0.1");
      }

      // and back: nobody trusted again, on the same connection
      assertThat(reload(config(app, null, "text", accessLog)).getInteger("status")).isEqualTo(200);
      assertThat(get(before, "/rules/d")).endsWith("xff=127.0.0.1 real=127.0.0.1")
          .containsIgnoringCase("x-client: 127.0.0.1\r\n");
      assertThat(logLines(accessLog, 6).get(5)).startsWith("127.0.0.1 - - [").contains("\"GET /rules/d HTTP/1.1\"");
    }
  }

  /**
   * A request in flight when the reload lands: its forwarded headers were sent under the old configuration, and its
   * response rules' {@code $client_ip} says the same client (before, a response rule read the live configuration, so
   * one request named two different clients). Its access-log line goes to the log in force when it ends.
   */
  @Test
  void aRequestInFlightAcrossTheReloadFinishesOnTheConfigurationItStartedWith() throws Exception {
    Backends.Backend app = startTrustingNobody();
    Promise<Void> held = Promise.promise();
    hold.set(held);
    try (RawHttp c = new RawHttp(tether.port())) {
      c.send("GET /rules/slow HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: " + FORGED + "\r\n\r\n");
      await().atMost(Duration.ofSeconds(5)).until(() -> app.served().get() == 1);
      assertThat(reload(config(app, "127.0.0.1/32", "json", accessLog)).getInteger("status")).isEqualTo(200);
      backends.vertx().runOnContext(v -> held.complete());
      String r = c.readResponse(5000, false);
      assertThat(r).startsWith("HTTP/1.1 200").endsWith("xff=127.0.0.1 real=127.0.0.1")
          .containsIgnoringCase("x-client: 127.0.0.1\r\n");
      hold.set(null);
      assertThat(get(c, "/rules/next")).endsWith("xff=" + FORGED + ", 127.0.0.1 real=" + FORGED)
          .containsIgnoringCase("x-client: " + FORGED + "\r\n");
    }
    List<String> lines = logLines(accessLog, 2);
    assertThat(new JsonObject(lines.get(0)).getString("uri")).as("written when it ended, in the new format")
        .isEqualTo("/rules/slow");
  }

  /**
   * A reload that fails on its last step (the new access-log file cannot be opened) changes nothing: the proxies
   * stay untrusted, the log keeps its file and format.
   */
  @Test
  void aReloadThatFailsChangesNeitherTheTrustedProxiesNorTheLog() throws Exception {
    Backends.Backend app = startTrustingNobody();
    try (RawHttp c = new RawHttp(tether.port())) {
      assertThat(get(c, "/rules/a")).endsWith("xff=127.0.0.1 real=127.0.0.1");
      Path unopenable = dir.resolve("no-such-dir").resolve("access.log");
      JsonObject r = reload(config(app, "127.0.0.1/32", "json", unopenable));
      assertThat(r.getInteger("status")).as(r.encode()).isEqualTo(400);
      assertThat(get(c, "/rules/b")).endsWith("xff=127.0.0.1 real=127.0.0.1")
          .containsIgnoringCase("x-client: 127.0.0.1\r\n");
    }
    assertThat(logLines(accessLog, 2)).allSatisfy(l -> assertThat(l).startsWith("127.0.0.1 - - ["));
  }
}
