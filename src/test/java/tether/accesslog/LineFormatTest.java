package tether.accesslog;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tether.proxy.ExchangeRecord;

/** The text line, byte for byte: nginx's escaping, times in seconds with milliseconds, dashes for what is absent. */
class LineFormatTest {

  private static final long AT = Instant.parse("2026-11-30T18:04:05.007Z").toEpochMilli();

  private static ExchangeRecord record(String userAgent, long bytesSent, long upstreamNanos, long totalNanos,
      boolean truncated) {
    return new ExchangeRecord("10.0.0.7", "GET", "/p?q=1", "HTTP/1.1", 200, bytesSent, 0, "app", "web1",
        upstreamNanos, totalNanos, "hit", 1, truncated, null, userAgent, "shop.example", "abc",
        "127.0.0.1:8101", "200");
  }

  @ParameterizedTest(name = "[{index}] ua={0} bytes={1} up={2} total={3}")
  @CsvSource(delimiter = '|', quoteCharacter = '\'', value = {
      // user agent (Java escapes) | bytes | upstream ns | total ns | truncated | expected user agent | times
      "curl/8                | 0           | 0             | 0             | false | curl/8                   | upstream_time=0.000 time=0.000",
      "a\"b\\c               | 14          | 1005000000    | 1006999999    | false | a\\\"b\\\\c              | upstream_time=1.005 time=1.006",
      "é                     | 5000000000  | -1            | 999999999     | false | \\xe9                    | upstream_time=- time=0.999",
      "中                    | 9           | 7000000       | 10000000      | true  | \\xe4\\xb8\\xad           | upstream_time=0.007 time=0.010",
      "x\u0001\u007f\ty      | 10          | 60000000000   | 3600000000000 | false | x\\x01\\x7f\\x09y          | upstream_time=60.000 time=3600.000",
  })
  void theTextLineIsExact(String ua, long bytes, long up, long total, boolean truncated, String expectedUa,
      String times) {
    ExchangeRecord r = record(ua.strip(), bytes, up, total, truncated);
    String line = new String(LineFormat.text().encode(r, AT).toByteArray(), StandardCharsets.ISO_8859_1);
    assertThat(line).isEqualTo("10.0.0.7 - - [30/Nov/2026:18:04:05.007 +0000] \"GET /p?q=1 HTTP/1.1\" 200 " + bytes
        + " \"-\" \"" + expectedUa.strip() + "\" host=\"shop.example\" upstream=app server=web1"
        + " upstream_addr=\"127.0.0.1:8101\" upstream_status=\"200\" " + times.strip()
        + " sticky=hit attempts=1 request_id=abc" + (truncated ? " truncated" : "") + "\n");
  }

  @ParameterizedTest
  @CsvSource({"0, 0", "9, 9", "10, 10", "-1, -1", "-10, -10", "1234567890123, 1234567890123",
      "-9223372036854775808, -9223372036854775808", "9223372036854775807, 9223372036854775807"})
  void numbersAreDecimal(long value, String expected) {
    assertThat(new String(new AsciiLine(1).number(value).toByteArray(), StandardCharsets.US_ASCII))
        .isEqualTo(expected);
  }
}
