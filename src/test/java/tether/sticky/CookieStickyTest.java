package tether.sticky;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.http.HttpServer;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import tether.testing.Backends;
import tether.testing.ProxyTestBase;
import tether.testing.CookieClient;
import tether.testing.TetherHarness;
import tether.upstream.AdminState;
import tether.upstream.BackendState;

/**
 * Mode cookie end to end, on real sockets; its rules one by one (tampering, expiry, rotation, refresh, attributes)
 * are tables in {@link CookieModeTest}.
 */
class CookieStickyTest extends ProxyTestBase {

  private String config(String stickyExtra, Backends.Backend... servers) {
    StringBuilder y = new StringBuilder("upstreams:\n  app:\n    debug_header: true\n    servers:\n");
    for (Backends.Backend b : servers) {
      y.append("      - {name: ").append(b.name()).append(", address: \"").append(b.address()).append("\"}\n");
    }
    return y.append("    sticky: {mode: cookie, cookie: TETHER, secret: [").append(stickyExtra).append("]}\n")
        .toString();
  }

  private List<Backends.Backend> three() {
    return List.of(backends.start("web1"), backends.start("web2"), backends.start("web3"));
  }

  private BackendState state(String server) {
    return tether.tether().proxy().snapshot().upstreams().get("app").byName(server).state();
  }

  @Test
  void oneClientStaysOnOneServerAndClientsSpread() {
    List<Backends.Backend> b = three();
    tether = TetherHarness.start(config("k1", b.toArray(Backends.Backend[]::new)));
    CookieClient client = new CookieClient(tether);
    String first = client.get("/").body();
    assertThat(client.get("/").headers().allValues("set-cookie")).isEmpty(); // no refresh without max_idle
    for (int i = 0; i < 100; i++) {
      assertThat(client.get("/").body()).isEqualTo(first);
    }
    assertThat(client.debug()).isEqualTo(first + "; sticky=hit");
    Set<String> servers = new HashSet<>();
    for (int i = 0; i < 9; i++) {
      servers.add(new CookieClient(tether).get("/").body());
    }
    assertThat(servers).containsExactlyInAnyOrder("web1", "web2", "web3");
  }

  @Test
  void cookieAttributesAreSafeAndTheCookieNeverReachesTheBackend() {
    Backends.Backend echo = backends.start("web1", req ->
        req.response().end(String.valueOf(req.getHeader("Cookie"))));
    tether = TetherHarness.start(config("k1", echo));
    CookieClient client = new CookieClient(tether);
    HttpResponse<String> r = client.get("/");
    assertThat(r.headers().firstValue("set-cookie").orElseThrow())
        .matches("TETHER=[A-Za-z0-9_.-]+; Path=/; HttpOnly; SameSite=Lax")
        .doesNotContain(echo.address()).doesNotContain(String.valueOf(echo.port()));
    client.jar().put("app", "1");
    assertThat(client.get("/").body()).isEqualTo("app=1");
  }

  @Test
  void badCookiesAreNeverAnErrorAndRepin() {
    List<Backends.Backend> b = three();
    tether = TetherHarness.start(config("k1", b.toArray(Backends.Backend[]::new)));
    SignedCookie signer = new SignedCookie(List.of("k1"));
    long now = System.currentTimeMillis() / 1000;
    String forged = new SignedCookie(List.of("other-key")).encode("web1", now, now);
    String unknown = signer.encode("web9", now, now);
    String tampered = signer.encode("web1", now, now).replaceFirst("^[^.]+", "d2ViMg"); // web2, old mac
    for (String bad : List.of("garbage", forged, unknown, tampered, "x".repeat(10_000), "", "a.b.c.d.e")) {
      HttpResponse<String> r = tether.send(HttpRequest.newBuilder(URI.create(tether.url("/")))
          .header("Cookie", "TETHER=" + bad).build());
      assertThat(r.statusCode()).as(bad).isEqualTo(200);
      assertThat(r.headers().firstValue("set-cookie")).as(bad).hasValueSatisfying(c -> c.startsWith("TETHER="));
      assertThat(r.headers().firstValue("x-tether-upstream").orElseThrow()).as(bad).endsWith("sticky=repin");
    }
    // duplicated: the first valid one wins
    HttpResponse<String> dup = tether.send(HttpRequest.newBuilder(URI.create(tether.url("/")))
        .header("Cookie", "TETHER=garbage; TETHER=" + signer.encode("web3", now, now)).build());
    assertThat(dup.body()).isEqualTo("web3");
    assertThat(dup.headers().firstValue("x-tether-upstream")).hasValue("web3; sticky=hit");
  }

  @Test
  void failoverRepinsOnTheFailingRequestAndNeverBouncesBack() {
    List<Backends.Backend> b = three();
    tether = TetherHarness.start(config("k1", b.toArray(Backends.Backend[]::new)));
    CookieClient client = new CookieClient(tether);
    String first = client.get("/").body();
    int port = backends.get(first).port();
    backends.stop(first);
    HttpResponse<String> moved = client.get("/");
    assertThat(moved.statusCode()).isEqualTo(200);
    String second = moved.body();
    assertThat(second).isNotEqualTo(first);
    assertThat(moved.headers().firstValue("set-cookie")).isPresent();
    assertThat(client.debug()).isEqualTo(second + "; sticky=repin");
    HttpServer revived = backends.vertx().createHttpServer().requestHandler(req -> req.response().end(first))
        .listen(port, "127.0.0.1").await();
    try {
      for (int i = 0; i < 20; i++) {
        assertThat(client.get("/").body()).isEqualTo(second);
      }
    } finally {
      revived.close().await();
    }
  }

  @Test
  void drainKeepsPinnedUsersAndTakesNoNewOnesUntilItsDeadline() {
    List<Backends.Backend> b = three();
    tether = TetherHarness.start(config("k1", b.toArray(Backends.Backend[]::new)));
    CookieClient pinned = new CookieClient(tether);
    String server = pinned.get("/").body();
    state(server).admin(AdminState.DRAIN, 0, "test", System.nanoTime());
    for (int i = 0; i < 10; i++) {
      assertThat(pinned.get("/").body()).isEqualTo(server);
      assertThat(new CookieClient(tether).get("/").body()).isNotEqualTo(server);
    }
    state(server).admin(AdminState.DRAIN, System.nanoTime() - 1, "test", System.nanoTime());
    assertThat(pinned.get("/").body()).isNotEqualTo(server);
    assertThat(pinned.debug()).endsWith("sticky=repin");
  }

  @Test
  void disabledServerMovesItsUsersAtTheirNextRequest() {
    List<Backends.Backend> b = three();
    tether = TetherHarness.start(config("k1", b.toArray(Backends.Backend[]::new)));
    CookieClient pinned = new CookieClient(tether);
    String server = pinned.get("/").body();
    state(server).admin(AdminState.DISABLED, 0, "test", System.nanoTime());
    String moved = pinned.get("/").body();
    assertThat(moved).isNotEqualTo(server);
    state(server).admin(AdminState.ACTIVE, 0, "test", System.nanoTime());
    assertThat(pinned.get("/").body()).isEqualTo(moved);
  }
}
