package tether.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.net.HostAndPort;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The access log's host on the fast path: what {@link HostAndPort#toString} says; the Host header when equal. */
class HostTextTest {

  @ParameterizedTest(name = "Host: {0}")
  @CsvSource(delimiter = '|', value = {
      "shop.example",
      "Shop.Example:8080",
      "127.0.0.1:18080",
      "h:1",
      "h:65535",
      "[::1]:80",
      "[::1]",
      "host:080",
      "host:0",
      "host:00",
      "host:",
  })
  void theHostIsAlwaysTheParsedAuthorityAsText(String host) {
    HostAndPort authority = HostAndPort.parseAuthority(host, -1);
    if (authority == null) {
      return; // refused before the fast path
    }
    String text = FastExchange.hostText(authority, host);
    assertThat(text).isEqualTo(authority.toString());
    if (host.equals(authority.toString())) {
      assertThat(text).as("the header itself, no copy").isSameAs(host);
    }
  }
}
