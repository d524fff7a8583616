package tether.sticky;

import static org.assertj.core.api.Assertions.assertThat;
import static tether.sticky.StickyFixture.config;
import static tether.sticky.StickyFixture.cookies;
import static tether.sticky.StickyFixture.server;
import static tether.sticky.StickyFixture.upstream;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import tether.sticky.StickyFixture.Clock;
import tether.upstream.AdminState;
import tether.upstream.Backend;
import tether.upstream.Upstream;

/**
 * Mode {@code cookie} without sockets: (Cookie headers, servers) -> pin or why it is refused; (pin, server that
 * served, https) -> the Set-Cookie Tether adds. Time is {@link Clock}: {@code max_idle: 1h} refreshes after 15m.
 */
class CookieModeTest {

  private static final long NOW = Clock.EPOCH_SECONDS;
  private static final long MIN = 60;
  private static final long HOUR = 3600;
  private static final SignedCookie K1 = new SignedCookie(List.of("k1"));
  private static final SignedCookie K0 = new SignedCookie(List.of("k0"));
  private static final String STICKY = "{mode: cookie, cookie: TETHER, secret: [k1, k0], max_idle: 1h, max_life: 8h";

  private final Clock clock = new Clock();
  private final Upstream app = upstream(STICKY + "}", "web1", "web2", "web3");
  private final CookieSticky sticky = new CookieSticky(config(app), clock);

  private static Arguments row(String what, String cookieHeaders, String target, String invalid) {
    return Arguments.of(what, cookieHeaders, target, invalid);
  }

  private static String web(int n, long issuedAgo, long seenAgo) {
    return K1.encode("web" + n, NOW - issuedAgo, NOW - seenAgo);
  }

  static Stream<Arguments> requests() {
    String web2 = web(2, 0, 0);
    String unknown = web(9, 0, 0);
    String b64web1 = Base64.getUrlEncoder().withoutPadding().encodeToString("web1".getBytes(StandardCharsets.UTF_8));
    return Stream.of(
        row("no cookie", null, null, null),
        row("other cookies only", "app=1; b=2", null, null),
        row("valid", "TETHER=" + web2, "web2", null),
        row("among other cookies", "app=1; TETHER=" + web2 + "; b=2", "web2", null),
        row("in a second Cookie header (HTTP/2)", "app=1\nTETHER=" + web2, "web2", null),
        row("quoted", "TETHER=\"" + web2 + "\"", "web2", null),
        row("signed with the old key (rotation)", "TETHER=" + K0.encode("web2", NOW, NOW), "web2", null),
        row("signed with a key not configured", "TETHER=" + new SignedCookie(List.of("k9")).encode("web2", NOW, NOW),
            null, "bad_signature"),
        row("server swapped under the mac", "TETHER=" + web2.replaceFirst("^[^.]+", b64web1), null, "bad_signature"),
        row("times changed under the mac", "TETHER=" + web2.replaceFirst("\\.[^.]+\\.", ".0."), null, "bad_signature"),
        row("garbage", "TETHER=garbage", null, "bad_signature"),
        row("empty", "TETHER=", null, "bad_signature"),
        row("five parts, unknown key", "TETHER=a.b.c.d.e", null, "bad_signature"),
        row("oversized", "TETHER=" + "x".repeat(10_000), null, "bad_signature"),
        row("unknown server", "TETHER=" + unknown, null, "unknown_server"),
        row("issued 7h59m ago, seen now", "TETHER=" + web(2, 8 * HOUR - MIN, 0), "web2", null),
        row("issued 8h01m ago (max_life)", "TETHER=" + web(2, 8 * HOUR + MIN, 0), null, "expired"),
        row("seen 59m ago", "TETHER=" + web(2, HOUR, 59 * MIN), "web2", null),
        row("seen 61m ago (max_idle)", "TETHER=" + web(2, 2 * HOUR, 61 * MIN), null, "expired"),
        row("duplicated: the first valid one wins", "TETHER=garbage; TETHER=" + web(3, 0, 0), "web3", null),
        row("duplicated, both valid: the first", "TETHER=" + web(3, 0, 0) + "; TETHER=" + web2, "web3", null),
        row("duplicated, none valid: the first problem", "TETHER=" + unknown + "; TETHER=garbage", null,
            "unknown_server"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("requests")
  void resolve(String what, String cookieHeaders, String target, String invalid) {
    Pin pin = sticky.resolve(cookies(cookieHeaders == null ? new String[0] : cookieHeaders.split("\n")), app);
    assertThat(server(pin)).isEqualTo(target);
    assertThat(pin.invalid()).isEqualTo(invalid);
    assertThat(pin.hash()).isZero();
    if (target != null) {
      assertThat(pin.userKey()).as("the cookie identifies the user").isNotNull();
    }
  }

  /** The pin's cookie, the server that served -> the cookie's server, issue and last-seen times (ago), or none. */
  @ParameterizedTest(name = "{0}: pinned {1}, served by {2} -> {3}")
  @CsvSource(nullValues = "-", value = {
      "new user,                 -,                 web1, 'web1, 0, 0'",
      "bad cookie,               garbage,           web3, 'web3, 0, 0'",
      "expired cookie,           'web2, 9h, 0',     web1, 'web1, 0, 0'",
      "hit seen 10m ago,         'web2, 2h, 10m',   web2, -",              // fresh: no Set-Cookie every response
      "hit seen 14m ago,         'web2, 2h, 14m',   web2, -",
      "hit seen 16m ago,         'web2, 2h, 16m',   web2, 'web2, 2h, 0'",  // refreshed, issue time kept
      "failover,                 'web2, 2h, 16m',   web3, 'web3, 0, 0'",   // re-pinned where it was served
      "failover of a fresh pin,  'web2, 0, 0',      web1, 'web1, 0, 0'",
  })
  void onResponse(String what, String pinned, String servedBy, String expected) {
    Pin pin = sticky.resolve(cookies(pinned == null ? null : "TETHER=" + cookie(pinned)), app);
    MultiMap response = MultiMap.caseInsensitiveMultiMap();
    sticky.onResponse(pin, app.byName(servedBy), MultiMap.caseInsensitiveMultiMap(), response, false);
    List<String> set = response.getAll(HttpHeaders.SET_COOKIE);
    if (expected == null) {
      assertThat(set).isEmpty();
      return;
    }
    assertThat(set).hasSize(1);
    String value = set.get(0).substring("TETHER=".length(), set.get(0).indexOf(';'));
    SignedCookie.Value v = decode(K1, value); // signed with the first secret
    String[] e = expected.split(", ");
    assertThat(v).isEqualTo(new SignedCookie.Value(e[0], NOW - seconds(e[1]), NOW - seconds(e[2])));
    assertThat(sticky.resolve(cookies("TETHER=" + value), app).target().name()).as("it pins where it says")
        .isEqualTo(servedBy);
  }

  /** {@code "web2, 2h, 16m"}: server, issued and last seen that long ago. */
  private static String cookie(String spec) {
    String[] p = spec.split(", ");
    return p.length == 1 ? p[0] : K1.encode(p[0], NOW - seconds(p[1]), NOW - seconds(p[2]));
  }

  private static long seconds(String ago) {
    return ago.equals("0") ? 0 : Duration.parse("PT" + ago.toUpperCase()).toSeconds();
  }

  private static SignedCookie.Value decode(SignedCookie signer, String value) {
    try {
      return signer.decode(value);
    } catch (SignedCookie.Invalid e) {
      throw new AssertionError(e.getMessage());
    }
  }

  @Test
  void withoutMaxIdleAHitIsNeverRefreshed() {
    Upstream plain = upstream("{mode: cookie, secret: [k1]}", "web1", "web2");
    CookieSticky s = new CookieSticky(config(plain), clock);
    Pin pin = s.resolve(cookies("TETHER=" + web(2, 30 * 24 * HOUR, 30 * 24 * HOUR)), plain);
    assertThat(pin.target().name()).isEqualTo("web2");
    MultiMap response = MultiMap.caseInsensitiveMultiMap();
    s.onResponse(pin, pin.target(), MultiMap.caseInsensitiveMultiMap(), response, true);
    assertThat(response.isEmpty()).isTrue();
  }

  @Test
  void maxIdleSlidesWhileTheUserKeepsComingAndMaxLifeEndsItAnyway() {
    Backend web2 = app.byName("web2");
    Pin pin = Pin.NONE;
    String cookie = null;
    for (int visit = 1; visit <= 24; visit++) { // every 20 minutes for 8 hours: each response refreshes it
      MultiMap response = MultiMap.caseInsensitiveMultiMap();
      sticky.onResponse(pin, web2, MultiMap.caseInsensitiveMultiMap(), response, false);
      String set = response.get(HttpHeaders.SET_COOKIE);
      assertThat(set).as("visit %d", visit).isNotNull();
      cookie = set.substring(0, set.indexOf(';'));
      clock.advance(Duration.ofMinutes(20));
      pin = sticky.resolve(cookies(cookie), app);
      assertThat(pin.target()).as("visit %d", visit).isEqualTo(web2);
    }
    clock.advance(Duration.ofMinutes(20));
    assertThat(sticky.resolve(cookies(cookie), app).invalid()).as("8h20m after its first issue").isEqualTo("expired");
  }

  /** Extra cookie keys, https -> the attributes after the value. */
  @ParameterizedTest(name = "{0}, https {1}")
  @CsvSource(delimiter = '|', value = {
      "''                     | false | ; Path=/; HttpOnly; SameSite=Lax",
      "''                     | true  | ; Path=/; HttpOnly; Secure; SameSite=Lax",
      "secure: always         | false | ; Path=/; HttpOnly; Secure; SameSite=Lax",
      "secure: never          | true  | ; Path=/; HttpOnly; SameSite=Lax",
      "same_site: strict      | false | ; Path=/; HttpOnly; SameSite=Strict",
      "same_site: none        | true  | ; Path=/; HttpOnly; Secure; SameSite=None",
      "same_site: none        | false | ; Path=/; HttpOnly; SameSite=Lax", // browsers drop None without Secure
      "domain: .example.com   | false | ; Path=/; HttpOnly; Domain=.example.com; SameSite=Lax",
      "max_age: 8h            | false | ; Path=/; HttpOnly; Max-Age=28800; SameSite=Lax",
  })
  void attributes(String keys, boolean https, String attributes) {
    Upstream u = upstream("{mode: cookie, secret: [k1]" + (keys.isEmpty() ? "" : ", " + keys) + "}", "web1");
    MultiMap response = MultiMap.caseInsensitiveMultiMap();
    new CookieSticky(config(u), clock).onResponse(Pin.NONE, u.byName("web1"), MultiMap.caseInsensitiveMultiMap(),
        response, https);
    String set = response.get(HttpHeaders.SET_COOKIE);
    assertThat(set).matches("TETHER=[A-Za-z0-9_.-]+;.*").doesNotContain("127.0.0.1");
    assertThat(set.substring(set.indexOf(';'))).isEqualTo(attributes);
  }

  /** One value (the same server, the same second) over HTTP, HTTPS, HTTP: each line gets its own attributes. */
  @Test
  void theSameValueOverHttpAndHttpsGetsTheAttributesOfEach() {
    Backend web1 = app.byName("web1");
    List<String> lines = new ArrayList<>();
    for (boolean https : new boolean[] {false, true, false, true}) {
      MultiMap response = MultiMap.caseInsensitiveMultiMap();
      sticky.onResponse(Pin.NONE, web1, MultiMap.caseInsensitiveMultiMap(), response, https);
      lines.add(response.get(HttpHeaders.SET_COOKIE));
    }
    String value = lines.get(0).substring(0, lines.get(0).indexOf(';'));
    assertThat(lines).allMatch(l -> l.startsWith(value + ";"), "one value");
    assertThat(lines).extracting(l -> l.contains("; Secure")).containsExactly(false, true, false, true);
  }

  @Test
  void anotherInstanceWithTheSameSecretsAcceptsTheCookie() {
    MultiMap response = MultiMap.caseInsensitiveMultiMap();
    sticky.onResponse(Pin.NONE, app.byName("web3"), MultiMap.caseInsensitiveMultiMap(), response, false);
    String set = response.get(HttpHeaders.SET_COOKIE);
    Upstream elsewhere = upstream(STICKY + "}", "web1", "web2", "web3");
    Pin pin = new CookieSticky(config(elsewhere), clock).resolve(cookies(set.substring(0, set.indexOf(';'))),
        elsewhere);
    assertThat(pin.target()).isSameAs(elsewhere.byName("web3"));
  }

  /** Cookie headers forwarded to the backend: Tether's own cookie is removed, the app's are kept. */
  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(nullValues = "-", delimiter = '|', value = {
      "a=1; TETHER=x; b=2     | a=1; b=2",
      "TETHER=x               | -",
      "TETHER=x; TETHER=y     | -",
      "a=1                    | a=1",
      "XTETHER=1; TETHER2=2   | XTETHER=1; TETHER2=2",
      "a=1;TETHER=x;b=2       | a=1; b=2",
      "a=1 ;  TETHER=x  ; b=2 | a=1; b=2",
      "TETHER =x; a=1         | a=1", // named as the pin is read: not forwarded either
      "a=1; TETHER=x;         | a=1",
      "a=1; TETHER            | a=1; TETHER", // no value: not the cookie
      "a=1;;b=2               | a=1;;b=2", // nothing stripped: left as it came
  })
  void theCookieNeverReachesTheBackend(String cookie, String forwarded) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap().add(HttpHeaders.COOKIE, cookie);
    Cookies.strip(headers, sticky.ownCookie());
    assertThat(headers.get(HttpHeaders.COOKIE)).isEqualTo(forwarded);
  }

  /**
   * The pin names its server whatever the server's state: whether the user may stay is the upstream's answer,
   * and a refusal re-pins it (the exchange then serves it elsewhere and {@link #onResponse} re-issues the cookie).
   */
  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(nullValues = "-", value = {
      "active,                 -",
      "drain,                  -",              // pinned users keep reaching a draining server
      "drain past its deadline, drain_deadline",
      "disabled,               disabled",
      "down,                   down",
      "backup,                 backup_handback", // a backup holds users only while no primary can
  })
  void aPinNamesItsServerInEveryStateAndTheUpstreamSaysWhetherItMayStay(String state, String refusal) {
    Upstream u = upstream(STICKY + "}", "web1", "web2", "web3, backup: true");
    Backend pinned = u.byName(state.equals("backup") ? "web3" : "web2");
    switch (state) {
      case "drain" -> pinned.admin(AdminState.DRAIN, 0, "test");
      case "drain past its deadline" -> pinned.admin(AdminState.DRAIN, System.nanoTime() - 1, "test");
      case "disabled" -> pinned.admin(AdminState.DISABLED, 0, "test");
      case "down" -> StickyFixture.down(pinned);
      default -> { }
    }
    String cookie = "TETHER=" + K1.encode(pinned.name(), NOW, NOW);
    Pin pin = new CookieSticky(config(u), clock).resolve(cookies(cookie), u);
    assertThat(pin.target()).isSameAs(pinned);
    assertThat(pin.invalid()).isNull();
    assertThat(u.pinRefusal(pinned, System.nanoTime())).isEqualTo(refusal);
  }
}
