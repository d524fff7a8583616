package tether.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.http.HttpMethod;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The guard as a table: (method, Host, Origin, Sec-Fetch-Site) -> allowed or 403; "-" is an absent header. */
class CrossSiteGuardTest {

  private final CrossSiteGuard guard = new CrossSiteGuard("127.0.0.1", List.of("tether-admin.internal"));

  @ParameterizedTest(name = "{0} Host={1} Origin={2} Sec-Fetch-Site={3} -> {4}")
  @CsvSource(nullValues = "-", value = {
      // the issue: a form on another site posting to the loopback listener (the content type changes nothing)
      "POST,   127.0.0.1:9090,             http://evil.example,               -,           false",
      "POST,   127.0.0.1:9090,             http://evil.example,               cross-site,  false",
      "POST,   127.0.0.1:9090,             null,                              -,           false", // sandboxed, file:
      "POST,   127.0.0.1:9090,             http://127.0.0.1:8080,             -,           false", // other port
      "POST,   localhost:9090,             http://localhost:9090.evil.example, -,          false", // prefix trick
      "POST,   127.0.0.1:9090,             -,                                 cross-site,  false",
      "POST,   127.0.0.1:9090,             -,                                 same-site,   false",
      "POST,   127.0.0.1:9090,             http://127.0.0.1:9090,             cross-site,  false", // both must pass
      "PUT,    127.0.0.1:9090,             http://evil.example,               -,           false", // any unsafe method
      "POST,   -,                          http://127.0.0.1:9090,             -,           false", // Origin, no Host
      // DNS rebinding: the browser believes it is same-origin, only the Host name gives it away
      "POST,   evil.example:9090,          http://evil.example:9090,          same-origin, false",
      "POST,   evil.example:9090,          -,                                 -,           false",
      "GET,    evil.example:9090,          http://evil.example:9090,          same-origin, false",
      "GET,    evil.example:9090,          -,                                 -,           false",
      // curl and other tools: no Origin, no Sec-Fetch-Site
      "POST,   127.0.0.1:9090,             -,                                 -,           true",
      "POST,   localhost:9090,             -,                                 -,           true",
      "POST,   -,                          -,                                 -,           true", // HTTP/1.0
      "POST,   10.1.2.3:9090,              -,                                 -,           true", // an IP literal
      "GET,    [fe80::1]:9090,             -,                                 -,           true",
      // the status page's own buttons (fetch from GET / of the same listener)
      "POST,   localhost:9090,             http://localhost:9090,             same-origin, true",
      "POST,   127.0.0.1:9090,             http://127.0.0.1:9090,             same-origin, true",
      "POST,   [::1]:9090,                 http://[::1]:9090,                 same-origin, true",
      "POST,   127.0.0.1:9090,             -,                                 none,        true", // typed/bookmarked
      "POST,   localhost:19090,            http://localhost:19090,            same-origin, true", // port mapped
      "POST,   localhost,                  http://localhost,                  same-origin, true", // port 80
      "POST,   tether-admin.internal:9090, https://tether-admin.internal:9090, same-origin, true", // TLS in front
      // admin.allowed_hosts
      "POST,   tether-admin.internal:9090, http://tether-admin.internal:9090, same-origin, true",
      "GET,    TETHER-Admin.internal:9090, -,                                 -,           true",
      // reads: the Origin does not matter (CORS keeps the answer from the other page), the Host does
      "GET,    127.0.0.1:9090,             http://evil.example,               cross-site,  true",
      "GET,    localhost:9090,             -,                                 -,           true",
      "GET,    127.0.0.1:9090,             -,                                 -,           true",
      "GET,    [::1]:9090,                 -,                                 -,           true",
      "GET,    evil.example:9090,          http://evil.example,               cross-site,  false",
  })
  void decides(String method, String host, String origin, String fetchSite, boolean allowed) {
    CrossSiteGuard.Verdict v = guard.check(HttpMethod.valueOf(method), host, origin, fetchSite);
    assertThat(v.allowed()).isEqualTo(allowed);
    if (allowed) {
      assertThat(v.reason()).isNull();
    } else {
      assertThat(v.reason()).isNotBlank();
    }
  }

  @Test
  void reasonsSayWhichCheckRefused() {
    assertThat(guard.check(HttpMethod.POST, "127.0.0.1:9090", "http://evil.example", null).reason())
        .isEqualTo("cross-site request refused: Origin http://evil.example is not this admin listener"
            + " (http://127.0.0.1:9090)");
    assertThat(guard.check(HttpMethod.POST, "127.0.0.1:9090", null, "cross-site").reason())
        .isEqualTo("cross-site request refused: Sec-Fetch-Site is cross-site");
    assertThat(guard.check(HttpMethod.GET, "evil.example:9090", null, null).reason())
        .startsWith("Host evil.example is not a name of this admin listener").contains("admin.allowed_hosts");
  }

  @Test
  void theConfiguredAddressIsOneOfItsNamesUnlessItIsAWildcard() {
    assertThat(new CrossSiteGuard("tether.lan", List.of()).check(HttpMethod.GET, "tether.lan:9090", null, null)
        .allowed()).isTrue();
    assertThat(new CrossSiteGuard("0.0.0.0", List.of()).check(HttpMethod.GET, "tether.lan:9090", null, null)
        .allowed()).isFalse();
    assertThat(new CrossSiteGuard("::", List.of()).check(HttpMethod.GET, "localhost:9090", null, null)
        .allowed()).isTrue();
  }

  @Test
  void hostNameDropsThePort() {
    assertThat(CrossSiteGuard.hostName("[::1]:9090")).isEqualTo("[::1]");
    assertThat(CrossSiteGuard.hostName("LocalHost:9090")).isEqualTo("localhost");
    assertThat(CrossSiteGuard.hostName("localhost")).isEqualTo("localhost");
  }
}
