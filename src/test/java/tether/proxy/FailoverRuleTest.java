package tether.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.http.HttpMethod;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tether.config.RetryAfterSend;
import tether.proxy.Failover.Action;
import tether.proxy.Failover.Kind;
import tether.proxy.Failover.Phase;

/** The failover rule as a table: (kind, phase, method, replayable, retry_after_send, attempts left, fresh retried). */
class FailoverRuleTest {

  @ParameterizedTest(name = "{0} {1} {2} replayable={3} {4} left={5} fresh={6} -> {7} {8}")
  @CsvSource({
      // nothing sent: any method, any body, goes elsewhere while attempts are left
      "CONNECT_REFUSED,       NOTHING_SENT,     POST,   false, IDEMPOTENT, 2, false, RETRY_ELSEWHERE, 0",
      "CONNECT_TIMEOUT,       NOTHING_SENT,     PATCH,  false, NEVER,      1, false, RETRY_ELSEWHERE, 0",
      "CONNECT_REFUSED,       NOTHING_SENT,     GET,    true,  IDEMPOTENT, 0, false, FAIL,            502",
      // the keep-alive race: same server, fresh connection, once; never for what failover would not resend
      "RESET_ON_REUSED,       SENT,             GET,    true,  IDEMPOTENT, 2, false, RETRY_SAME_SERVER_FRESH_CONNECTION, 0",
      "RESET_ON_REUSED,       SENT,             GET,    true,  NEVER,      0, false, RETRY_SAME_SERVER_FRESH_CONNECTION, 0",
      "RESET_ON_REUSED,       SENT,             PUT,    true,  IDEMPOTENT, 2, false, RETRY_SAME_SERVER_FRESH_CONNECTION, 0",
      "RESET_ON_REUSED,       SENT,             GET,    true,  IDEMPOTENT, 2, true,  RETRY_ELSEWHERE, 0",
      "RESET_ON_REUSED,       SENT,             POST,   true,  IDEMPOTENT, 2, false, FAIL,            502",
      "RESET_ON_REUSED,       SENT,             PUT,    false, IDEMPOTENT, 2, false, FAIL,            502",
      // after sending: idempotent with a replayable body, unless retry_after_send is never
      "RESET_BEFORE_RESPONSE, SENT,             GET,    true,  IDEMPOTENT, 2, false, RETRY_ELSEWHERE, 0",
      "RESET_BEFORE_RESPONSE, SENT,             DELETE, true,  IDEMPOTENT, 2, false, RETRY_ELSEWHERE, 0",
      "RESET_BEFORE_RESPONSE, SENT,             HEAD,   true,  IDEMPOTENT, 1, false, RETRY_ELSEWHERE, 0",
      "RESET_BEFORE_RESPONSE, SENT,             GET,    true,  NEVER,      2, false, FAIL,            502",
      "RESET_BEFORE_RESPONSE, SENT,             PUT,    false, IDEMPOTENT, 2, false, FAIL,            502",
      "RESET_BEFORE_RESPONSE, SENT,             POST,   true,  IDEMPOTENT, 2, false, FAIL,            502",
      "RESET_BEFORE_RESPONSE, SENT,             PATCH,  true,  IDEMPOTENT, 2, false, FAIL,            502",
      "RESET_BEFORE_RESPONSE, SENT,             GET,    true,  IDEMPOTENT, 0, false, FAIL,            502",
      "RESPONSE_TIMEOUT,      SENT,             GET,    true,  IDEMPOTENT, 2, false, RETRY_ELSEWHERE, 0",
      "RESPONSE_TIMEOUT,      SENT,             GET,    true,  NEVER,      2, false, FAIL,            504",
      "RESPONSE_TIMEOUT,      SENT,             POST,   false, IDEMPOTENT, 2, false, FAIL,            504",
      "RESPONSE_TIMEOUT,      SENT,             GET,    true,  IDEMPOTENT, 0, false, FAIL,            504",
      // a response that cannot be relayed (an unasked 101): the server answered, so never sent elsewhere
      "INVALID_RESPONSE,      SENT,             GET,    true,  IDEMPOTENT, 2, false, FAIL,            502",
      "INVALID_RESPONSE,      SENT,             HEAD,   true,  IDEMPOTENT, 1, false, FAIL,            502",
      "INVALID_RESPONSE,      SENT,             POST,   false, IDEMPOTENT, 2, false, FAIL,            502",
      "INVALID_RESPONSE,      SENT,             GET,    true,  NEVER,      0, false, FAIL,            502",
      // once the response started: never retried, the client connection closes
      "BROKEN_BODY,           RESPONSE_STARTED, GET,    true,  IDEMPOTENT, 2, false, CLOSE_CLIENT,    0",
      "RESET_ON_REUSED,       RESPONSE_STARTED, GET,    true,  IDEMPOTENT, 2, false, CLOSE_CLIENT,    0",
  })
  void decides(Kind kind, Phase phase, String method, boolean replayable, RetryAfterSend retryAfterSend,
               int attemptsLeft, boolean freshRetried, Action action, int status) {
    Failover.Decision d = Failover.decide(kind, phase,
        new Failover.Request(HttpMethod.valueOf(method), replayable, retryAfterSend), attemptsLeft, freshRetried);
    assertThat(d.action()).isEqualTo(action);
    assertThat(d.status()).isEqualTo(status);
  }

  @ParameterizedTest(name = "{0} blames the server: {1}")
  @CsvSource({"CONNECT_REFUSED, true", "CONNECT_TIMEOUT, true", "RESET_BEFORE_RESPONSE, true",
      "RESET_ON_REUSED, false", "RESPONSE_TIMEOUT, true", "BROKEN_BODY, true",
      "INVALID_RESPONSE, true"})
  void blame(Kind kind, boolean blames) {
    assertThat(kind.blamesServer()).isEqualTo(blames);
  }

  static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> failures() {
    var timeout = new java.util.concurrent.TimeoutException("no response data for 500ms");
    return java.util.stream.Stream.of(
        org.junit.jupiter.params.provider.Arguments.of(new io.netty.channel.ConnectTimeoutException("t"), true, false,
            Kind.CONNECT_TIMEOUT),
        org.junit.jupiter.params.provider.Arguments.of(new java.net.ConnectException("refused"), true, false,
            Kind.CONNECT_REFUSED),
        org.junit.jupiter.params.provider.Arguments.of(timeout, false, false, Kind.RESPONSE_TIMEOUT),
        // Tether's own wait resets the request: Vert.x hands back its reset exception with the timeout inside
        org.junit.jupiter.params.provider.Arguments.of(new io.vertx.core.http.StreamResetException(0, timeout),
            false, true, Kind.RESPONSE_TIMEOUT),
        org.junit.jupiter.params.provider.Arguments.of(new io.vertx.core.http.StreamResetException(0), false, false,
            Kind.RESET_BEFORE_RESPONSE),
        org.junit.jupiter.params.provider.Arguments.of(new io.vertx.core.http.HttpClosedException("closed"),
            false, true, Kind.RESET_ON_REUSED),
        org.junit.jupiter.params.provider.Arguments.of(new java.io.IOException("reset by peer"), false, false,
            Kind.RESET_BEFORE_RESPONSE));
  }

  @ParameterizedTest(name = "{0} connecting={1} reused={2} -> {3}")
  @org.junit.jupiter.params.provider.MethodSource("failures")
  void kindOfAFailure(Throwable cause, boolean connecting, boolean reused, Kind expected) {
    assertThat(Kind.of(cause, connecting, reused)).isEqualTo(expected);
  }
}
