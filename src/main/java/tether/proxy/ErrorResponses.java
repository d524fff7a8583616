package tether.proxy;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

/** Small plain-text answers for what Tether itself decides: no route, no server, bad gateway, timeout. */
final class ErrorResponses {

  private ErrorResponses() {}

  /**
   * @param closeConnection true when the request body may be left unread, so the connection cannot be reused
   */
  static void send(HttpServerRequest req, int status, String message, boolean closeConnection) {
    send(req, status, message, closeConnection, status == 503 ? 1 : 0);
  }

  /** @param retryAfterSeconds sent as {@code Retry-After} when more than 0 (a 429's wait, a 503's second) */
  static void send(HttpServerRequest req, int status, String message, boolean closeConnection,
                   long retryAfterSeconds) {
    HttpServerResponse resp = req.response();
    if (resp.ended() || resp.closed()) {
      return;
    }
    if (resp.headWritten()) {
      req.connection().close();
      return;
    }
    resp.headers().clear();
    resp.setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; charset=utf-8");
    if (retryAfterSeconds > 0) {
      resp.putHeader(HttpHeaders.RETRY_AFTER, Long.toString(retryAfterSeconds));
    }
    if (closeConnection) {
      resp.putHeader(HttpHeaders.CONNECTION, "close");
    }
    var ended = resp.end(status + " " + resp.getStatusMessage() + ": " + message + "\n");
    if (closeConnection) {
      ended.onComplete(v -> req.connection().close());
    }
  }
}
