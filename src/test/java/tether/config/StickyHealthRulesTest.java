package tether.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Per-mode sticky keys and cross-field rules, as a table: a snippet of {@code upstreams.app} (sticky, health,
 * passive, servers) -> the exact errors, with their lines, or none. The snippet starts at line 3.
 */
class StickyHealthRulesTest {

  private static final String SERVERS = "servers: [{name: web1, address: \"127.0.0.1:8101\"}]";

  private final ConfigLoader loader = new ConfigLoader(Map.<String, String>of()::get);

  private static Arguments row(String name, String snippet, String... errors) {
    return Arguments.of(name, snippet, List.of(errors));
  }

  static Stream<Arguments> rows() {
    return Stream.of(
        // the example: every foreign key is reported, each with its own line and its own mode
        row("issue example, block style", """
            sticky:
              mode: learn
              separator: "~"
              same_site: Strict
              max_idle: 1h
              key: ip
            """,
            "t.yaml:5: upstreams.app.sticky.separator: not a key of mode learn (it belongs to route)",
            "t.yaml:6: upstreams.app.sticky.same_site: not a key of mode learn (it belongs to cookie)",
            "t.yaml:7: upstreams.app.sticky.max_idle: not a key of mode learn (it belongs to cookie)",
            "t.yaml:8: upstreams.app.sticky.key: not a key of mode learn (it belongs to hash)"),
        row("issue example, flow style", """
            sticky: {mode: learn, separator: "~", same_site: Strict, max_idle: 1h, key: ip}
            """,
            "t.yaml:3: upstreams.app.sticky.separator: not a key of mode learn (it belongs to route)",
            "t.yaml:3: upstreams.app.sticky.same_site: not a key of mode learn (it belongs to cookie)",
            "t.yaml:3: upstreams.app.sticky.max_idle: not a key of mode learn (it belongs to cookie)",
            "t.yaml:3: upstreams.app.sticky.key: not a key of mode learn (it belongs to hash)"),

        // every mode with one foreign key
        row("cookie + ttl", """
            sticky:
              mode: cookie
              secret: s
              ttl: 10m
            """,
            "t.yaml:6: upstreams.app.sticky.ttl: not a key of mode cookie (it belongs to route and learn)"),
        row("cookie by default + max_entries", """
            sticky:
              max_entries: 10
            """,
            "t.yaml:4: upstreams.app.sticky.max_entries: not a key of mode cookie (it belongs to route, learn and"
                + " hash)"),
        row("route + secret", """
            sticky:
              mode: route
              secret: s
            """,
            "t.yaml:5: upstreams.app.sticky.secret: not a key of mode route (it belongs to cookie)"),
        row("learn + learn_window", """
            sticky:
              mode: learn
              learn_window: 30s
            """,
            "t.yaml:5: upstreams.app.sticky.learn_window: not a key of mode learn (it belongs to hash)"),
        row("hash + separator", """
            sticky:
              mode: hash
              separator: "."
            """,
            "t.yaml:5: upstreams.app.sticky.separator: not a key of mode hash (it belongs to route)"),
        row("none + cookie", """
            sticky:
              mode: none
              cookie: SID
            """,
            "t.yaml:5: upstreams.app.sticky.cookie: not a key of mode none (it belongs to cookie, route, learn"
                + " and hash)"),
        row("a key of no mode stays an unknown key", """
            sticky:
              mode: learn
              colour: red
            """,
            "t.yaml:5: upstreams.app.sticky.colour: unknown key"),
        row("a wrong mode is the only error", """
            sticky:
              mode: sticky
              separator: "~"
            """,
            "t.yaml:4: upstreams.app.sticky.mode: expected one of none | cookie | route | learn | hash, got"
                + " \"sticky\""),
        row("a server's route outside route mode", """
            sticky: {mode: cookie, secret: s}
            servers:
              - {name: web1, address: "127.0.0.1:8101", route: node1}
            """,
            "t.yaml:5: upstreams.app.servers[0].route: only sticky mode route reads it (this upstream's sticky"
                + " mode is cookie)"),

        // valid full configs of every mode
        row("none", "sticky: {mode: none}\n"),
        row("cookie, every key", """
            sticky:
              mode: cookie
              cookie: SRV
              secret: [new-key, old-key]
              max_idle: 30m
              max_life: 8h
              domain: .example.com
              max_age: 8h
              secure: always
              same_site: none
            """),
        row("route, every key, servers with routes", """
            sticky: {mode: route, cookie: JSESSIONID, separator: "~", path_param: sid, query_param: sid,
                     max_entries: 5000, ttl: 10m}
            servers:
              - {name: web1, address: "127.0.0.1:8101", route: node1}
              - {name: web2, address: "127.0.0.1:8102", route: node2}
            """),
        row("learn, every key", "sticky: {mode: learn, cookie: PHPSESSID, max_entries: 1000, ttl: 10m}\n"),
        row("hash, every key", "sticky: {mode: hash, key: \"header:X-User\", max_entries: 1000, learn_window: 1m}\n"),
        row("hash, cookie as shorthand for key", "sticky: {mode: hash, cookie: SID}\n"),
        row("health and passive, every key", """
            health: {path: /health, method: HEAD, interval: 2s, timeout: 2s, rise: 3, fall: 2,
                     expect_status: 200-299, expect_body: OK, host: app.internal, port: 8081, start_down: true}
            passive: {max_fails: 5, fail_window: 30s, eject_for: 30s, max_eject_for: 30s,
                      fail_statuses: [502, 503]}
            """),
        row("a short interval alone: the default timeout follows it", "health: {interval: 200ms}\n"),
        row("a long eject_for alone: the default max_eject_for follows it", "passive: {eject_for: 10m}\n"),
        row("max_fails 1 needs no fail_window", "passive: {max_fails: 1, fail_window: 0s}\n"),

        // cross-field contradictions
        row("health timeout longer than interval", """
            health:
              interval: 1s
              timeout: 2s
            """,
            "t.yaml:5: upstreams.app.health.timeout: 2s is longer than interval 1s (expected: timeout <="
                + " interval)"),
        row("health timeout longer than the default interval", "health: {timeout: 3s}\n",
            "t.yaml:3: upstreams.app.health.timeout: 3s is longer than interval 2s (expected: timeout <="
                + " interval)"),
        row("health interval 0", "health: {interval: 0s, timeout: 1s}\n",
            "t.yaml:3: upstreams.app.health.interval: must be more than 0"),
        row("health timeout 0", "health: {timeout: 0s}\n",
            "t.yaml:3: upstreams.app.health.timeout: must be more than 0"),
        row("health expect_status backwards", "health: {expect_status: 399-200}\n",
            "t.yaml:3: upstreams.app.health.expect_status: 399-200 is an empty range: no status would pass"
                + " (expected: low-high, like 200-399)"),
        row("passive max_eject_for shorter than eject_for", """
            passive:
              eject_for: 30s
              max_eject_for: 10s
            """,
            "t.yaml:5: upstreams.app.passive.max_eject_for: 10s is shorter than eject_for 30s (expected:"
                + " max_eject_for >= eject_for)"),
        row("passive fail_statuses outside 100-999", "passive: {fail_statuses: [503, 1500, 99, x]}\n",
            "t.yaml:3: upstreams.app.passive.fail_statuses: expected HTTP status codes (100-999), got \"1500\"",
            "t.yaml:3: upstreams.app.passive.fail_statuses: expected HTTP status codes (100-999), got \"99\"",
            "t.yaml:3: upstreams.app.passive.fail_statuses: expected HTTP status codes (100-999), got \"x\""),
        row("passive fail_window 0 with max_fails 3", "passive: {max_fails: 3, fail_window: 0s}\n",
            "t.yaml:3: upstreams.app.passive.fail_window: 0s never ejects with max_fails 3: every failure starts a"
                + " new window (expected: more than 0)"),
        row("cookie max_idle longer than max_life", """
            sticky:
              secret: s
              max_idle: 8h
              max_life: 1h
            """,
            "t.yaml:5: upstreams.app.sticky.max_idle: 8h is longer than max_life 1h (expected: max_idle <="
                + " max_life, or max_idle would never apply)"),
        row("cookie same_site none with secure never", """
            sticky:
              secret: s
              secure: never
              same_site: none
            """,
            "t.yaml:6: upstreams.app.sticky.same_site: none needs the Secure attribute and secure is never, so"
                + " the cookie would always go out as Lax (expected: secure auto | always, or same_site lax |"
                + " strict)"),
        row("route separator empty", "sticky: {mode: route, separator: \"\"}\n",
            "t.yaml:3: upstreams.app.sticky.separator: must not be empty"),
        row("hash cookie and key together", """
            sticky:
              mode: hash
              cookie: SID
              key: ip
            """,
            "t.yaml:5: upstreams.app.sticky.cookie: give the hashed cookie once, as key: \"cookie:NAME\" (key is"
                + " also set)"),
        row("store address without port", "sticky: {mode: learn, store: {memcached: [\"mc1:11211\", mc2]}}\n",
            "t.yaml:3: upstreams.app.sticky.store.memcached[1]: expected host:port, got \"mc2\""),
        row("store without memcached", "sticky: {mode: learn, store: {timeout: 20ms}}\n",
            "t.yaml:3: upstreams.app.sticky.store.memcached: no memcached server (expected: store: {memcached:"
                + " [\"host:port\", ...]})"),
        row("store timeout too long", "sticky: {mode: hash, store: {memcached: [\"mc:11211\"], timeout: 2s}}\n",
            "t.yaml:3: upstreams.app.sticky.store.timeout: 2s (expected: 1ms..1s; requests wait this long for the"
                + " store)"),
        row("store in mode cookie", "sticky: {secret: s, store: {memcached: [\"mc:11211\"]}}\n",
            "t.yaml:3: upstreams.app.sticky.store: not a key of mode cookie (it belongs to learn and hash)"),
        row("hash key without a name", "sticky: {mode: hash, key: \"header:\"}\n",
            "t.yaml:3: upstreams.app.sticky.key: a header name is needed (expected: cookie:NAME, header:NAME or"
                + " ip)"),
        row("every contradiction at once, in file order", """
            health: {interval: 1s, timeout: 5s, expect_status: 500-200}
            passive: {eject_for: 1m, max_eject_for: 30s}
            sticky: {mode: route, secret: s, max_idle: 1m}
            """,
            "t.yaml:3: upstreams.app.health.timeout: 5s is longer than interval 1s (expected: timeout <="
                + " interval)",
            "t.yaml:3: upstreams.app.health.expect_status: 500-200 is an empty range: no status would pass"
                + " (expected: low-high, like 200-399)",
            "t.yaml:4: upstreams.app.passive.max_eject_for: 30s is shorter than eject_for 1m (expected:"
                + " max_eject_for >= eject_for)",
            "t.yaml:5: upstreams.app.sticky.secret: not a key of mode route (it belongs to cookie)",
            "t.yaml:5: upstreams.app.sticky.max_idle: not a key of mode route (it belongs to cookie)"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rows")
  void snippet(String name, String snippet, List<String> expected) {
    assertThat(errors(snippet)).containsExactlyElementsOf(expected);
  }

  @Test
  void eachModeBindsToItsOwnRecord() throws Exception {
    assertThat(sticky("{mode: none}")).isSameAs(StickyConfig.NONE);
    assertThat(sticky("{mode: cookie, cookie: SRV, secret: [k1, k2], max_idle: 30m, max_life: 8h,"
        + " domain: .example.com, max_age: 1h, secure: always, same_site: strict}"))
        .isEqualTo(new StickyConfig.Cookie("SRV", List.of("k1", "k2"), false, Duration.ofMinutes(30),
            Duration.ofHours(8), ".example.com", Duration.ofHours(1), StickyConfig.Secure.ALWAYS,
            StickyConfig.SameSite.STRICT));
    assertThat(sticky("{mode: route}")).isEqualTo(new StickyConfig.Route("JSESSIONID", ".", "jsessionid",
        "jsessionid", 100_000, Duration.ofMinutes(30)));
    assertThat(sticky("{mode: learn, max_entries: 10, ttl: 1m}"))
        .isEqualTo(new StickyConfig.Learn("PHPSESSID", 10, Duration.ofMinutes(1)));
    assertThat(sticky("{mode: hash}")).isEqualTo(new StickyConfig.Hash(StickyConfig.HashKey.COOKIE, "PHPSESSID",
        100_000, Duration.ofSeconds(30)));
    assertThat(sticky("{mode: hash, cookie: SID}")).isEqualTo(new StickyConfig.Hash(StickyConfig.HashKey.COOKIE,
        "SID", 100_000, Duration.ofSeconds(30)));
    assertThat(sticky("{mode: hash, key: ip}")).isEqualTo(new StickyConfig.Hash(StickyConfig.HashKey.IP, null,
        100_000, Duration.ofSeconds(30)));
    StickyConfig.Store store = new StickyConfig.Store(List.of("mc1:11211", "10.0.0.7:11211"), Duration.ofMillis(20),
        Duration.ofSeconds(10));
    assertThat(sticky("{mode: learn, store: {memcached: [mc1:11211, \"10.0.0.7:11211\"], timeout: 20ms,"
        + " recheck: 10s}}")).isEqualTo(new StickyConfig.Learn("PHPSESSID", 100_000, Duration.ofMinutes(30), store));
    assertThat(((StickyConfig.Hash) sticky("{mode: hash, store: {memcached: mc1:11211}}")).store())
        .isEqualTo(new StickyConfig.Store(List.of("mc1:11211"), Duration.ofMillis(30), Duration.ofSeconds(5)));
    assertThat(((StickyConfig.Learn) sticky("{mode: learn, store: {memcached: [\"${MC:-}\"]}}")).store())
        .as("no address left: the table stays local").isNull();
  }

  @Test
  void theKeyTableCoversEveryKeyAModeReads() {
    assertThat(StickyConfig.Mode.NONE.keys()).isEmpty();
    assertThat(StickyConfig.Mode.COOKIE.keys()).containsExactlyInAnyOrder("cookie", "secret", "max_idle",
        "max_life", "domain", "max_age", "secure", "same_site");
    assertThat(StickyConfig.Mode.ROUTE.keys()).isEqualTo(Set.of("cookie", "separator", "path_param",
        "query_param", "max_entries", "ttl"));
    assertThat(StickyConfig.Mode.LEARN.keys()).isEqualTo(Set.of("cookie", "max_entries", "ttl", "store"));
    assertThat(StickyConfig.Mode.HASH.keys()).isEqualTo(Set.of("key", "cookie", "max_entries", "learn_window",
        "store"));
  }

  @Test
  void defaultsFollowTheKeysGiven() throws Exception {
    UpstreamConfig app = parse("health: {interval: 200ms}\npassive: {eject_for: 10m}\n");
    assertThat(app.health().timeout()).isEqualTo(Duration.ofMillis(200));
    assertThat(app.passive().maxEjectFor()).isEqualTo(Duration.ofMinutes(10));
    UpstreamConfig plain = parse("health: {}\n");
    assertThat(plain.health().timeout()).isEqualTo(Duration.ofSeconds(1));
    assertThat(plain.passive().maxEjectFor()).isEqualTo(Duration.ofMinutes(5));
  }

  private StickyConfig sticky(String flow) throws ConfigException {
    return parse("sticky: " + flow + "\n").sticky();
  }

  private UpstreamConfig parse(String snippet) throws ConfigException {
    return loader.parse("t.yaml", yaml(snippet)).upstreams().get("app");
  }

  private List<String> errors(String snippet) {
    try {
      loader.parse("t.yaml", yaml(snippet));
      return List.of();
    } catch (ConfigException e) {
      return e.errors();
    }
  }

  private static String yaml(String snippet) {
    StringBuilder y = new StringBuilder("upstreams:\n  app:\n");
    snippet.lines().forEach(l -> y.append("    ").append(l).append('\n'));
    if (!snippet.contains("servers:")) {
      y.append("    ").append(SERVERS).append('\n');
    }
    return y.toString();
  }
}
