package tether.sticky;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.http.Cookie;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import tether.testing.Backends;
import tether.testing.ProxyTestBase;
import tether.testing.CookieClient;
import tether.testing.TetherHarness;

/**
 * route, learn and hash modes end to end, against backends that behave like PHP: they issue PHPSESSID when it is
 * missing. Each mode's rules one by one are tables in {@link RouteModeTest}, {@link LearnModeTest} and
 * {@link HashModeTest}.
 */
class StickyModesTest extends ProxyTestBase {


  /** A PHP-like server: issues a session cookie to a request that has none, answers its own name. */
  private Backends.Backend php(String name) {
    return backends.start(name, req -> {
      if (req.getCookie("PHPSESSID") == null) {
        req.response().addCookie(Cookie.cookie("PHPSESSID", UUID.randomUUID().toString()).setPath("/"));
      }
      req.response().end(name);
    });
  }

  private String config(String sticky, List<Backends.Backend> servers) {
    StringBuilder y = new StringBuilder("upstreams:\n  app:\n    debug_header: true\n    servers:\n");
    for (Backends.Backend b : servers) {
      y.append("      - {name: ").append(b.name()).append(", address: \"").append(b.address()).append("\"}\n");
    }
    return y.append("    sticky: ").append(sticky).append('\n').toString();
  }

  private HttpResponse<String> get(String path, String cookie) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(tether.url(path)));
    if (cookie != null) {
      b.header("Cookie", cookie);
    }
    return tether.send(b.build());
  }

  @Test
  void routeModeReadsTheSuffixFromCookiePathParameterAndQuery() {
    List<Backends.Backend> b = List.of(backends.start("web1"), backends.start("web2"), backends.start("web3"));
    tether = TetherHarness.start(config("{mode: route, cookie: JSESSIONID}", b));
    // what the request view is given on the wire; every other case is a row of RouteModeTest
    assertThat(get("/", "JSESSIONID=abc123.web2").body()).isEqualTo("web2");
    assertThat(get("/cart;jsessionid=abc123.web3?x=1", null).body()).isEqualTo("web3");
    assertThat(get("/cart?jsessionid=abc123.web1", null).body()).isEqualTo("web1");
    HttpResponse<String> unknown = get("/", "JSESSIONID=abc123.web9");
    assertThat(unknown.statusCode()).isEqualTo(200);
    assertThat(unknown.headers().firstValue("x-tether-upstream").orElseThrow()).endsWith("sticky=repin");
  }

  @Test
  void routeModeFailoverRemembersTheMoveUntilTheAppReSuffixes() {
    List<Backends.Backend> b = List.of(backends.start("web1"), backends.start("web2"), backends.start("web3"));
    tether = TetherHarness.start(config("{mode: route, cookie: JSESSIONID}", b));
    backends.stop("web2");
    String moved = get("/", "JSESSIONID=s1.web2").body();
    assertThat(moved).isNotEqualTo("web2");
    for (int i = 0; i < 5; i++) {
      assertThat(get("/", "JSESSIONID=s1.web2").body()).isEqualTo(moved);
    }
    String other = moved.equals("web1") ? "web3" : "web1";
    assertThat(get("/", "JSESSIONID=s1." + other).body()).isEqualTo(other);
  }

  @Test
  void learnModeLearnsFromSetCookieAndRelearnsOnFailover() {
    List<Backends.Backend> b = List.of(php("web1"), php("web2"), php("web3"));
    tether = TetherHarness.start(config("{mode: learn, cookie: PHPSESSID, max_entries: 1000, ttl: 10m}", b));
    CookieClient client = new CookieClient(tether);
    String first = client.get("/").body();
    assertThat(client.jar()).containsKey("PHPSESSID").doesNotContainKey("TETHER");
    for (int i = 0; i < 100; i++) {
      assertThat(client.get("/").body()).isEqualTo(first);
    }
    Set<String> spread = new HashSet<>();
    for (int i = 0; i < 9; i++) {
      spread.add(new CookieClient(tether).get("/").body());
    }
    assertThat(spread).hasSize(3);
    backends.stop(first);
    String moved = client.get("/").body();
    assertThat(moved).isNotEqualTo(first);
    assertThat(client.debug()).isEqualTo(moved + "; sticky=repin");
    for (int i = 0; i < 10; i++) {
      assertThat(client.get("/").body()).isEqualTo(moved);
    }
  }

  @Test
  void hashModeKeepsANewUserOnItsFirstServerAndMovesOnlyTheFailedServersKeys() {
    List<Backends.Backend> b = List.of(php("web1"), php("web2"), php("web3"));
    tether = TetherHarness.start(config("{mode: hash, key: \"cookie:PHPSESSID\", learn_window: 1m}", b));
    for (int n = 0; n < 30; n++) { // every new user: its second request reaches its first server
      CookieClient user = new CookieClient(tether);
      String first = user.get("/").body();
      assertThat(user.get("/").body()).isEqualTo(first);
    }
    Map<String, String> owner = new HashMap<>();
    for (int k = 0; k < 60; k++) {
      owner.put("key" + k, get("/", "PHPSESSID=key" + k).body());
    }
    assertThat(new HashSet<>(owner.values())).hasSize(3);
    backends.stop("web2");
    owner.forEach((key, server) -> {
      String now = get("/", "PHPSESSID=" + key).body();
      if (server.equals("web2")) {
        assertThat(now).isNotEqualTo("web2");
      } else {
        assertThat(now).as(key).isEqualTo(server);
      }
    });
  }
}
