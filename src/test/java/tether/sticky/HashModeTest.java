package tether.sticky;

import static org.assertj.core.api.Assertions.assertThat;
import static tether.sticky.StickyFixture.CLIENT;
import static tether.sticky.StickyFixture.config;
import static tether.sticky.StickyFixture.cookies;
import static tether.sticky.StickyFixture.request;
import static tether.sticky.StickyFixture.setCookies;
import static tether.sticky.StickyFixture.upstream;

import io.vertx.core.MultiMap;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tether.sticky.StickyFixture.Clock;
import tether.upstream.Attempts;
import tether.upstream.Backend;
import tether.upstream.Upstream;
import tether.upstream.balancing.HashRing;

/**
 * Mode {@code hash} without sockets: (key from cookie, header or client IP) -> the ring's owner and the hash; ids
 * the backend issues and keys moved by a failover are remembered for a sliding {@code learn_window} (30s here).
 */
class HashModeTest {

  private static final String STICKY = "{mode: hash, key: \"cookie:PHPSESSID\", learn_window: 30s}";

  private final Clock clock = new Clock();
  private final Upstream app = upstream(STICKY, "web1", "web2", "web3");
  private final HashSticky sticky = new HashSticky(config(app), clock);

  /** The sticky keys, the request's header (name: value) -> the key hashed (- : none, balanced). */
  @ParameterizedTest(name = "{0}, {1} -> {2}")
  @CsvSource(nullValues = "-", delimiter = '|', value = {
      "key: \"cookie:PHPSESSID\" | Cookie: PHPSESSID=abc      | abc",
      "key: \"cookie:PHPSESSID\" | Cookie: a=1; PHPSESSID=abc | abc",
      "key: \"cookie:PHPSESSID\" | Cookie: PHPSESSIONID=abc   | -",
      "key: \"cookie:PHPSESSID\" | X-User: u1                 | -",
      "cookie: SID               | Cookie: SID=abc            | abc",
      "key: \"header:X-User\"    | x-user: u1                 | u1",
      "key: \"header:X-User\"    | Cookie: X-User=u1          | -",
      "key: ip                   | X-User: u1                 | " + CLIENT,
  })
  void resolve(String keys, String header, String key) {
    Upstream u = upstream("{mode: hash, " + keys + "}", "web1", "web2", "web3");
    int colon = header.indexOf(':');
    Pin pin = new HashSticky(config(u), clock).resolve(request("/", header.substring(0, colon),
        header.substring(colon + 2)), u);
    if (key == null) {
      assertThat(pin).isSameAs(Pin.NONE);
      return;
    }
    assertThat(pin.hash()).isEqualTo(HashRing.hash(key));
    assertThat(pin.target()).isSameAs(u.ringOwner(HashRing.hash(key)));
    assertThat(pin.userKey()).isEqualTo(key);
    assertThat(pin.invalid()).isNull();
  }

  @Test
  void everyInstanceMapsKeysAlikeAndAServersFailureMovesOnlyItsOwnKeys() {
    Upstream elsewhere = upstream(STICKY, "web1", "web2", "web3");
    HashSticky other = new HashSticky(config(elsewhere), clock);
    Map<String, Backend> owner = new HashMap<>();
    for (int k = 0; k < 300; k++) {
      Pin pin = resolve("key" + k);
      owner.put("key" + k, pin.target());
      assertThat(other.resolve(cookies("PHPSESSID=key" + k), elsewhere).target().name())
          .isEqualTo(pin.target().name());
    }
    assertThat(new HashSet<>(owner.values())).hasSize(3);
    Backend web2 = app.byName("web2");
    StickyFixture.down(web2);
    Set<String> moved = new HashSet<>();
    owner.forEach((key, server) -> {
      Pin pin = resolve(key);
      assertThat(pin.target()).as("the ring's owner, whatever its state").isSameAs(server);
      if (app.pinRefusal(server, System.nanoTime()) != null) { // the exchange then walks the ring
        Backend next = app.pickByHash(pin.hash(), new Attempts(3));
        assertThat(next).isNotSameAs(web2);
        moved.add(key);
      }
    });
    owner.values().removeIf(b -> b != web2);
    assertThat(moved).isEqualTo(owner.keySet());
  }

  @Test
  void aNewUsersIdIsKeptWhereItWasIssuedForASlidingLearnWindow() {
    Backend first = app.byName("web1");
    String id = keyNotOwnedBy(first);
    Pin none = resolve(null);
    assertThat(none).isSameAs(Pin.NONE); // a new user is balanced, to web1 say, which issues an id
    respond(none, first, setCookies("PHPSESSID=" + id + "; path=/"));
    for (int i = 0; i < 4; i++) {
      clock.advance(Duration.ofSeconds(20));
      assertThat(resolve(id).target()).as("active for %d seconds", 20 * (i + 1)).isSameAs(first);
    }
    clock.advance(Duration.ofSeconds(31));
    assertThat(resolve(id).target()).as("idle past learn_window: the ring").isSameAs(owner(id));
  }

  @Test
  void aKeyMovedByAFailoverStaysMovedWhileActiveThenFollowsTheRing() {
    Backend web2 = app.byName("web2");
    String key = keyOwnedBy(web2);
    StickyFixture.down(web2);
    Backend web3 = app.byName("web3");
    respond(resolve(key), web3, setCookies());
    StickyFixture.up(web2);
    clock.advance(Duration.ofSeconds(29));
    assertThat(resolve(key).target()).as("web2 is back: no bounce").isSameAs(web3);
    clock.advance(Duration.ofSeconds(31));
    assertThat(resolve(key).target()).isSameAs(web2);
  }

  @Test
  void aHitLearnsNothing() {
    String key = keyOwnedBy(app.byName("web1"));
    respond(resolve(key), app.byName("web1"), setCookies("PHPSESSID=" + key));
    respond(resolve(key), app.byName("web1"), setCookies());
    assertThat(sticky.learnedEntries()).isZero();
  }

  @Test
  void byHeaderTheBackendsCookiesAreNotKeysButFailoverMovesAreRemembered() {
    Upstream u = upstream("{mode: hash, key: \"header:X-User\", learn_window: 30s}", "web1", "web2", "web3");
    HashSticky s = new HashSticky(config(u), clock);
    Pin pin = s.resolve(request("/", "X-User", "u1"), u);
    Backend elsewhere = u.backends().stream().filter(b -> b != pin.target()).findFirst().orElseThrow();
    s.onResponse(pin, elsewhere, setCookies("PHPSESSID=u2"), MultiMap.caseInsensitiveMultiMap(), false);
    assertThat(s.learnedEntries()).isEqualTo(1);
    assertThat(s.resolve(request("/", "X-User", "u1"), u).target()).isSameAs(elsewhere);
  }

  private Pin resolve(String id) {
    return sticky.resolve(cookies(id == null ? null : "PHPSESSID=" + id), app);
  }

  private void respond(Pin pin, Backend servedBy, MultiMap upstreamHeaders) {
    MultiMap response = MultiMap.caseInsensitiveMultiMap();
    sticky.onResponse(pin, servedBy, upstreamHeaders, response, false);
    assertThat(response.isEmpty()).as("hash mode sets no cookie of its own").isTrue();
  }

  private Backend owner(String key) {
    return app.ringOwner(HashRing.hash(key));
  }

  private String keyOwnedBy(Backend b) {
    for (int k = 0; ; k++) {
      if (owner("key" + k) == b) {
        return "key" + k;
      }
    }
  }

  private String keyNotOwnedBy(Backend b) {
    for (int k = 0; ; k++) {
      if (owner("key" + k) != b) {
        return "key" + k;
      }
    }
  }
}
