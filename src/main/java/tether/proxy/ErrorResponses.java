package tether.proxy;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;

/** Small plain-text answers for what Tether itself decides: no route, no server, bad gateway, timeout. */
final class ErrorResponses {

  /** RST_STREAM codes (RFC 9113 §7). */
  private static final long NO_ERROR = 0;
  private static final long INTERNAL_ERROR = 2;

  private ErrorResponses() {}

  /**
   * @param closeConnection true when the request body may be left unread, so the connection cannot be reused
   *                        (HTTP/2: only this stream is ended, see {@link #dropRest})
   */
  static void send(HttpServerRequest req, int status, String message, boolean closeConnection) {
    HttpServerResponse resp = req.response();
    if (resp.ended() || resp.closed()) {
      return;
    }
    if (resp.headWritten()) {
      abort(req);
      return;
    }
    resp.headers().clear();
    resp.setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; charset=utf-8");
    if (status == 503) {
      resp.putHeader(HttpHeaders.RETRY_AFTER, "1");
    }
    boolean h2 = req.version() == HttpVersion.HTTP_2;
    if (closeConnection && !h2) {
      resp.putHeader(HttpHeaders.CONNECTION, "close"); // (a connection-specific header is malformed in HTTP/2)
    }
    var ended = resp.end(status + " " + resp.getStatusMessage() + ": " + message + "\n");
    if (closeConnection) {
      ended.onComplete(v -> dropRest(req));
    }
  }

  /**
   * After a complete answer to a request whose body may be unread: HTTP/1 closes the connection; HTTP/2 asks the
   * client to stop sending with RST_STREAM NO_ERROR (RFC 9113 §8.1) when it is still sending, and the
   * connection's other streams go on.
   */
  static void dropRest(HttpServerRequest req) {
    if (req.version() != HttpVersion.HTTP_2) {
      req.connection().close();
    } else if (!req.isEnded()) {
      req.response().reset(NO_ERROR);
    }
  }

  /**
   * A response that cannot be completed (its head is out, its body broke): HTTP/1 closes the connection, the only
   * way to tell the client it is truncated; HTTP/2 resets just this stream with INTERNAL_ERROR, as nginx and Envoy
   * do, so one broken backend response does not take the connection's other streams down.
   */
  static void abort(HttpServerRequest req) {
    if (req.version() == HttpVersion.HTTP_2) {
      req.response().reset(INTERNAL_ERROR);
    } else {
      req.connection().close();
    }
  }
}
