package tether.compression;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tether.config.CompressionConfig;

/** The decision as a table: one row per guard, with the answer it gives (no sockets). */
class CompressionPolicyTest {

  private static final CompressionConfig ON = CompressionConfig.DEFAULTS;
  private static final CompressionConfig BOTH = new CompressionConfig(true, 5, true, 3, 1024,
      CompressionConfig.DEFAULT_TYPES);

  /** A request and response by default: GET, Accept-Encoding gzip, 200 text/html of 5600 bytes. */
  private record Case(CompressionConfig config, HttpMethod method, HttpVersion version, MultiMap request, int status,
                      MultiMap response) {
    static Case of() {
      return new Case(ON, HttpMethod.GET, HttpVersion.HTTP_1_1,
          MultiMap.caseInsensitiveMultiMap().add("Accept-Encoding", "gzip, deflate, br"), 200,
          MultiMap.caseInsensitiveMultiMap().add("Content-Type", "text/html; charset=UTF-8")
              .add("Content-Length", "5600"));
    }

    Case config(CompressionConfig c) {
      return new Case(c, method, version, request, status, response);
    }

    Case method(HttpMethod m) {
      return new Case(config, m, version, request, status, response);
    }

    Case version(HttpVersion v) {
      return new Case(config, method, v, request, status, response);
    }

    Case status(int s) {
      return new Case(config, method, version, request, s, response);
    }

    Case req(String name, String value) {
      MultiMap r = MultiMap.caseInsensitiveMultiMap().addAll(request);
      if (value == null) {
        r.remove(name);
      } else {
        r.set(name, value);
      }
      return new Case(config, method, version, r, status, response);
    }

    Case resp(String name, String value) {
      MultiMap r = MultiMap.caseInsensitiveMultiMap().addAll(response);
      if (value == null) {
        r.remove(name);
      } else {
        r.set(name, value);
      }
      return new Case(config, method, version, request, status, r);
    }

    CompressionPolicy.Decision decide() {
      return CompressionPolicy.decide(config, method, version, request, status, response, true);
    }
  }

  private static Arguments row(String name, Case c, Coding coding, boolean vary) {
    return Arguments.of(name, c, coding, vary);
  }

  static Stream<Arguments> table() {
    Case base = Case.of();
    return Stream.of(
        row("the issue's page: 5.6 KB of HTML to a gzip client", base, Coding.GZIP, true),
        row("no compression block", base.config(CompressionConfig.OFF), null, false),
        row("gzip: false", base.config(new CompressionConfig(false, 5, false, 3, 1024, List.of("text/html"))),
            null, false),
        row("no Accept-Encoding", base.req("Accept-Encoding", null), null, true),
        row("Accept-Encoding without gzip", base.req("Accept-Encoding", "br, deflate"), null, true),
        row("gzip;q=0", base.req("Accept-Encoding", "gzip;q=0, deflate"), null, true),
        row("gzip; q=0.000 under *", base.req("Accept-Encoding", "*, gzip; q=0.000"), null, true),
        row("*", base.req("Accept-Encoding", "*"), Coding.GZIP, true),
        row("*;q=0", base.req("Accept-Encoding", "*;q=0"), null, true),
        row("x-gzip", base.req("Accept-Encoding", "x-gzip"), Coding.GZIP, true),
        row("GZIP;Q=0.5", base.req("Accept-Encoding", "GZIP;Q=0.5"), Coding.GZIP, true),
        row("a malformed q-value refuses", base.req("Accept-Encoding", "gzip;q=2"), null, true),
        row("zstd preferred at equal q", base.config(BOTH).req("Accept-Encoding", "gzip, zstd"), Coding.ZSTD,
            true),
        row("gzip when it has the higher q", base.config(BOTH).req("Accept-Encoding", "gzip, zstd;q=0.5"),
            Coding.GZIP, true),
        row("zstd not configured", base.req("Accept-Encoding", "zstd"), null, true),
        row("backend's gzip: never twice", base.resp("Content-Encoding", "gzip"), null, false),
        row("Content-Encoding: identity is none", base.resp("Content-Encoding", "identity"), Coding.GZIP, true),
        row("image/png", base.resp("Content-Type", "image/png"), null, false),
        row("no Content-Type", base.resp("Content-Type", null), null, false),
        row("application/json", base.resp("Content-Type", "application/json"), Coding.GZIP, true),
        row("image/svg+xml", base.resp("Content-Type", "image/svg+xml"), Coding.GZIP, true),
        row("under min_length", base.resp("Content-Length", "1023"), null, false),
        row("exactly min_length", base.resp("Content-Length", "1024"), Coding.GZIP, true),
        row("no Content-Length (a stream): compressed, as nginx", base.resp("Content-Length", null),
            Coding.GZIP, true),
        row("HEAD", base.method(HttpMethod.HEAD), null, true),
        row("a Range request", base.req("Range", "bytes=0-99"), null, true),
        row("206", base.status(206).resp("Content-Range", "bytes 0-99/5600"), null, false),
        row("204", base.status(204), null, false),
        row("304", base.status(304), null, false),
        row("101", base.status(101), null, false),
        row("404 page: compressed", base.status(404), Coding.GZIP, true),
        row("Cache-Control: no-transform", base.resp("Cache-Control", "public, no-transform"), null, false),
        row("HTTP/1.0", base.version(HttpVersion.HTTP_1_0), null, true));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("table")
  void decides(String name, Case c, Coding coding, boolean vary) {
    CompressionPolicy.Decision d = c.decide();
    assertThat(d.coding()).as(name + " (" + d.why() + ")").isEqualTo(coding);
    assertThat(d.vary()).as(name + ": vary (" + d.why() + ")").isEqualTo(vary);
  }

  @Test
  void zstdIsNeverChosenWhereItsLibraryDoesNotLoad() {
    Case c = Case.of().config(BOTH).req("Accept-Encoding", "zstd, gzip;q=0.1");
    assertThat(CompressionPolicy.decide(c.config, c.method, c.version, c.request, c.status, c.response, false)
        .coding()).isEqualTo(Coding.GZIP);
  }

  @Test
  void wildcardsTakeTextButNeverWhatIsCompressedAlready() {
    assertThat(CompressionPolicy.listed(List.of("*"), "application/octet-stream")).isTrue();
    assertThat(CompressionPolicy.listed(List.of("*"), "image/jpeg")).isFalse();
    assertThat(CompressionPolicy.listed(List.of("image/*"), "image/webp")).isFalse();
    assertThat(CompressionPolicy.listed(List.of("image/*"), "image/svg+xml")).isTrue();
    assertThat(CompressionPolicy.listed(List.of("*"), "application/zip")).isFalse();
    assertThat(CompressionPolicy.listed(List.of("*"), "video/mp4")).isFalse();
    assertThat(CompressionPolicy.listed(List.of("text/*"), "text/html")).isTrue();
    assertThat(CompressionPolicy.listed(List.of("text/*"), "textual/html")).isFalse();
    assertThat(CompressionPolicy.listed(List.of("image/png"), "image/png")).as("named: the operator's call")
        .isTrue();
  }
}
