package tether.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The {@code compression} blocks: defaults, a route's block over the top level's, and every error at once. */
class CompressionConfigTest {

  private static final String UP = "upstreams: {app: {servers: [{name: a, address: \"127.0.0.1:1\"}]}}\n";
  private final ConfigLoader loader = new ConfigLoader(name -> null);

  private TetherConfig parse(String yaml) throws ConfigException {
    return loader.parse("t.yaml", UP + yaml);
  }

  private List<String> errors(String yaml) {
    try {
      parse(yaml);
    } catch (ConfigException e) {
      return e.errors();
    }
    throw new AssertionError("expected errors");
  }

  @Test
  void offWithoutABlockAndGzipAtLevel5WithOne() throws Exception {
    assertThat(parse("").routes().get(0).compression()).isEqualTo(CompressionConfig.OFF);
    assertThat(parse("").compression().enabled()).isFalse();
    CompressionConfig on = parse("compression: {}\n").routes().get(0).compression();
    assertThat(on).isEqualTo(CompressionConfig.DEFAULTS);
    assertThat(on.gzip()).isTrue();
    assertThat(on.level()).isEqualTo(5);
    assertThat(on.minLength()).isEqualTo(1024);
    assertThat(on.zstd()).isFalse();
    assertThat(on.types()).contains("text/html", "text/css", "application/javascript", "application/json",
        "image/svg+xml").doesNotContain("image/png");
  }

  @Test
  void aRouteOverridesTheTopLevelKeyByKey() throws Exception {
    TetherConfig c = parse("""
        compression: {level: 3, min_length: 2KB, types: [text/html, "text/*"]}
        routes:
          - {path: /api/, upstream: app, compression: {types: [application/json], zstd: true}}
          - {path: /off/, upstream: app, compression: {gzip: false}}
          - {path: /, upstream: app}
        """);
    CompressionConfig api = c.routes().get(0).compression();
    assertThat(api).isEqualTo(new CompressionConfig(true, 3, true, 3, 2048, List.of("application/json")));
    assertThat(c.routes().get(1).compression().enabled()).isFalse();
    assertThat(c.routes().get(2).compression()).isEqualTo(c.compression());
    assertThat(c.compression().types()).containsExactly("text/html", "text/*");
  }

  @Test
  void aRouteBlockAloneTurnsItOnForThatRoute() throws Exception {
    TetherConfig c = parse("routes:\n  - {path: /a/, upstream: app, compression: {level: 9}}\n"
        + "  - {path: /, upstream: app}\n");
    assertThat(c.routes().get(0).compression()).isEqualTo(new CompressionConfig(true, 9, false, 3, 1024,
        CompressionConfig.DEFAULT_TYPES));
    assertThat(c.routes().get(1).compression().enabled()).isFalse();
  }

  @Test
  void everyErrorWithLineAndKeyPath() {
    assertThat(errors("""
        compression:
          level: 11
          min_length: lots
          types: [text/html, "html", "text/*"]
          gzpi: true
        routes:
          - {path: /, upstream: app, compression: {zstd_level: 30, types: []}}
        """)).containsExactly(
        "t.yaml:3: compression.level: expected 1..9, got 11",
        "t.yaml:4: compression.min_length: expected a size like 16384, 64KB or 100MB, got \"lots\"",
        "t.yaml:5: compression.types[1]: expected a media type like text/html, text/* or *, got \"html\"",
        "t.yaml:6: compression.gzpi: unknown key (did you mean gzip?)",
        "t.yaml:8: routes[0].compression.types: no media type: nothing would be compressed (expected: at least"
            + " one, or gzip: false)",
        "t.yaml:8: routes[0].compression.zstd_level: expected 1..19, got 30");
  }
}
