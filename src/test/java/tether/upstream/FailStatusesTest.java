package tether.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tether.config.ConfigLoader;
import tether.config.TetherConfig;

/**
 * {@code passive.fail_statuses} through {@link Backend#reportResponse}: a listed status ejects a server that
 * allows one failure, any other does not (the statuses are a bit set on the request path, every 3-digit status).
 */
class FailStatusesTest {

  private static Backend server(String failStatuses) throws Exception {
    TetherConfig c = new ConfigLoader(n -> null).parse("t.yaml", """
        upstreams:
          app:
            servers:
              - {name: web1, address: "127.0.0.1:1"}
            passive: {max_fails: 1, fail_window: 0s, eject_for: 30s%s}
        """.formatted(failStatuses.isEmpty() ? "" : ", fail_statuses: " + failStatuses));
    return new UpstreamRegistry().build(c).get("app").byName("web1");
  }

  @ParameterizedTest(name = "fail_statuses {0}, response {1} -> ejected {2}")
  @CsvSource(delimiter = '|', value = {
      "[502, 503, 504] | 503 | true",
      "[502, 503, 504] | 502 | true",
      "[502, 503, 504] | 500 | false",
      "[502, 503, 504] | 200 | false",
      "[502, 503, 504] | 505 | false",
      "[500]           | 500 | true",
      "[500]           | 564 | false", // 500 + 64: the next word's bit
      "[500]           | 436 | false", // 500 - 64
      "[100, 999]      | 100 | true",
      "[100, 999]      | 999 | true",
      "[100, 999]      | 998 | false",
      "[429]           | 429 | true",
      "[429]           | 0   | false",
      "[429]           | 1023 | false",
      "[429]           | 1024 | false",
  })
  void aListedStatusIsAFailureAndNoOtherIs(String failStatuses, int status, boolean ejected) throws Exception {
    Backend web1 = server(failStatuses);
    web1.reportResponse(status);
    assertThat(web1.state().ejected(System.nanoTime())).isEqualTo(ejected);
  }
}
