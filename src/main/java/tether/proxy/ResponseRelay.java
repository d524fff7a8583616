package tether.proxy;

import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.net.impl.ConnectionBase;
import io.vertx.core.streams.Pipe;
import io.vertx.core.streams.ReadStream;
import tether.compression.Compression;
import tether.upstream.Backend;

/**
 * A server's response, relayed to the client: the status, the end-to-end headers ({@link Headers}) with the Server
 * policy and the route's response rules, the sticky cookie naming the server that actually served, then the body,
 * compressed if the route says so ({@link Compression}), timed by the attempt's {@link SilenceTimeout} and piped with
 * the client's backpressure. A body cut short closes the client connection, so the response reads as truncated, and
 * counts against the server; a client that hangs up mid-body is its own doing (499). A 101 accepting a WebSocket
 * handshake turns both connections into a {@link Tunnel}; a 101 nobody asked for is a failed attempt
 * ({@link Failover.Kind#INVALID_RESPONSE}: 502, the connection closed, the server blamed). One per relayed body,
 * the continuation of the sticky session's sharing; event-loop confined.
 */
final class ResponseRelay implements Handler<AsyncResult<Void>> {

  private final ProxyExchange x;
  private final Attempt attempt;
  private final HttpClientResponse in;
  private final int status;
  private final HttpServerResponse resp;
  private final SilenceTimeout silence;
  private final ReadStream<Buffer> body;
  private final Pipe<Buffer> pipe;

  private ResponseRelay(ProxyExchange x, Attempt attempt, HttpClientResponse in, int status, HttpServerResponse resp,
                        SilenceTimeout silence, ReadStream<Buffer> body, Pipe<Buffer> pipe) {
    this.x = x;
    this.attempt = attempt;
    this.in = in;
    this.status = status;
    this.resp = resp;
    this.silence = silence;
    this.body = body;
    this.pipe = pipe;
  }

  /** The head of {@code in}, the response to attempt {@code a} of {@code x}, arrived: it goes to the client. */
  static void relay(ProxyExchange x, Attempt a, HttpClientResponse in) {
    Backend backend = a.backend;
    x.ctx.listener().firstByte(backend, System.nanoTime() - a.startNanos);
    int status = in.statusCode();
    if (status == 101 && !(x.upgrade && Handshake.accepted(in.headers()))) {
      // a switch nobody asked for, or to another protocol: relayed, the client would stop speaking HTTP to Tether.
      // Not a response (nothing of it is relayed, it ends no run of failures): a failed attempt, as on the fast path
      in.exceptionHandler(err -> { });
      in.request().connection().close(); // never back to the pool: the server no longer speaks HTTP on it
      x.attemptFailed(a, Failover.Kind.INVALID_RESPONSE);
      return;
    }
    a.responded = true;
    backend.reportResponse(status);
    x.ctx.listener().backendResponded(backend, status);
    if (x.finished) {
      in.request().reset();
      return;
    }
    HttpServerResponse resp = x.req.response();
    resp.setStatusCode(status);
    String message = in.statusMessage();
    if (status != 304 && message != null && !message.isEmpty()) {
      resp.setStatusMessage(message); // (not on 304: Vert.x would then add a Content-Length, RFC 9110 §8.6)
    }
    Headers.copyEndToEnd(in.headers(), resp.headers());
    x.serverHeader.apply(resp.headers());
    if (x.rules != null) {
      x.rules.onResponse(resp.headers()); // before the sticky cookie: a rule cannot drop it
    }
    Future<Void> shared = x.sticky.onResponseShared(x.placement.pin(), backend, in.headers(), resp.headers(),
        x.https);
    x.placement.announce(backend);
    if (x.upstream.config().debugHeader()) {
      resp.putHeader("X-Tether-Upstream", x.placement.debugHeader(backend));
    }
    if (status == 101) {
      switchProtocols(x, a, in);
      return;
    }
    // compressed: no Content-Length any more, so chunked below
    SilenceTimeout silence = a.silence.body(in); // the longest silence between body chunks
    ReadStream<Buffer> body = Compression.apply(x.compression, x.req, status, resp.headers(), silence);
    boolean bodyAllowed = x.req.method() != HttpMethod.HEAD && status >= 200 && status != 204 && status != 304;
    if (bodyAllowed && !resp.headers().contains(HttpHeaders.CONTENT_LENGTH)) {
      resp.setChunked(true);
    }
    a.phase = Failover.Phase.RESPONSE_STARTED;
    // endOnFailure(false): a truncated upstream body must end in a closed connection, never a clean end
    Pipe<Buffer> pipe = body.pipe().endOnFailure(false);
    // (at once, but for a session this response created: then once other instances can find it, or the store's
    // timeout)
    shared.onComplete(new ResponseRelay(x, a, in, status, resp, silence, body, pipe));
  }

  /** The sticky session is shared: the body flows, unless the exchange ended meanwhile. */
  @Override
  public void handle(AsyncResult<Void> shared) {
    if (x.finished) {
      silence.cancel();
      Compression.release(body);
      pipe.close();
      return;
    }
    pipe.to(resp).onComplete(this::piped);
  }

  private void piped(AsyncResult<Void> done) {
    silence.cancel();
    if (done.succeeded()) {
      x.finish(status, false, false);
    } else if (x.finished || resp.closed() || !clientOpen(x.req)) {
      Compression.release(body);
      x.clientLeft(); // the client hung up mid-body (or on its last write): its doing, never the server's
    } else {
      Compression.release(body);
      in.request().reset();
      ErrorResponses.abort(x.req);
      x.blame(attempt, Failover.Kind.BROKEN_BODY);
      x.finish(status, true, true);
    }
  }

  /**
   * The backend accepted the handshake: the 101 (with the sticky cookie already set) goes to the client and both
   * connections become one {@link Tunnel}. The exchange ends here, as a request of status 101 (499 if the client
   * left meanwhile); the tunnel is counted on its own. A refused handshake never gets here: its answer is relayed
   * as a response and the client connection stays HTTP.
   */
  private static void switchProtocols(ProxyExchange x, Attempt a, HttpClientResponse in) {
    a.silence.cancel(); // the tunnel has its own idle timeout
    a.connection = null; // the tunnel owns the attempt's dedicated connection now
    a.phase = Failover.Phase.RESPONSE_STARTED;
    Tunnel.open(x.req, in, a.backend, x.ctx.snapshot().config().timeouts().tunnelIdle().toMillis(), x.ctx.listener())
        .onComplete(ar -> x.finish(ar.succeeded() ? 101 : 499, ar.failed(), ar.failed()));
  }

  /**
   * Whether the client's connection is still open. Vert.x marks a response closed when the channel's close event
   * arrives; on io_uring that event comes a loop later than the failed write that shows the client is gone, so the
   * channel itself is asked.
   */
  static boolean clientOpen(HttpServerRequest req) {
    return !(req.connection() instanceof ConnectionBase base) || base.channel().isOpen();
  }
}
