package tether.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code routes[].rate_limit} and {@code routes[].conn_limit}: bound to records, or every error with file:line. */
class RouteLimitsConfigTest {

  private final ConfigLoader loader = new ConfigLoader(Map.<String, String>of()::get);

  private static final String UP = "upstreams: {app: {servers: [{name: a, address: \"127.0.0.1:1\"}]}}\n";

  private List<String> errors(String yaml) {
    try {
      loader.parse("t.yaml", yaml);
    } catch (ConfigException e) {
      return e.errors();
    }
    throw new AssertionError("expected errors");
  }

  @Test
  void limitsAreBoundWithNginxDefaults() throws Exception {
    TetherConfig c = loader.parse("t.yaml", UP + """
        routes:
          - path: /api/
            upstream: app
            rate_limit: {rate: 300/m, burst: 20, key: "header:X-Api-Key"}
            conn_limit: {max: 10}
          - path: /login
            upstream: app
            rate_limit: {rate: 5r/s}
          - path: /
            upstream: app
        """);
    RouteConfig api = c.routes().get(0);
    assertThat(api.rateLimit()).isEqualTo(new RateLimitConfig(300, Duration.ofMinutes(1), 20,
        new LimitKey(LimitKey.Kind.HEADER, "X-Api-Key"), RateLimitConfig.DEFAULT_MAX_KEYS));
    assertThat(api.rateLimit().intervalNanos()).isEqualTo(200_000_000L);
    assertThat(api.rateLimit().toleranceNanos()).isEqualTo(20 * 200_000_000L);
    assertThat(api.connLimit()).isEqualTo(new ConnLimitConfig(10, LimitKey.IP));
    assertThat(api.label()).isEqualTo("*/api/");
    RouteConfig login = c.routes().get(1);
    assertThat(login.rateLimit().rate()).isEqualTo("5/s");
    assertThat(login.rateLimit().burst()).isZero(); // nginx's default: no burst
    assertThat(login.rateLimit().key()).isEqualTo(LimitKey.IP);
    assertThat(login.connLimit()).isNull();
    assertThat(c.routes().get(2).rateLimit()).isNull();
  }

  @Test
  void everyMistakeIsReportedWithFileLineAndKeyPath() {
    assertThat(errors(UP + """
        routes:
          - path: /a
            upstream: app
            rate_limit:
              rate: 5/x
              burst: -1
          - path: /b
            upstream: app
            rate_limit: {burst: 2, key: "ip:1.2.3.4", max_key: 10}
            conn_limit: {max: 0, key: "header:"}
          - path: /
            upstream: app
            conn_limit: {key: ip}
        """)).containsExactly(
        "t.yaml:6: routes[0].rate_limit.rate: expected a rate like 10/s, 300/m or 1000/h (1 to 1e9 requests per"
            + " second, minute or hour), got \"5/x\"",
        "t.yaml:7: routes[0].rate_limit.burst: expected 0..1000000, got -1",
        "t.yaml:10: routes[1].rate_limit: missing required key \"rate\"",
        "t.yaml:10: routes[1].rate_limit.key: expected ip, header:NAME or cookie:NAME, got \"ip:1.2.3.4\"",
        "t.yaml:10: routes[1].rate_limit.max_key: unknown key (did you mean max_keys?)",
        "t.yaml:11: routes[1].conn_limit.max: expected 1..10000000, got 0",
        "t.yaml:11: routes[1].conn_limit.key: expected ip, header:NAME or cookie:NAME, got \"header:\"",
        "t.yaml:14: routes[2].conn_limit: missing required key \"max\"");
  }

  @Test
  void aRateTooHighForNanosecondsIsRefused() {
    assertThat(errors(UP + "routes: [{path: /, upstream: app, rate_limit: {rate: 2000000000/s}}]\n"))
        .containsExactly("t.yaml:2: routes[0].rate_limit.rate: expected a rate like 10/s, 300/m or 1000/h (1 to 1e9"
            + " requests per second, minute or hour), got \"2000000000/s\"");
  }
}
