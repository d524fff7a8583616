package tether.proxy;

import io.vertx.core.http.HttpMethod;

/**
 * Whether a failed attempt may go to another server: a ladder of guards, pure, tested as a table.
 * Nothing sent (connect failure) is always safe; after sending, only idempotent methods (RFC 9110 §9.2.2) whose
 * body is empty or held whole; never once a response byte reached the client.
 */
final class RetryPolicy {

  private RetryPolicy() {}

  static boolean mayRetry(boolean requestSent, HttpMethod method, boolean bodyReplayable, boolean responseStarted,
                          boolean attemptsLeft) {
    if (!attemptsLeft || responseStarted) {
      return false;
    }
    if (!requestSent) {
      return true;
    }
    return isIdempotent(method) && bodyReplayable;
  }

  static boolean isIdempotent(HttpMethod method) {
    return method == HttpMethod.GET || method == HttpMethod.HEAD || method == HttpMethod.PUT
        || method == HttpMethod.DELETE || method == HttpMethod.OPTIONS || method == HttpMethod.TRACE;
  }
}
