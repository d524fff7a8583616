package tether.health;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.http.Fault;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tether.testing.Backends;
import tether.testing.ProxyTestBase;
import tether.testing.TetherHarness;
import tether.upstream.BackendState;

/** Active and passive health on real sockets, with WireMock faults and Vert.x servers. */
class HealthTest extends ProxyTestBase {

  private final List<WireMockServer> wireMocks = new ArrayList<>();

  @AfterEach
  void stopWireMocks() {
    wireMocks.forEach(WireMockServer::stop);
  }

  private WireMockServer wireMock() {
    WireMockServer w = new WireMockServer(options().dynamicPort().bindAddress("127.0.0.1"));
    w.start();
    wireMocks.add(w);
    return w;
  }

  private BackendState state(String server) {
    return tether.tether().proxy().snapshot().upstreams().get("app").byName(server).state();
  }

  private static String server(String name, int port, String extra) {
    return "      - {name: " + name + ", address: \"127.0.0.1:" + port + "\"" + extra + "}\n";
  }

  @Test
  void activeChecksTakeAServerDownAfterFallAndBackAfterRise() {
    WireMockServer flaky = wireMock();
    flaky.stubFor(any(anyUrl()).willReturn(ok("flaky")));
    Backends.Backend steady = backends.start("steady", req -> req.response().end("steady"));
    tether = TetherHarness.start("upstreams:\n  app:\n    servers:\n" + server("flaky", flaky.port(), "")
        + server("steady", steady.port(), "")
        + "    health: {path: /health, interval: 500ms, timeout: 500ms, rise: 2, fall: 2}\n");
    await().atMost(Duration.ofSeconds(15)).until(() -> state("flaky").lastCheck().startsWith("ok"));
    flaky.stubFor(get(urlEqualTo("/health")).willReturn(aResponse().withStatus(500)));
    await().atMost(Duration.ofSeconds(15)).until(() -> !state("flaky").healthy());
    assertThat(state("flaky").lastTransition()).isEqualTo("down: 2 consecutive failures, last: status 500");
    for (int i = 0; i < 10; i++) {
      assertThat(tether.get("/").body()).isEqualTo("steady");
    }
    flaky.stubFor(get(urlEqualTo("/health")).willReturn(ok("fine")));
    await().atMost(Duration.ofSeconds(15)).until(() -> state("flaky").healthy());
    assertThat(state("flaky").lastTransition()).isEqualTo("up: 2 consecutive successes");
    // checks carry no cookies: they never create or touch sessions
    assertThat(flaky.findAll(getRequestedFor(urlEqualTo("/health")))).allSatisfy(r ->
        assertThat(r.containsHeader("Cookie")).isFalse());
  }

  @Test
  void expectedStatusAndBodyAreChecked() {
    WireMockServer w = wireMock();
    w.stubFor(get(urlEqualTo("/ready")).willReturn(aResponse().withStatus(302).withBody("warming up")));
    tether = TetherHarness.start("upstreams:\n  app:\n    servers:\n" + server("a", w.port(), "")
        + "    health: {path: /ready, interval: 300ms, timeout: 300ms, rise: 1, fall: 1, expect_status: 200-399,"
        + " expect_body: READY}\n");
    await().atMost(Duration.ofSeconds(15)).until(() -> !state("a").healthy());
    assertThat(state("a").lastCheck()).isEqualTo("body lacks \"READY\"");
    w.stubFor(get(urlEqualTo("/ready")).willReturn(aResponse().withStatus(404).withBody("READY")));
    await().atMost(Duration.ofSeconds(15)).until(() -> state("a").lastCheck().equals("status 404"));
    w.stubFor(get(urlEqualTo("/ready")).willReturn(aResponse().withStatus(200).withBody("READY")));
    await().atMost(Duration.ofSeconds(15)).until(() -> state("a").healthy());
  }

  @Test
  void aServerThatAcceptsButNeverAnswersTimesOut() throws Exception {
    try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      List<Socket> held = new ArrayList<>();
      Thread acceptor = new Thread(() -> {
        while (!silent.isClosed()) {
          try {
            held.add(silent.accept());
          } catch (IOException e) {
            return;
          }
        }
      });
      acceptor.setDaemon(true);
      acceptor.start();
      tether = TetherHarness.start("upstreams:\n  app:\n    servers:\n" + server("silent", silent.getLocalPort(), "")
          + "    health: {path: /health, interval: 200ms, timeout: 200ms, rise: 1, fall: 1}\n");
      await().atMost(Duration.ofSeconds(15)).until(() -> !state("silent").healthy());
      assertThat(state("silent").lastCheck()).isEqualTo("timeout after 200ms");
      long start = System.nanoTime();
      assertThat(tether.get("/").statusCode()).isEqualTo(503);
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
    }
  }

  /**
   * Issue 12, unexplained moves: a probe slower than its timeout (a starved machine) took down a server that kept
   * answering its users, and they all moved. Such a timeout is not counted; once nothing answers, it is.
   */
  @Test
  void aProbeTimeoutDoesNotCountWhileTheServerAnswersItsUsers() throws Exception {
    WireMockServer slowProbe = wireMock();
    slowProbe.stubFor(any(anyUrl()).willReturn(ok("app")));
    slowProbe.stubFor(get(urlEqualTo("/health")).willReturn(ok("fine").withFixedDelay(5000)));
    tether = TetherHarness.start("upstreams:\n  app:\n    servers:\n" + server("a", slowProbe.port(), "")
        + "    health: {path: /health, interval: 2s, timeout: 2s, rise: 1, fall: 1}\n");
    // users keep being answered until the first probe has timed out (within ~4 s); a request answered within
    // timeout/2 (1 s) before it makes the timeout not count, so only a stall of a second here could fail this
    await("the first probe times out").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(10))
        .until(() -> {
          assertThat(tether.get("/").statusCode()).as(state("a").lastCheck()).isEqualTo(200);
          return String.valueOf(state("a").lastCheck()).startsWith("timeout");
        });
    assertThat(state("a").healthy()).isTrue();
    assertThat(state("a").lastCheck()).startsWith("timeout after 2000ms (not counted: answered a request ");
    await("no traffic: the next timeout counts").atMost(Duration.ofSeconds(20)).until(() -> !state("a").healthy());
    assertThat(state("a").lastTransition()).isEqualTo("down: 1 consecutive failures, last: timeout after 2000ms");
  }

  @Test
  void passiveEjectionReadmitsAndDoublesOnRelapse() {
    WireMockServer broken = wireMock();
    broken.stubFor(any(anyUrl()).willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)));
    Backends.Backend good = backends.start("good", req -> req.response().end("good"));
    tether = TetherHarness.start("upstreams:\n  app:\n    servers:\n" + server("broken", broken.port(), "")
        + server("good", good.port(), "")
        + "    passive: {max_fails: 2, fail_window: 10s, eject_for: 3s, max_eject_for: 30s}\n");
    await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(10)).until(() -> {
      assertThat(tether.get("/").statusCode()).isEqualTo(200); // resets are retried on the good server
      return state("broken").ejected(System.nanoTime());
    });
    assertThat(state("broken").lastTransition()).startsWith("ejected for 3000ms: 2 consecutive failures");
    for (int i = 0; i < 6; i++) {
      assertThat(tether.get("/").body()).isEqualTo("good"); // no new requests while ejected
    }
    // it comes back, fails again at once (within eject_for of its return: a relapse): ejected for twice as long
    await().atMost(Duration.ofSeconds(15)).until(() -> !state("broken").ejected(System.nanoTime()));
    await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(10)).until(() -> {
      tether.get("/");
      return state("broken").ejected(System.nanoTime());
    });
    assertThat(state("broken").lastTransition()).startsWith("ejected for 6000ms: 2 consecutive failures");
  }

  @Test
  void backupTakesOverWhenNoPrimaryIsUpAndHandsBack() {
    WireMockServer primary = wireMock();
    primary.stubFor(any(anyUrl()).willReturn(ok("primary")));
    Backends.Backend spare = backends.start("spare", req -> req.response().end("spare"));
    tether = TetherHarness.start("upstreams:\n  app:\n    servers:\n" + server("primary", primary.port(), "")
        + server("spare", spare.port(), ", backup: true")
        + "    health: {path: /health, interval: 300ms, timeout: 300ms, rise: 1, fall: 1}\n");
    assertThat(tether.get("/").body()).isEqualTo("primary");
    primary.stubFor(get(urlEqualTo("/health")).willReturn(aResponse().withStatus(503)));
    await().atMost(Duration.ofSeconds(15)).until(() -> tether.get("/").body().equals("spare"));
    primary.stubFor(get(urlEqualTo("/health")).willReturn(ok()));
    await().atMost(Duration.ofSeconds(15)).until(() -> tether.get("/").body().equals("primary"));
  }

  @Test
  void allDownAnswers503AtOnceAndServiceResumesWithoutRestart() {
    WireMockServer w = wireMock();
    w.stubFor(get(urlEqualTo("/health")).willReturn(aResponse().withStatus(500)));
    w.stubFor(get(urlEqualTo("/")).willReturn(ok("back")));
    tether = TetherHarness.start("upstreams:\n  app:\n    servers:\n" + server("only", w.port(), "")
        + "    health: {path: /health, interval: 300ms, timeout: 300ms, rise: 1, fall: 1, start_down: true}\n");
    long start = System.nanoTime();
    HttpResponse<String> r = tether.get("/");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.headers().firstValue("retry-after")).isPresent();
    w.stubFor(get(urlEqualTo("/health")).willReturn(ok()));
    await().atMost(Duration.ofSeconds(15)).until(() -> tether.get("/").statusCode() == 200);
  }
}
