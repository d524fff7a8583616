package tether.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.http.HttpMethod;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The retry ladder as a table: (sent, method, body replayable, response started, attempts left) -> retry? */
class RetryPolicyTest {

  @ParameterizedTest(name = "sent={0} {1} replayable={2} started={3} left={4} -> {5}")
  @CsvSource({
      "false, POST,   false, false, true,  true",   // connect failure: nothing sent, any method
      "false, PATCH,  false, false, true,  true",
      "false, GET,    true,  false, false, false",  // no attempts left
      "true,  GET,    true,  false, true,  true",   // idempotent, body empty or held
      "true,  PUT,    true,  false, true,  true",
      "true,  DELETE, true,  false, true,  true",
      "true,  HEAD,   true,  false, true,  true",
      "true,  PUT,    false, false, true,  false",  // streamed body: cannot replay
      "true,  POST,   true,  false, true,  false",  // never a POST twice
      "true,  PATCH,  true,  false, true,  false",
      "true,  GET,    true,  true,  true,  false",  // response started: never
      "false, GET,    true,  true,  true,  false",
  })
  void decides(boolean sent, String method, boolean replayable, boolean started, boolean left, boolean retry) {
    assertThat(RetryPolicy.mayRetry(sent, HttpMethod.valueOf(method), replayable, started, left)).isEqualTo(retry);
  }
}
