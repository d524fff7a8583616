package tether.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * How a config is written, as two tables: ${VAR} substitution, durations, listeners and routes that cannot work,
 * "did you mean" for unknown keys, x- keys and merge keys. Each row: a YAML file (+ environment) -> the exact errors
 * with their lines, or the bound value. {@link #UP} is line 1 of most rows.
 */
class ConfigSyntaxTest {

  private static final String UP = "upstreams: {app: {servers: [{name: a, address: \"127.0.0.1:1\"}]}}\n";

  private static Arguments error(String name, Map<String, String> env, String yaml, String... errors) {
    return Arguments.of(name, env, yaml, List.of(errors));
  }

  private static Arguments value(String name, Map<String, String> env, String yaml,
                                 Function<TetherConfig, Object> get, Object expected) {
    return Arguments.of(name, env, yaml, get, expected);
  }

  private static Object sticky(TetherConfig c) {
    return c.upstreams().get("app").sticky();
  }

  private static Object server(TetherConfig c) {
    return c.upstreams().get("app").servers().get(0);
  }

  static Stream<Arguments> errors() {
    return Stream.of(
        // ${VAR}: an unset variable without a default is an error naming it, in every scalar
        error("unset variable", Map.of(), UP + "workers: ${WORKERS}\n",
            "t.yaml:2: workers: variable WORKERS is not set (expected: set it, or give a default:"
                + " ${WORKERS:-default})"),
        error("two unset in one value", Map.of(), UP + "admin: {token: \"${A}-${B}\"}\n",
            "t.yaml:2: admin.token: variables A, B are not set (expected: set them, or give defaults: ${A:-default})"),
        error("unset in a server address", Map.of(), """
            upstreams:
              app:
                servers:
                  - name: web1
                    address: ${WEB1_ADDR}
            """,
            "t.yaml:5: upstreams.app.servers[0].address: variable WEB1_ADDR is not set (expected: set it, or give a"
                + " default: ${WEB1_ADDR:-default})"),
        error("unset in a list item, at its line", Map.of(), UP + """
            trusted_proxies:
              - 10.0.0.0/8
              - ${EXTRA_PROXY}
            """,
            "t.yaml:4: trusted_proxies[1]: variable EXTRA_PROXY is not set (expected: set it, or give a default:"
                + " ${EXTRA_PROXY:-default})"),
        // the README's key-rotation example without TETHER_KEY_NEW: an error, not a generated secret
        error("rotation with the new key unset", Map.of(), """
            upstreams:
              app:
                servers: [{name: a, address: "127.0.0.1:1"}]
                sticky:
                  secret: ["${TETHER_KEY_NEW}", "${TETHER_KEY_OLD:-}"]
            """,
            "t.yaml:5: upstreams.app.sticky.secret[0]: variable TETHER_KEY_NEW is not set (expected: set it, or give a"
                + " default: ${TETHER_KEY_NEW:-default})",
            "t.yaml:5: upstreams.app.sticky.secret: at least one secret is needed to sign the cookie"),
        error("secrets that are all empty", Map.of("K", ""), """
            upstreams:
              app:
                servers: [{name: a, address: "127.0.0.1:1"}]
                sticky: {secret: ["${K}", "${J:-}"]}
            """,
            "t.yaml:4: upstreams.app.sticky.secret: at least one secret is needed to sign the cookie"),
        error("substituted, then parsed", Map.of("PORT", "http"), "listen: [{port: \"${PORT}\"}]\n" + UP,
            "t.yaml:1: listen[0].port: expected a whole number, got \"http\""),
        error("not a variable name", Map.of(), UP + "access_log: {path: \"${1LOG}\"}\n",
            "t.yaml:2: access_log.path: ${1LOG}: not a variable name (expected: ${NAME} or ${NAME:-default}, NAME of"
                + " letters, digits and _; $${ for a literal ${)"),
        error("compose's ${VAR-default} is not taken", Map.of(), UP + "access_log: {path: \"${LOG-x}\"}\n",
            "t.yaml:2: access_log.path: ${LOG-x}: not a variable name (expected: ${NAME} or ${NAME:-default}, NAME of"
                + " letters, digits and _; $${ for a literal ${)"),
        error("unclosed", Map.of(), UP + "access_log: {path: \"/var/${LOG\"}\n",
            "t.yaml:2: access_log.path: \"/var/${LOG\": ${ is not closed by } (expected: ${NAME} or ${NAME:-default};"
                + " $${ for a literal ${)"),

        // durations
        error("finer than a millisecond", Map.of(), UP + "timeouts: {connect: 1.0005s}\n",
            "t.yaml:2: timeouts.connect: expected whole milliseconds, got \"1.0005s\" (1000.5ms)"),
        error("a number without unit", Map.of(), UP + "timeouts: {connect: 1m30}\n",
            "t.yaml:2: timeouts.connect: expected a duration like 500ms, 2s, 1.5s, 1m30s or 1h, got \"1m30\""),
        error("words", Map.of(), UP + "shutdown_timeout: 1 minute\n",
            "t.yaml:2: shutdown_timeout: expected a duration like 500ms, 2s, 1.5s, 1m30s or 1h, got \"1 minute\""),

        // listeners and routes that cannot work
        error("listen: []", Map.of(), UP + "listen: []\n",
            "t.yaml:2: listen: no listener (expected: at least one address and port, or no listen key for"
                + " 0.0.0.0:8080)"),
        error("the same listener twice", Map.of(), UP + """
            listen:
              - {address: 0.0.0.0, port: 8080}
              - {address: 127.0.0.1, port: 8081}
              - {address: 0.0.0.0, port: 8080}
            """,
            "t.yaml:5: listen[2]: 0.0.0.0:8080 is listed twice (listen[0] is 0.0.0.0:8080)"),
        error("a wildcard overlaps an address on the same port", Map.of(), UP + """
            listen:
              - {address: 127.0.0.1, port: 8080}
              - {address: "::", port: 8080}
            """,
            "t.yaml:4: listen[1]: :::8080 overlaps (listen[0] is 127.0.0.1:8080)"),
        error("admin on a proxy port", Map.of(), UP + """
            listen: [{address: 0.0.0.0, port: 9000}]
            admin: {address: 127.0.0.1, port: 9000}
            """,
            "t.yaml:2: listen[0]: 0.0.0.0:9000 is also the admin listener's (admin is 127.0.0.1:9000; expected: the"
                + " admin listener on a port of its own)"),
        error("a listener listed twice is reported once", Map.of(), UP + """
            listen: [{address: 0.0.0.0, port: 9000}, {address: 0.0.0.0, port: 9000}]
            admin: {port: 9000}
            """,
            "t.yaml:2: listen[0]: 0.0.0.0:9000 is also the admin listener's (admin is 127.0.0.1:9000; expected: the"
                + " admin listener on a port of its own)",
            "t.yaml:2: listen[1]: 0.0.0.0:9000 is listed twice (listen[0] is 0.0.0.0:9000)"),
        error("admin on the default proxy port", Map.of(), UP + "admin: {port: 8080}\n",
            "t.yaml:2: admin: 127.0.0.1:8080 is also the proxy listener's (with no listen key, it is 0.0.0.0:8080;"
                + " expected: the admin listener on a port of its own)"),
        error("routes: []", Map.of(), UP + "routes: []\n",
            "t.yaml:2: routes: no route: every request would get 404 (expected: at least one route, or no routes key"
                + " to send everything to the only upstream)"),

        // unknown keys: the nearest known key, when one is near
        error("did you mean, at the top", Map.of(), UP + "shutdown_timout: 5s\n",
            "t.yaml:2: shutdown_timout: unknown key (did you mean shutdown_timeout?)"),
        error("did you mean, nested", Map.of(), """
            upstreams:
              app:
                servers: [{name: a, adress: "127.0.0.1:1"}]
                helth: {path: /h}
                sticky: {mode: learn, ttL: 1m}
            timeouts: {conect: 1s, response-header: 5s}
            """,
            "t.yaml:3: upstreams.app.servers[0]: missing required key \"address\"",
            "t.yaml:3: upstreams.app.servers[0].adress: unknown key (did you mean address?)",
            "t.yaml:4: upstreams.app.helth: unknown key (did you mean health?)",
            "t.yaml:5: upstreams.app.sticky.ttL: unknown key (did you mean ttl?)",
            "t.yaml:6: timeouts.conect: unknown key (did you mean connect?)",
            "t.yaml:6: timeouts.response-header: unknown key (did you mean response_header?)"),
        error("nothing near: no suggestion", Map.of(), UP + "colour: blue\n",
            "t.yaml:2: colour: unknown key"),
        error("a key given is not suggested again", Map.of(), UP + "timeouts: {idle: 1s, idel: 2s}\n",
            "t.yaml:2: timeouts.idel: unknown key"),

        // anchors and merge keys: an error in merged values is reported where the value is written
        error("merged value, at the anchor's line", Map.of(), UP + """
            x-timeouts: &t
              connect: soon
            timeouts:
              <<: *t
              idle: 1m
            """,
            "t.yaml:3: timeouts.connect: expected a duration like 500ms, 2s, 1.5s, 1m30s or 1h, got \"soon\""),
        error("x- keys are ignored, other keys are not", Map.of(), UP + "x-ok: 1\nX-no: 1\n",
            "t.yaml:3: X-no: unknown key"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("errors")
  void reportsExactly(String name, Map<String, String> env, String yaml, List<String> expected) {
    assertThatThrownBy(() -> new ConfigLoader(env::get).parse("t.yaml", yaml))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.errors()).containsExactlyElementsOf(expected));
  }

  static Stream<Arguments> values() {
    Map<String, String> keys = Map.of("TETHER_KEY_NEW", "k2");
    return Stream.of(
        value("${VAR} set", Map.of("WORKERS", "3"), UP + "workers: ${WORKERS}\n", TetherConfig::workers, 3),
        value("${VAR:-default}, unset", Map.of(), UP + "workers: ${WORKERS:-2}\n", TetherConfig::workers, 2),
        value("${VAR:-default}, empty", Map.of("WORKERS", ""), UP + "workers: ${WORKERS:-2}\n",
            TetherConfig::workers, 2),
        value("${VAR:-default}, set", Map.of("WORKERS", "4"), UP + "workers: ${WORKERS:-2}\n",
            TetherConfig::workers, 4),
        value("inside a value", Map.of("HOST", "web9"), """
            upstreams: {app: {servers: [{name: a, address: "${HOST}:8080"}]}}
            """, c -> ((ServerConfig) server(c)).host(), "web9"),
        value("a default with a colon", Map.of(), """
            upstreams: {app: {servers: [{name: a, address: "${WEB:-127.0.0.1:81}"}]}}
            """, c -> ((ServerConfig) server(c)).port(), 81),
        value("$${ is a literal ${", Map.of(), UP + "access_log: {path: \"/log/$${HOME}/a\"}\n",
            c -> c.accessLog().path(), "/log/${HOME}/a"),
        value("any other $ stands", Map.of(), UP + "access_log: {path: \"/log/$HOME/pa$$word$\"}\n",
            c -> c.accessLog().path(), "/log/$HOME/pa$$word$"),
        value("a value is not expanded again", Map.of("P", "${OTHER}"), UP + "access_log: {path: \"${P}\"}\n",
            c -> c.accessLog().path(), "${OTHER}"),
        value("key rotation: the old key optional", keys, """
            upstreams:
              app:
                servers: [{name: a, address: "127.0.0.1:1"}]
                sticky: {secret: ["${TETHER_KEY_NEW}", "${TETHER_KEY_OLD:-}"]}
            """, c -> ((StickyConfig.Cookie) sticky(c)).secrets(), List.of("k2")),
        value("key rotation: both keys", Map.of("TETHER_KEY_NEW", "k2", "TETHER_KEY_OLD", "k1"), """
            upstreams:
              app:
                servers: [{name: a, address: "127.0.0.1:1"}]
                sticky: {secret: ["${TETHER_KEY_NEW}", "${TETHER_KEY_OLD:-}"]}
            """, c -> ((StickyConfig.Cookie) sticky(c)).secretGenerated() + " " + ((StickyConfig.Cookie) sticky(c))
            .secrets(), "false [k2, k1]"),
        value("admin token from TETHER_ADMIN_TOKEN", Map.of("TETHER_ADMIN_TOKEN", "t0"), UP,
            c -> c.admin().token(), "t0"),
        value("admin token empty is none", Map.of(), UP + "admin: {token: \"${T:-}\"}\n",
            c -> String.valueOf(c.admin().token()), "null"),

        // durations
        value("1m30s", Map.of(), UP + "shutdown_timeout: 1m30s\n", TetherConfig::shutdownTimeout,
            Duration.ofSeconds(90)),
        value("1.5s", Map.of(), UP + "timeouts: {connect: 1.5s}\n", c -> c.timeouts().connect(),
            Duration.ofMillis(1500)),
        value("1h15m", Map.of(), UP + "shutdown_timeout: 1h15m\n", TetherConfig::shutdownTimeout,
            Duration.ofMinutes(75)),
        value("0.25s", Map.of(), UP + "resolve: 0.25s\n", TetherConfig::resolve, Duration.ofMillis(250)),
        value("1m0.5s", Map.of(), UP + "resolve: 1m0.5s\n", TetherConfig::resolve, Duration.ofMillis(60_500)),
        value("a duration from a variable", Map.of("GRACE", "45s"), UP + "shutdown_timeout: ${GRACE:-30s}\n",
            TetherConfig::shutdownTimeout, Duration.ofSeconds(45)),

        // listeners that can work
        value("port 0 twice: two free ports", Map.of(), UP + """
            listen: [{address: 127.0.0.1, port: 0}, {address: 127.0.0.1, port: 0}]
            admin: {address: 127.0.0.1, port: 0}
            """, c -> c.listen().size(), 2),
        value("two addresses, one port", Map.of(), UP + """
            listen: [{address: 127.0.0.1, port: 8080}, {address: 127.0.0.2, port: 8080}]
            admin: {address: 127.0.0.3, port: 8080}
            """, c -> c.listen().size(), 2),

        // x- keys and merge keys, as compose users write them
        value("anchors in x- keys, merged", Map.of(), """
            x-server: &server {weight: 3, backup: false}
            upstreams:
              x-note: not an upstream
              app:
                x-owner: team-a
                servers:
                  - {<<: *server, name: a, address: "127.0.0.1:1"}
                  - name: b
                    address: 127.0.0.1:2
                    <<: *server
                    weight: 5
            """, c -> c.upstreams().keySet() + " " + c.upstreams().get("app").servers().stream()
            .map(s -> s.name() + "=" + s.weight()).toList(), "[app] [a=3, b=5]"),
        value("several merged mappings, the first wins", Map.of(), UP + """
            x-a: &a {connect: 1s}
            x-b: &b {connect: 2s, idle: 3s}
            timeouts: {<<: [*a, *b]}
            """, c -> c.timeouts().connect() + " " + c.timeouts().idle(), "PT1S PT3S"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("values")
  void binds(String name, Map<String, String> env, String yaml, Function<TetherConfig, Object> get, Object expected)
      throws Exception {
    assertThat(get.apply(new ConfigLoader(env::get).parse("t.yaml", yaml))).isEqualTo(expected);
  }

  @Test
  void mergingAScalarIsAYamlError() {
    ConfigLoader loader = new ConfigLoader(Map.<String, String>of()::get);
    assertThatThrownBy(() -> loader.parse("t.yaml", UP + "timeouts: {<<: 5}\n"))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.errors()).singleElement().asString()
            .startsWith("t.yaml:").contains("YAML syntax: Expected mapping node or an anchor referencing mapping"));
  }

  @Test
  void durationsParse() {
    assertThat(Units.duration("2h")).isEqualTo(Duration.ofHours(2));
    assertThat(Units.duration("1h1m1s1ms")).isEqualTo(Duration.ofMillis(3_661_001));
    assertThat(Units.duration(" 750ms ")).isEqualTo(Duration.ofMillis(750));
    assertThat(Units.duration("0.5ms1.5ms")).isEqualTo(Duration.ofMillis(2));
    assertThatThrownBy(() -> Units.duration("-1s")).hasMessageContaining("expected a duration");
    assertThatThrownBy(() -> Units.duration("1.s")).hasMessageContaining("expected a duration");
    assertThatThrownBy(() -> Units.duration("99999999999999999999h")).hasMessage("too long: \"99999999999999999999h\"");
  }
}
