package tether.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Host header values (RFC 9112 §3.2, RFC 3986 §3.2.2): uri-host with an optional numeric port, nothing else. */
class HostValidationTest {

  @ParameterizedTest(name = "[{0}] -> {1}")
  @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
      "example.com          | true",
      "example.com:8080     | true",
      "EXAMPLE.com:80       | true",
      "127.0.0.1            | true",
      "127.0.0.1:8080       | true",
      "[::1]                | true",
      "[::1]:8080           | true",
      "[2001:db8::7]:443    | true",
      "xn--bcher-kva.example| true",
      "my_host-1.internal   | true",
      "caf%C3%A9.example    | true",
      "``                   | true",
      "example.com:         | true",
      "exa mple             | false",
      "`exa mple:80`        | false",
      "a/b                  | false",
      "a\\b                 | false",
      "user@host            | false",
      "host:port            | false",
      "host:80:81           | false",
      "host:123456          | false",
      "host:-1              | false",
      "[::1                 | false",
      "[zz::1]              | false",
      "[::1]x               | false",
      "[]                   | false",
      "a\"b                 | false",
      "a<b>                 | false",
      "%zz.example          | false",
      "%4                   | false",
      "caf\u00e9.example     | false",
      "host?x               | false",
      "host#frag            | false",
  })
  void validates(String host, boolean valid) {
    assertThat(RequestValidator.validHost(host.strip())).isEqualTo(valid);
  }
}
