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
    if (status == 503) {
      resp.putHeader(HttpHeaders.RETRY_AFTER, "1");
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
