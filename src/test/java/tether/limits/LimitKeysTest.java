package tether.limits;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.MultiMap;
import java.util.List;
import org.junit.jupiter.api.Test;
import tether.config.LimitKey;
import tether.config.TrustedProxies;

class LimitKeysTest {

  private static final TrustedProxies TRUSTED = new TrustedProxies(List.of("10.0.0.0/8", "127.0.0.1"));

  private static MultiMap headers(String... nameValues) {
    MultiMap h = MultiMap.caseInsensitiveMultiMap();
    for (int i = 0; i < nameValues.length; i += 2) {
      h.add(nameValues[i], nameValues[i + 1]);
    }
    return h;
  }

  private static String ip(String peer, String... nameValues) {
    return LimitKeys.read(LimitKey.IP, headers(nameValues), peer, TRUSTED);
  }

  @Test
  void theClientAddressIsTheSocketsUnlessATrustedProxyReportsOne() {
    assertThat(ip("203.0.113.7", "X-Forwarded-For", "198.51.100.1")).isEqualTo("203.0.113.7"); // not trusted
    assertThat(ip("127.0.0.1")).isEqualTo("127.0.0.1");
    assertThat(ip("127.0.0.1", "X-Forwarded-For", "198.51.100.1")).isEqualTo("198.51.100.1");
    // the rightmost address no trusted hop vouches for: what the client wrote itself is not believed
    assertThat(ip("127.0.0.1", "X-Forwarded-For", "1.1.1.1, 198.51.100.1, 10.0.0.2")).isEqualTo("198.51.100.1");
    assertThat(ip("127.0.0.1", "X-Forwarded-For", "1.1.1.1", "X-Forwarded-For", "198.51.100.1, 10.0.0.2"))
        .isEqualTo("198.51.100.1");
    assertThat(ip("127.0.0.1", "X-Forwarded-For", "10.0.0.3, 10.0.0.2")).isEqualTo("10.0.0.3"); // all trusted
    // a name is never looked up (no DNS on the event loop): it is the key as written
    assertThat(ip("127.0.0.1", "X-Forwarded-For", "1.1.1.1, localhost")).isEqualTo("localhost");
  }

  @Test
  void aHeaderOrCookieKeyIsItsValueAndAbsentMeansNotCounted() {
    LimitKey header = LimitKey.parse("header:X-Api-Key");
    LimitKey cookie = LimitKey.parse("cookie:PHPSESSID");
    assertThat(LimitKeys.read(header, headers("x-api-key", "k1"), "127.0.0.1", TRUSTED)).isEqualTo("k1");
    assertThat(LimitKeys.read(header, headers(), "127.0.0.1", TRUSTED)).isNull();
    assertThat(LimitKeys.read(header, headers("X-Api-Key", ""), "127.0.0.1", TRUSTED)).isNull();
    assertThat(LimitKeys.read(cookie, headers("Cookie", "a=1; PHPSESSID=\"s1\"; b=2"), "1.2.3.4", TRUSTED))
        .isEqualTo("s1");
    assertThat(LimitKeys.read(cookie, headers("Cookie", "XPHPSESSID=s2"), "1.2.3.4", TRUSTED)).isNull();
  }

  @Test
  void longValuesAreKeptAsADigest() {
    LimitKey header = LimitKey.parse("header:X-Api-Key");
    String key = LimitKeys.read(header, headers("X-Api-Key", "k".repeat(10_000)), "127.0.0.1", TRUSTED);
    assertThat(key).hasSizeLessThanOrEqualTo(LimitKeys.MAX_PLAIN).startsWith("#");
    assertThat(LimitKeys.read(header, headers("X-Api-Key", "k".repeat(9_999) + "j"), "127.0.0.1", TRUSTED))
        .isNotEqualTo(key);
  }
}
