package tether.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.impl.headers.HeadersMultiMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tether.config.LimitsConfig;

/**
 * Request targets (RFC 9112 §3.2: visible ASCII, the rest percent-encoded) and header values (RFC 9110 §5.5: no
 * controls but tab; obs-text is a byte, so nothing above U+00FF) as {@link RequestValidator} takes them; both paths
 * write what passes as bytes, so what fails here must never reach a backend. (Value sources, not CSV: a CSV parser
 * trims and drops control characters.)
 */
class FieldValidationTest {

  private static final LimitsConfig LIMITS = new LimitsConfig(8192, 1 << 20, 8192, 100, 1000);

  @ParameterizedTest
  @ValueSource(strings = {"/", "/a/b?c=d&e=%20f#g", "*", "http://x.example/y", "/~user/!$&'()*+,;=:@"})
  void visibleAsciiTargetsPass(String target) {
    assertThat(RequestValidator.validTarget(target)).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"/a b", "/a\tb", "/a\u0000b", "/a\u0008", "/a\u007f", "/caf\u00e9", "/a\u0100", "/a\r"})
  void otherTargetsAreRefused(String target) {
    assertThat(RequestValidator.validTarget(target)).isFalse();
  }

  @ParameterizedTest
  @ValueSource(strings = {"plain", "a\tb", "", "caf\u00e9 \u00ff"}) // (obs-text: a byte above 0x7F)
  void valuesPass(String value) {
    assertThat(check(value)).isNull();
  }

  /** U+010A written as a byte would be its low byte, a line feed. */
  @ParameterizedTest
  @ValueSource(strings = {"a\u0000b", "a\u007fb", "a\u010ab", "\u2028", "a\rb", "a\nb"})
  void valuesWithControlsOrCharactersAboveAByteAreRefused(String value) {
    assertThat(check(value)).isNotNull().extracting(RequestValidator.Rejection::status).isEqualTo(400);
  }

  private static RequestValidator.Rejection check(String value) {
    // (a map that validates nothing, as a decoder's: what the validator is for)
    MultiMap headers = HeadersMultiMap.httpHeaders((name, v) -> { }).add("Host", "x").add("X-A", value);
    return RequestValidator.checkHeaders(headers, HttpVersion.HTTP_1_1, LIMITS);
  }
}
