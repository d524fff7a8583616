package tether.admin;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import tether.config.IoTransport;
import tether.Tether;
import tether.testing.Backends;
import tether.testing.PrometheusText;
import tether.testing.ProxyTestBase;
import tether.testing.RawHttp;
import tether.testing.TetherHarness;

/** A reload is one transaction (issue 12 §1): it applies whole or changes nothing, and says why. */
class ReloadTransactionTest extends ProxyTestBase {

  @TempDir
  Path dir;

  private final ListAppender<ILoggingEvent> log = new ListAppender<>();

  @AfterEach
  void detach() {
    ((Logger) LoggerFactory.getLogger(Tether.class)).detachAppender(log);
  }

  private Path file;

  private void start(String yaml) throws IOException {
    file = dir.resolve("tether.yaml");
    Files.writeString(file, yaml);
    tether = TetherHarness.startFromFile(file);
    log.start();
    ((Logger) LoggerFactory.getLogger(Tether.class)).addAppender(log);
  }

  private static String config(String top, String routes, Backends.Backend... servers) {
    StringBuilder y = new StringBuilder("listen: [{address: 127.0.0.1, port: 0}" + top + "]\n"
        + "admin: {address: 127.0.0.1, port: 0}\nworkers: 1\naccess_log: {enabled: false}\nupstreams:\n");
    for (Backends.Backend b : servers) {
      y.append("  ").append(b.name()).append(":\n    servers: [{name: ").append(b.name()).append(", address: \"")
          .append(b.address()).append("\"}]\n");
    }
    return y.append(routes).toString();
  }

  private JsonObject reload(String yaml) throws IOException {
    Files.writeString(file, yaml);
    HttpResponse<String> r = tether.admin("POST", "/reload");
    return new JsonObject(r.body()).put("status", r.statusCode());
  }

  @Test
  void aReloadThatCannotBindChangesNothingAndSaysWhy() throws Exception {
    Backends.Backend a = backends.start("a");
    Backends.Backend b = backends.start("b");
    String routesA = "routes: [{path: /, upstream: a}]\n";
    start(config("", routesA, a, b));
    try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      // the same reload sends / to b and adds a listener on a busy port
      JsonObject r = reload(config(", {address: 127.0.0.1, port: " + busy.getLocalPort() + "}",
          "routes: [{path: /, upstream: b}]\n", a, b));
      assertThat(r.getInteger("status")).isEqualTo(400);
      assertThat(r.getJsonArray("errors").getString(0)).contains("listen[1] 127.0.0.1:" + busy.getLocalPort())
          .contains("address already in use");
      assertThat(tether.get("/").body()).as("routing is still the old one").isEqualTo("a");
      assertThat(log.list).anySatisfy(e -> assertThat(e.getFormattedMessage()).contains("reload refused")
          .contains("address already in use"));
    }
    assertThat(reload(config("", "routes: [{path: /, upstream: b}]\n", a, b)).getInteger("status")).isEqualTo(200);
    assertThat(tether.get("/").body()).isEqualTo("b");
  }

  @Test
  void keysThatNeedARestartAreRefusedByName() throws Exception {
    Backends.Backend a = backends.start("a");
    start(config("", "", a));
    String base = config("", "", a);
    for (String[] change : new String[][] {{"workers: 1", "workers: 2", "workers"},
        {"workers: 1", "workers: 1\ntransport: nio", "transport"},
        {"admin: {address: 127.0.0.1, port: 0}", "admin: {address: 127.0.0.1, port: 0, token: t0ken}", "admin"}}) {
      JsonObject r = reload(base.replace(change[0], change[1]));
      assertThat(r.getInteger("status")).as(change[2]).isEqualTo(400);
      assertThat(r.getJsonArray("errors").getString(0)).startsWith(change[2] + ": changed").contains("restart");
    }
    assertThat(tether.tether().config().workers()).isEqualTo(1);
    // auto and what it means on this machine are one setting: naming it is no change
    assertThat(reload(base.replace("workers: 1", "workers: 1\ntransport: "
        + IoTransport.AUTO.resolve().configName())).getInteger("status")).isEqualTo(200);
  }

  /** timeouts.header (and every other timeout, limit, pool size) applies: the listeners are rebuilt with it. */
  @Test
  void aHeaderTimeoutChangeApplies() throws Exception {
    Backends.Backend a = backends.start("a");
    start(config("", "", a) + "timeouts: {header: 30s}\n");
    assertThat(reload(config("", "", a) + "timeouts: {header: 1s}\n").getInteger("status")).isEqualTo(200);
    int port = tether.tether().ports().get(0);
    try (RawHttp silent = new RawHttp(port)) {
      silent.send("GET / HTTP/1.1\r\n"); // and nothing more
      RawHttp.Read read = silent.readUntilCloseOrQuiet(5000);
      assertThat(read.closed()).as("closed by the new 1 s header timeout, not the old 30 s").isTrue();
    }
  }

  @Test
  void aRemovedServerKeepsItsMetersUntilItsLastRequestEndsAndANewOneGetsMetersAndChecks() throws Exception {
    java.util.concurrent.atomic.AtomicReference<io.vertx.core.http.HttpServerRequest> held =
        new java.util.concurrent.atomic.AtomicReference<>();
    Backends.Backend slow = backends.start("slow", held::set); // answered when the test says so
    Backends.Backend c = backends.start("c");
    start(config("", "", slow));
    CompletableFuture<HttpResponse<String>> inFlight = tether.http().sendAsync(
        java.net.http.HttpRequest.newBuilder(java.net.URI.create(tether.url("/"))).build(),
        HttpResponse.BodyHandlers.ofString());
    Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> slow.served().get() == 1);
    assertThat(reload(config("", "", c).replace("servers: [{name: c, address: \"" + c.address() + "\"}]",
        "health: {path: /, interval: 200ms, timeout: 200ms}\n    servers: [{name: c, address: \"" + c.address()
            + "\"}]")).getInteger("status")).isEqualTo(200);
    assertThat(metric("tether_upstream_in_flight{server=\"slow\",upstream=\"slow\"}")).as("still in flight")
        .isEqualTo(1.0);
    held.get().response().end("slow");
    assertThat(inFlight.get().body()).isEqualTo("slow");
    Awaitility.await().atMost(Duration.ofSeconds(15))
        .until(() -> metric("tether_upstream_in_flight{server=\"slow\",upstream=\"slow\"}") == null);
    Awaitility.await().atMost(Duration.ofSeconds(15))
        .until(() -> metric("tether_health_checks_total{result=\"ok\",server=\"c\",upstream=\"c\"}") != null
            && metric("tether_health_checks_total{result=\"ok\",server=\"c\",upstream=\"c\"}") > 0);
    assertThat(tether.get("/").body()).isEqualTo("c");
  }

  private Double metric(String key) {
    return PrometheusText.parse(tether.admin("GET", "/metrics").body()).get(key);
  }
}
