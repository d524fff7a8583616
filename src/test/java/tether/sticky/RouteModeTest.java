package tether.sticky;

import static org.assertj.core.api.Assertions.assertThat;
import static tether.sticky.StickyFixture.config;
import static tether.sticky.StickyFixture.cookies;
import static tether.sticky.StickyFixture.request;
import static tether.sticky.StickyFixture.server;
import static tether.sticky.StickyFixture.upstream;

import io.vertx.core.MultiMap;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tether.sticky.StickyFixture.Clock;
import tether.upstream.Backend;
import tether.upstream.Upstream;

/**
 * Mode {@code route} without sockets: (session id in cookie, path or query; servers' routes) -> pin; a failover
 * move is remembered for the id and its old route until the app re-suffixes it or {@code ttl} of idleness.
 * web1's route is node1; web2 and web3 route by their names.
 */
class RouteModeTest {

  private final Clock clock = new Clock();
  private final Upstream app = upstream("{mode: route, cookie: JSESSIONID, ttl: 10m}",
      "web1, route: node1", "web2", "web3");
  private final RouteSticky sticky = new RouteSticky(config(app), clock);

  @ParameterizedTest(name = "{0} {1} -> {2} {3}")
  @CsvSource(nullValues = "-", delimiter = '|', value = {
      "-                              | /                                      | -    | -",
      "JSESSIONID=abc123.node1        | /                                      | web1 | -",
      "JSESSIONID=abc123.web2         | /                                      | web2 | -",
      // a server's name is not its route
      "JSESSIONID=abc123.web1         | /                                      | -    | unknown_server",
      "JSESSIONID=abc123.web9         | /                                      | -    | unknown_server",
      "JSESSIONID=abc123.             | /                                      | -    | unknown_server",
      "JSESSIONID=abc123              | /                                      | -    | -", // no route yet
      "JSESSIONID=a.b.web3            | /                                      | web3 | -", // the last separator
      "app=1; JSESSIONID=\"abc.web3\" | /                                      | web3 | -",
      "-                              | /cart;jsessionid=abc123.web3           | web3 | -",
      "-                              | /cart;jsessionid=abc123.web3?x=1       | web3 | -",
      "-                              | /a;jsessionid=abc123.node1/b;x=1       | web1 | -",
      "-                              | /cart?jsessionid=abc123.web2           | web2 | -",
      "-                              | /cart?x=1&JSESSIONID=abc123.web2       | web2 | -", // as getParam
      "-                              | /cart?x=1;jsessionid=abc%2E1.web2      | web2 | -", // decoded
      "-                              | /cart?other=abc123.web2                | -    | -",
      "-                              | /cart/abc123.web2                      | -    | -",
      "JSESSIONID=abc123.web2         | /cart;jsessionid=abc123.web3           | web2 | -", // cookie first
      "-                              | /a;jsessionid=x.web3?jsessionid=x.web2 | web3 | -", // then path
  })
  void resolve(String cookie, String uri, String target, String invalid) {
    Pin pin = sticky.resolve(request(uri, cookie == null ? new String[0] : new String[] {"Cookie", cookie}), app);
    assertThat(server(pin)).isEqualTo(target);
    assertThat(pin.invalid()).isEqualTo(invalid);
    assertThat(pin.hash()).isZero();
  }

  @Test
  void otherSeparatorAndParameterNames() {
    Upstream u = upstream("{mode: route, cookie: SID, separator: \"-\", path_param: sid, query_param: s}",
        "web1", "web2");
    RouteSticky s = new RouteSticky(config(u), clock);
    assertThat(s.resolve(cookies("SID=a.b-web2"), u).target()).isSameAs(u.byName("web2"));
    assertThat(s.resolve(request("/x;sid=a-web1"), u).target()).isSameAs(u.byName("web1"));
    assertThat(s.resolve(request("/x?s=a-web2"), u).target()).isSameAs(u.byName("web2"));
    assertThat(s.resolve(request("/x;jsessionid=a-web2?jsessionid=a-web2"), u)).isSameAs(Pin.NONE);
  }

  @Test
  void aFailoverMoveIsRememberedWithNoBounceBackUntilTheAppReSuffixes() {
    Backend web2 = app.byName("web2");
    Backend web3 = app.byName("web3");
    StickyFixture.down(web2);
    Pin pin = resolve("s1.web2");
    assertThat(pin.target()).as("the route names its server, down or not").isSameAs(web2);
    respond(pin, web3); // the exchange refused web2 and web3 served
    assertThat(sticky.learnedEntries()).isEqualTo(1);
    StickyFixture.up(web2);
    for (int i = 0; i < 3; i++) {
      assertThat(resolve("s1.web2").target()).as("web2 is back: no bounce").isSameAs(web3);
    }
    assertThat(resolve("s2.web2").target()).as("only that session moved").isSameAs(web2);
    assertThat(resolve("s1.node1").target()).as("the app re-suffixed: followed").isSameAs(app.byName("web1"));
    assertThat(resolve("s1.web3").target()).isSameAs(web3);
  }

  @Test
  void aHitLearnsNothingAndAMoveIsForgottenAfterTtlIdle() {
    respond(resolve("s1.web2"), app.byName("web2"));
    assertThat(sticky.learnedEntries()).isZero();
    respond(resolve("s1.web2"), app.byName("web1"));
    clock.advance(Duration.ofMinutes(9));
    assertThat(resolve("s1.web2").target().name()).as("within ttl").isEqualTo("web1");
    clock.advance(Duration.ofMinutes(9));
    assertThat(resolve("s1.web2").target().name()).as("ttl is idle time: the last read renewed it")
        .isEqualTo("web1");
    clock.advance(Duration.ofMinutes(11));
    assertThat(resolve("s1.web2").target().name()).as("idle past ttl: the route again").isEqualTo("web2");
  }

  @Test
  void aMoveToAServerSinceRemovedFallsBackToTheRoute() {
    respond(resolve("s1.web2"), app.byName("web3"));
    Upstream reloaded = upstream("{mode: route, cookie: JSESSIONID, ttl: 10m}", "web1, route: node1", "web2");
    assertThat(sticky.resolve(cookies("JSESSIONID=s1.web2"), reloaded).target()).isSameAs(reloaded.byName("web2"));
  }

  private Pin resolve(String sessionId) {
    return sticky.resolve(cookies("JSESSIONID=" + sessionId), app);
  }

  private void respond(Pin pin, Backend servedBy) {
    MultiMap response = MultiMap.caseInsensitiveMultiMap();
    sticky.onResponse(pin, servedBy, MultiMap.caseInsensitiveMultiMap(), response, false);
    assertThat(response.isEmpty()).as("route mode sets no cookie of its own").isTrue();
  }
}
