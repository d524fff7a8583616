package tether.proxy;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tether.edge.ErrorPages;

/**
 * The answers Tether makes itself: no route, no server, bad gateway, timeout, maintenance, a route's redirect.
 * A 5xx never names an upstream or a server to the public: its body is the status alone (or the configured HTML
 * page, to a client that accepts {@code text/html}: {@link ErrorPages}), and the detail goes to the log, at most one
 * line a second (an outage would otherwise flood it; the access log has every request). A 4xx says what the client
 * did wrong ({@code request body larger than ...}), which names nothing internal.
 */
final class ErrorResponses {

  private static final Logger LOG = LoggerFactory.getLogger(ErrorResponses.class);
  private static final long LOG_EVERY_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final AtomicLong nextLog = new AtomicLong(System.nanoTime());
  private static final AtomicLong unlogged = new AtomicLong();
  /** RST_STREAM codes (RFC 9113 §7). */
  private static final long NO_ERROR = 0;
  private static final long INTERNAL_ERROR = 2;

  private ErrorResponses() {}

  /**
   * A plain answer, outside any route.
   *
   * @param closeConnection true when the request body may be left unread, so the connection cannot be reused
   *                        (HTTP/2: only this stream is ended, see {@link #dropRest})
   */
  static void send(HttpServerRequest req, int status, String detail, boolean closeConnection) {
    send(req, status, detail, closeConnection, ErrorPages.NONE, null);
  }

  /**
   * A 4xx of Tether's own on a route, with its wait: {@code Retry-After} when more than 0 (a 429's seconds);
   * {@code decorate} adds the route's response headers and the Server policy, as on every answer of the route.
   */
  static void send(HttpServerRequest req, int status, String message, boolean closeConnection,
                   long retryAfterSeconds, Consumer<MultiMap> decorate) {
    write(req, status, message, retryAfterSeconds, closeConnection, ErrorPages.NONE, decorate);
  }

  /**
   * An answer on a route: {@code pages} are its upstream's, {@code decorate} adds the route's response headers and
   * the Server policy.
   */
  static void send(HttpServerRequest req, int status, String detail, boolean closeConnection, ErrorPages pages,
                   Consumer<MultiMap> decorate) {
    if (status >= 500) {
      logDetail(req, status, detail);
    }
    write(req, status, status >= 500 ? null : detail, status == 503 ? 1 : 0, closeConnection, pages, decorate);
  }

  /**
   * 503 for an upstream in maintenance: not logged (the switch was), and {@code Retry-After} as the operator set it.
   * The request's cookies are left as they are: a pinned user goes back to its server when maintenance ends.
   */
  static void maintenance(HttpServerRequest req, long retryAfterSeconds, boolean closeConnection, ErrorPages pages,
                          Consumer<MultiMap> decorate) {
    write(req, 503, null, retryAfterSeconds, closeConnection, pages, decorate);
  }

  /** A route's redirect: an empty body, {@code Location} as the route says. */
  static void redirect(HttpServerRequest req, int status, String location, boolean closeConnection,
                       Consumer<MultiMap> decorate) {
    HttpServerResponse resp = req.response();
    if (resp.ended() || resp.closed()) {
      return;
    }
    resp.setStatusCode(status).putHeader(HttpHeaders.LOCATION, location).putHeader(HttpHeaders.CONTENT_LENGTH, "0");
    end(req, resp, null, closeConnection, decorate);
  }

  private static void write(HttpServerRequest req, int status, String message, long retryAfterSeconds,
                            boolean closeConnection, ErrorPages pages, Consumer<MultiMap> decorate) {
    HttpServerResponse resp = req.response();
    if (resp.ended() || resp.closed()) {
      return;
    }
    if (resp.headWritten()) {
      abort(req);
      return;
    }
    resp.headers().clear();
    resp.setStatusCode(status);
    byte[] page = pages.html(status);
    Buffer body;
    if (page != null && ErrorPages.wantsHtml(req.getHeader(HttpHeaders.ACCEPT))) {
      resp.putHeader(HttpHeaders.CONTENT_TYPE, "text/html; charset=utf-8");
      body = Buffer.buffer(page);
    } else {
      resp.putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; charset=utf-8");
      body = Buffer.buffer(status + " " + resp.getStatusMessage() + (message == null ? "" : ": " + message) + "\n");
    }
    if (page != null) {
      resp.putHeader(HttpHeaders.VARY, "Accept");
    }
    resp.putHeader(HttpHeaders.CACHE_CONTROL, "no-store");
    if (retryAfterSeconds > 0) {
      resp.putHeader(HttpHeaders.RETRY_AFTER, Long.toString(retryAfterSeconds));
    }
    end(req, resp, body, closeConnection, decorate);
  }

  private static void end(HttpServerRequest req, HttpServerResponse resp, Buffer body, boolean closeConnection,
                          Consumer<MultiMap> decorate) {
    if (decorate != null) {
      decorate.accept(resp.headers());
    }
    boolean h2 = req.version() == HttpVersion.HTTP_2;
    if (closeConnection && !h2) {
      resp.putHeader(HttpHeaders.CONNECTION, "close"); // (a connection-specific header is malformed in HTTP/2)
    }
    Future<Void> ended = body == null ? resp.end() : resp.end(body);
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

  /** At most one line a second, saying how many went unlogged before it. */
  private static void logDetail(HttpServerRequest req, int status, String detail) {
    long now = System.nanoTime();
    long next = nextLog.get();
    if (now - next < 0 || !nextLog.compareAndSet(next, now + LOG_EVERY_NANOS)) {
      unlogged.incrementAndGet();
      return;
    }
    long skipped = unlogged.getAndSet(0);
    LOG.warn("{} for {} {}: {}{}", status, req.method(), req.path(), detail, skipped == 0 ? ""
        : " (" + skipped + " more 5xx answered since the previous line: see the access log)");
  }
}
