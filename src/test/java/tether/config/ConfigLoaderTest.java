package tether.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigLoaderTest {

  private final ConfigLoader loader = new ConfigLoader(Map.of("SECRET_A", "from-env")::get);

  private List<String> errors(String yaml) {
    try {
      loader.parse("t.yaml", yaml);
    } catch (ConfigException e) {
      return e.errors();
    }
    throw new AssertionError("expected errors");
  }

  @Test
  void theDocumentedExampleIsValid() throws Exception {
    TetherConfig c = loader.load(Path.of("conf/tether.yaml"));
    UpstreamConfig app = c.upstreams().get("app");
    assertThat(app.servers()).extracting(ServerConfig::name).containsExactly("web1", "web2", "spare");
    assertThat(app.servers().get(2).backup()).isTrue();
    assertThat(app.health().interval()).isEqualTo(Duration.ofSeconds(2));
    assertThat(c.timeouts().responseHeader()).isEqualTo(Duration.ofSeconds(30));
    assertThat(c.limits().maxBodyBytes()).isEqualTo(100L * 1024 * 1024);
  }

  @Test
  void reportsEveryErrorWithFileLineAndKeyPath() {
    List<String> errors = errors("""
        listen:
          - address: 0.0.0.0
            port: 80800
        upstreams:
          app:
            balance: fastest
            servers:
              - name: web1
                address: 127.0.0.1
              - name: web1
                address: 127.0.0.1:8102
                wieght: 2
        routes:
          - path: /
            upstream: nope
        timeouts: { connect: 2 }
        limits: { max_body_bytes: lots }
        """);
    assertThat(errors).containsExactly(
        "t.yaml:3: listen[0].port: expected 0..65535, got 80800",
        "t.yaml:6: upstreams.app.balance: expected one of round_robin | least_conn | random_two | ip_hash, got \"fastest\"",
        "t.yaml:9: upstreams.app.servers[0].address: expected host:port, got \"127.0.0.1\"",
        "t.yaml:10: upstreams.app.servers[1].name: duplicate server name \"web1\" in upstream app",
        "t.yaml:12: upstreams.app.servers[1].wieght: unknown key (did you mean weight?)",
        "t.yaml:15: routes[0].upstream: no upstream named \"nope\" (have: app)",
        "t.yaml:16: timeouts.connect: expected a duration like 500ms, 2s, 1.5s, 1m30s or 1h, got \"2\"",
        "t.yaml:17: limits.max_body_bytes: expected a size like 16384, 64KB or 100MB, got \"lots\"");
  }

  @Test
  void wrongTypesAndMissingKeys() {
    List<String> errors = errors("""
        upstreams:
          app:
            servers:
              - address: 127.0.0.1:1
            sticky: cookie
          other:
            servers: web1
        routes: { host: x }
        """);
    assertThat(errors).containsExactly(
        "t.yaml:4: upstreams.app.servers[0]: missing required key \"name\"",
        "t.yaml:5: upstreams.app.sticky: expected a mapping (key: value), got \"cookie\"",
        "t.yaml:7: upstreams.other.servers: expected a list, got \"web1\"",
        "t.yaml:7: upstreams.other.servers: an upstream needs at least one server",
        "t.yaml:8: routes: expected a list, got a mapping");
  }

  @Test
  void yamlSyntaxErrorNamesTheLine() {
    assertThat(errors("upstreams:\n  app:\n    servers: [\n")).singleElement().asString()
        .startsWith("t.yaml:4: YAML syntax:");
  }

  @Test
  void duplicateKeysAreErrors() {
    assertThat(errors("""
        upstreams:
          app:
            servers: [{name: a, address: "127.0.0.1:1"}]
        workers: 1
        workers: 2
        """)).contains("t.yaml:5: workers: duplicate key");
  }

  @Test
  void defaultsAndSingleUpstreamNeedsNoRoutes() throws Exception {
    TetherConfig c = loader.parse("t.yaml", """
        upstreams:
          app:
            servers: [{name: a, address: "[::1]:8080"}]
        """);
    assertThat(c.routes()).containsExactly(new RouteConfig("*", "/", "app"));
    assertThat(c.upstreams().get("app").servers().get(0).host()).isEqualTo("::1");
    assertThat(c.admin()).isEqualTo(new AdminConfig(true, "127.0.0.1", 9901, null));
    assertThat(c.timeouts().connect()).isEqualTo(Duration.ofSeconds(2));
    assertThat(c.resolve()).isEqualTo(Duration.ofSeconds(5));
    assertThat(c.transport()).isEqualTo(IoTransport.AUTO);
  }

  @Test
  void transportIsOneOfTheKnownOnes() throws Exception {
    String upstreams = "upstreams:\n  app:\n    servers: [{name: a, address: \"web1:80\"}]\n";
    assertThat(loader.parse("t.yaml", "transport: epoll\n" + upstreams).transport()).isEqualTo(IoTransport.EPOLL);
    assertThat(loader.parse("t.yaml", "transport: NIO\n" + upstreams).transport()).isEqualTo(IoTransport.NIO);
    assertThat(errors("transport: kqueue\n" + upstreams)).containsExactly(
        "t.yaml:1: transport: expected one of auto | io_uring | epoll | nio, got \"kqueue\"");
  }

  @Test
  void resolveIntervalHasAFloor() {
    assertThat(errors("""
        resolve: 10ms
        upstreams:
          app:
            servers: [{name: a, address: "web1:80"}]
        """)).containsExactly("t.yaml:1: resolve: expected at least 100ms, got 10ms");
  }

  @Test
  void publicAdminListenerWithoutTokenIsRefused() {
    assertThat(errors("""
        admin: { address: 0.0.0.0 }
        upstreams:
          app:
            servers: [{name: a, address: "127.0.0.1:1"}]
        """)).singleElement().asString().startsWith("t.yaml:1: admin.address: admin listener on 0.0.0.0 is not");
  }

  @Test
  void secretsExpandEnvironmentVariables() throws Exception {
    TetherConfig c = loader.parse("t.yaml", """
        upstreams:
          app:
            servers: [{name: a, address: "127.0.0.1:1"}]
            sticky: { mode: cookie, secret: ["${SECRET_A}", literal] }
        """);
    StickyConfig.Cookie sticky = (StickyConfig.Cookie) c.upstreams().get("app").sticky();
    assertThat(sticky.secrets()).containsExactly("from-env", "literal");
    assertThat(sticky.secretGenerated()).isFalse();
  }

  @Test
  void unitsParse() {
    assertThat(Units.duration("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(Units.duration("1m")).isEqualTo(Duration.ofMinutes(1));
    assertThat(Units.size("64KB")).isEqualTo(65536);
    assertThat(Units.size("100MB")).isEqualTo(100L << 20);
    assertThatThrownBy(() -> Units.duration("5 minutes")).hasMessageContaining("expected a duration");
  }
}
