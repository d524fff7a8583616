package tether.sticky;

import static org.assertj.core.api.Assertions.assertThat;
import static tether.sticky.StickyFixture.config;
import static tether.sticky.StickyFixture.cookies;
import static tether.sticky.StickyFixture.server;
import static tether.sticky.StickyFixture.setCookies;
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
 * Mode {@code learn} without sockets: (request's session id, backend's Set-Cookie, server that served) -> what is
 * learned; (session id, learned table, servers) -> pin.
 */
class LearnModeTest {

  private final Clock clock = new Clock();
  private final Upstream app = upstream("{mode: learn, cookie: PHPSESSID, max_entries: 1000, ttl: 10m}",
      "web1", "web2", "web3");
  private final LearnSticky sticky = new LearnSticky(config(app), clock);

  /**
   * The request's session id (learned on web2 beforehand when marked *), the backend's Set-Cookie, who served ->
   * where the request's id and the issued id resolve afterwards (- : not learned).
   */
  @ParameterizedTest(name = "id {0}, Set-Cookie {1}, served by {2} -> {3}, {4}")
  @CsvSource(nullValues = "-", delimiter = '|', value = {
      "-     | PHPSESSID=new1; path=/                        | web1 | -    | web1", // a new user's id
      "-     | PHPSESSID=\"new1\"; path=/                    | web1 | -    | web1",
      "-     | app=1, PHPSESSID=new1; HttpOnly               | web3 | -    | web3",
      "-     | PHPSESSID=deleted; expires=Thu, 01 Jan 1970   | web1 | -    | -",    // a logout is no session
      "-     | PHPSESSID=; Max-Age=0                         | web1 | -    | -",
      "-     | PHPSESSION=new1                               | web1 | -    | -",
      "old   | -                                             | web3 | web3 | -",    // learned from who served
      "*old  | -                                             | web2 | web2 | -",    // a hit
      "*old  | -                                             | web1 | web1 | -",    // re-pinned: rewritten
      "*old  | PHPSESSID=new1                                | web2 | web2 | web2", // regenerated id
      "*old  | PHPSESSID=new1                                | web1 | web1 | web1", // failover and a new id
      "*old  | PHPSESSID=old                                 | web1 | web1 | -",
  })
  void learn(String id, String setCookie, String servedBy, String idAfter, String issuedAfter) {
    String sent = id == null ? null : id.replace("*", "");
    if (id != null && id.startsWith("*")) {
      respond(resolve(sent), "web2", setCookies("PHPSESSID=" + sent));
    }
    // several Set-Cookie headers: split where the next NAME= starts
    MultiMap upstreamHeaders = setCookie == null ? setCookies() : setCookies(setCookie.split(", (?=\\w+=)"));
    MultiMap response = respond(resolve(sent), servedBy, upstreamHeaders);
    assertThat(response.isEmpty()).as("learn mode sets no cookie of its own").isTrue();
    if (sent != null) {
      assertThat(server(resolve(sent))).as("the request's id").isEqualTo(idAfter);
    }
    assertThat(server(resolve("new1"))).as("the issued id").isEqualTo(issuedAfter);
  }

  @Test
  void aPinIsKeyedByTheSessionIdEvenBeforeAnythingIsLearned() {
    Pin unknown = resolve("fresh");
    assertThat(unknown.target()).isNull();
    assertThat(unknown.invalid()).isNull();
    assertThat(unknown.userKey()).as("a re-pin hashes it: a page's requests land together").isEqualTo("fresh");
    assertThat(resolve(null)).isSameAs(Pin.NONE);
    assertThat(sticky.resolve(cookies("other=1"), app)).isSameAs(Pin.NONE);
  }

  @Test
  void aServerDownKeepsItsPinUntilTheUserIsServedElsewhereWithNoBounceBack() {
    Backend web2 = app.byName("web2");
    respond(resolve(null), "web2", setCookies("PHPSESSID=s1"));
    StickyFixture.down(web2);
    Pin pin = resolve("s1");
    assertThat(pin.target()).as("the table names its server, down or not").isSameAs(web2);
    respond(pin, "web3", setCookies());
    StickyFixture.up(web2);
    assertThat(server(resolve("s1"))).isEqualTo("web3");
  }

  @Test
  void aServerRemovedByAReloadIsAnUnknownServer() {
    respond(resolve(null), "web3", setCookies("PHPSESSID=s1"));
    Upstream reloaded = upstream("{mode: learn, cookie: PHPSESSID, max_entries: 1000, ttl: 10m}", "web1", "web2");
    Pin pin = sticky.resolve(cookies("PHPSESSID=s1"), reloaded);
    assertThat(pin.target()).isNull();
    assertThat(pin.invalid()).isEqualTo("unknown_server");
    assertThat(pin.userKey()).isEqualTo("s1");
  }

  @Test
  void entriesExpireAfterTtlIdleAndEachUseRenewsThem() {
    respond(resolve(null), "web2", setCookies("PHPSESSID=s1"));
    for (int i = 0; i < 5; i++) {
      clock.advance(Duration.ofMinutes(9));
      assertThat(server(resolve("s1"))).as("after %d minutes", 9 * (i + 1)).isEqualTo("web2");
    }
    clock.advance(Duration.ofMinutes(11));
    assertThat(server(resolve("s1"))).isNull();
  }

  private Pin resolve(String id) {
    return sticky.resolve(cookies(id == null ? null : "PHPSESSID=" + id), app);
  }

  private MultiMap respond(Pin pin, String servedBy, MultiMap upstreamHeaders) {
    MultiMap response = MultiMap.caseInsensitiveMultiMap();
    sticky.onResponse(pin, app.byName(servedBy), upstreamHeaders, response, false);
    return response;
  }
}
