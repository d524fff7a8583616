package tether.proxy;

import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpMethod;
import io.netty.channel.ConnectTimeoutException;
import java.util.concurrent.TimeoutException;
import tether.config.RetryAfterSend;

/**
 * The failover rule, in one place: when an attempt to reach a server fails, what happens to the request.
 * A pure function of the failure's {@link Kind}, the {@link Phase} it reached, the request and the attempts left,
 * tested as a table ({@code FailoverRuleTest}).
 *
 * <ol>
 *   <li>Once a response byte reached the client nothing can be retried: the client connection is closed, so the
 *       response reads as truncated, never complete.</li>
 *   <li>A pooled connection that fails before any response byte ({@link Kind#RESET_ON_REUSED}) is the keep-alive
 *       race (the server closed it as it was reused): not the server's fault. A replayable idempotent request is
 *       sent again once, to the same server, on a fresh connection; no re-pin, no passive failure.</li>
 *   <li>Nothing was sent (connect refused or timed out): any request goes to another server.</li>
 *   <li>After sending, only an idempotent method (RFC 9110 §9.2.2) whose body is empty or held whole goes to
 *       another server, and only with {@code retry_after_send: idempotent} (the default, nginx's
 *       {@code proxy_next_upstream error timeout}: at-least-once). With {@code never} (HAProxy's default, at-most-once)
 *       it fails: a GET that reached a server that then died may have run there.</li>
 *   <li>A response Tether cannot relay ({@link Kind#INVALID_RESPONSE}: a {@code 101} to a request that asked for no
 *       switch) fails with 502 and is never sent elsewhere: the server answered, so the request ran there. nginx
 *       counts its {@code invalid_header} as a failed attempt but retries it only with
 *       {@code proxy_next_upstream invalid_header}, not by default; HAProxy only with {@code retry-on junk-response};
 *       Envoy answers its upstream protocol error with 502 and retries only with {@code retry_on: reset}.</li>
 *   <li>Otherwise: 504 for a timeout, 502 for anything else.</li>
 * </ol>
 */
final class Failover {

  /** How an attempt failed. */
  enum Kind {
    CONNECT_REFUSED("connect_failed"),
    CONNECT_TIMEOUT("connect_failed"),
    RESET_BEFORE_RESPONSE("reset"),
    RESET_ON_REUSED("reused_connection"),
    RESPONSE_TIMEOUT("timeout"),
    BROKEN_BODY("broken_response"),
    /**
     * A response head that cannot be relayed: a {@code 101 Switching Protocols} to a request that asked for no switch
     * (or to another protocol than the {@code websocket} it asked for). RFC 9110 §7.8: a server must not switch to a
     * protocol the request's {@code Upgrade} did not list; relayed, the client would stop speaking HTTP to Tether.
     */
    INVALID_RESPONSE("invalid_response");

    private final String label;

    Kind(String label) {
      this.label = label;
    }

    /** The reason as metrics, logs and passive health name it. */
    String label() {
      return label;
    }

    /** Whether the server is to blame: counted by passive health, and a pinned user moves away. */
    boolean blamesServer() {
      return this != RESET_ON_REUSED;
    }

    /** Classifies a Vert.x failure of a connect ({@code connecting}) or of a request on a connection. */
    static Kind of(Throwable cause, boolean connecting, boolean reusedConnection) {
      if (connecting) {
        return cause instanceof ConnectTimeoutException ? CONNECT_TIMEOUT : CONNECT_REFUSED;
      }
      // (Tether's own wait resets the request with a TimeoutException, which Vert.x wraps in a StreamResetException)
      if (cause instanceof TimeoutException || cause.getCause() instanceof TimeoutException) {
        return RESPONSE_TIMEOUT;
      }
      return reusedConnection && (cause instanceof HttpClosedException || cause instanceof java.io.IOException)
          ? RESET_ON_REUSED : RESET_BEFORE_RESPONSE;
    }
  }

  /** How far the attempt got. */
  enum Phase { NOTHING_SENT, SENT, RESPONSE_STARTED }

  /** What to do. */
  enum Action { RETRY_ELSEWHERE, RETRY_SAME_SERVER_FRESH_CONNECTION, FAIL, CLOSE_CLIENT }

  /** The decision: an action and, for {@link Action#FAIL}, the status the client gets. */
  record Decision(Action action, int status) {
    static final Decision ELSEWHERE = new Decision(Action.RETRY_ELSEWHERE, 0);
    static final Decision SAME_FRESH = new Decision(Action.RETRY_SAME_SERVER_FRESH_CONNECTION, 0);
    static final Decision CLOSE = new Decision(Action.CLOSE_CLIENT, 0);
    static final Decision BAD_GATEWAY = new Decision(Action.FAIL, 502);
    static final Decision GATEWAY_TIMEOUT = new Decision(Action.FAIL, 504);
  }

  /** The request as failover sees it. */
  record Request(HttpMethod method, boolean replayable, RetryAfterSend retryAfterSend) {}

  private Failover() {}

  /**
   * @param attemptsLeft servers this request may still try ({@code max_attempts} minus those tried)
   * @param freshRetried the request was already re-sent once on a fresh connection
   */
  static Decision decide(Kind kind, Phase phase, Request request, int attemptsLeft, boolean freshRetried) {
    if (phase == Phase.RESPONSE_STARTED) {
      return Decision.CLOSE;
    }
    if (kind == Kind.INVALID_RESPONSE) {
      return Decision.BAD_GATEWAY; // the server answered: the request ran there (nginx's invalid_header, not retried)
    }
    boolean resendable = isIdempotent(request.method()) && request.replayable();
    if (kind == Kind.RESET_ON_REUSED && resendable && !freshRetried) {
      return Decision.SAME_FRESH;
    }
    Decision fail = kind == Kind.RESPONSE_TIMEOUT ? Decision.GATEWAY_TIMEOUT : Decision.BAD_GATEWAY;
    if (attemptsLeft <= 0) {
      return fail;
    }
    if (phase == Phase.NOTHING_SENT) {
      return Decision.ELSEWHERE;
    }
    return resendable && request.retryAfterSend() == RetryAfterSend.IDEMPOTENT ? Decision.ELSEWHERE : fail;
  }

  static boolean isIdempotent(HttpMethod method) {
    return method == HttpMethod.GET || method == HttpMethod.HEAD || method == HttpMethod.PUT
        || method == HttpMethod.DELETE || method == HttpMethod.OPTIONS || method == HttpMethod.TRACE;
  }
}
