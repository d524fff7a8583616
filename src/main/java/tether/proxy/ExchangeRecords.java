package tether.proxy;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;

/**
 * The {@link ExchangeRecord} of an exchange Vert.x served ({@link ProxyExchange}), as it ends: the access log's line
 * and the listeners' last word on it. Bytes are as counted on the client connection, times in nanoseconds.
 */
final class ExchangeRecords {

  private ExchangeRecords() {
  }

  /**
   * @param status    what the client got (499: it left first)
   * @param truncated the response was cut short
   * @param now       {@link System#nanoTime()} at the end
   */
  static ExchangeRecord of(ProxyExchange x, int status, boolean truncated, long now) {
    HttpServerRequest req = x.req;
    Attempt a = x.attempt;
    String[] columns = x.attemptLog.columns(a, status);
    return new ExchangeRecord(x.clientAddress != null ? x.clientAddress : req.remoteAddress().hostAddress(),
        req.method().name(), req.uri(), req.version() == null ? "HTTP/1.1" : protocol(req), status,
        req.response().bytesWritten(), req.bytesRead(), x.upstream == null ? null : x.upstream.name(),
        a == null ? null : a.backend.name(), a == null ? -1 : now - a.startNanos, now - x.startNanos,
        stickyLabel(x.placement), x.placement == null ? 0 : x.placement.attempts(), truncated,
        req.getHeader(HttpHeaders.REFERER), req.getHeader(HttpHeaders.USER_AGENT),
        x.target == null || x.target.authority() == null ? null : x.target.authority().toString(), x.requestId,
        columns[0], columns[1]);
  }

  /** What stickiness did ({@link Placement.StickyOutcome#label}); null when it did nothing, or nothing was placed. */
  static String stickyLabel(Placement placement) {
    Placement.StickyOutcome o = placement == null ? null : placement.outcome();
    return o == null ? null : o.label;
  }

  private static String protocol(HttpServerRequest req) {
    return switch (req.version()) {
      case HTTP_1_0 -> "HTTP/1.0";
      case HTTP_2 -> "HTTP/2.0";
      default -> "HTTP/1.1";
    };
  }
}
