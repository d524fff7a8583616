package tether.proxy;

import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpConnectOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.RequestOptions;
import java.util.concurrent.TimeUnit;
import tether.upstream.Backend;

/**
 * One attempt's request to its server (Envoy's upstream request): the connection, pooled or dialled for the attempt
 * alone ({@link Attempt#dedicated}); the head as {@link ForwardedHeaders} and the route's request rules make it; the
 * body ({@link RequestBody}) if any; then the wait for the response head, which goes to {@link ResponseRelay}. A
 * failure before that head goes back to {@link ProxyExchange#attemptFailed} as a {@link Failover.Kind}. One per
 * attempt, event-loop confined; it is its connection's completion handler, so that takes no lambda.
 */
final class UpstreamRequest implements Handler<AsyncResult<HttpClientRequest>> {

  /** A request failover would not resend never goes on a pooled connection idle this long: the keep-alive race. */
  static final long RACE_SAFE_IDLE_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final ProxyExchange x;
  private final Attempt a;

  private UpstreamRequest(ProxyExchange x, Attempt a) {
    this.x = x;
    this.a = a;
  }

  /** Sends {@code x}'s request for {@code a} on a connection from the event loop's pool. */
  static void pooled(ProxyExchange x, Attempt a) {
    UpstreamRequest r = new UpstreamRequest(x, a);
    x.ctx.request(a.backend, r.options()).onComplete(r);
  }

  /**
   * Sends {@code x}'s request for {@code a} on a connection of its own: the same server again after a pooled
   * connection the server closed, a request that may not ride an idle pooled one ({@link #RACE_SAFE_IDLE_NANOS}),
   * or any WebSocket handshake (the connection becomes the tunnel).
   */
  static void dedicated(ProxyExchange x, Attempt a) {
    UpstreamRequest r = new UpstreamRequest(x, a);
    Backend backend = a.backend;
    if (a.address == null) { // its name stopped resolving: fails at once, as a connect failure
      x.ctx.request(backend, r.options()).onComplete(r);
      return;
    }
    x.ctx.client().connect(new HttpConnectOptions().setServer(a.address).setHost(backend.config().host())
            .setPort(backend.config().port()).setConnectTimeout(x.ctx.connectTimeoutMillis()))
        .compose(conn -> {
          a.connection = conn;
          return conn.request(r.options());
        })
        .onComplete(r);
  }

  private RequestOptions options() {
    Backend backend = a.backend;
    return new RequestOptions()
        .setServer(a.address)
        .setHost(backend.config().host())
        .setPort(backend.config().port())
        .setMethod(x.req.method())
        .setURI(x.forwardUri)
        .setConnectTimeout(x.ctx.connectTimeoutMillis());
  }

  /** The connection is up (or failed): the head and body go out, and the response is awaited. */
  @Override
  public void handle(AsyncResult<HttpClientRequest> ar) {
    if (a.abandoned) {
      return;
    }
    if (ar.failed()) {
      x.attemptFailed(a, Failover.Kind.of(ar.cause(), true, false));
      return;
    }
    HttpClientRequest out = ar.result();
    if (x.finished) {
      out.exceptionHandler(err -> { }).reset(); // the client left while connecting: no log line
      a.end(false);
      return;
    }
    a.request = out;
    a.silence = new SilenceTimeout(x.ctx.eventLoop(), out, x.ctx.responseTimeoutMillis());
    out.exceptionHandler(err -> { }); // failures arrive through response(); a reset is ours, not worth a log line
    if (!a.dedicated) {
      a.use = x.ctx.connections().of(out.connection());
      if (a.use.tag(a.backend)) {
        x.ctx.listener().upstreamConnections(a.backend, 1);
      }
      long now = System.nanoTime();
      long idle = a.use.idleNanos(now);
      a.reused = a.use.startRequest();
      if (a.reused && !x.resendable() && idle >= RACE_SAFE_IDLE_NANOS) {
        // a request we would not resend never rides a connection the server may be closing right now
        a.abandoned = true;
        a.use = null;
        a.end(false);
        out.connection().close();
        x.freshAttempt(a.backend);
        return;
      }
    }
    if (!a.reused) {
      x.ctx.listener().connected(a.backend, System.nanoTime() - a.startNanos);
    }
    forwardHead(out);
    out.response().onComplete(r -> {
      if (a.abandoned) {
        return;
      }
      if (r.succeeded()) {
        ResponseRelay.relay(x, a, r.result());
      } else {
        x.attemptFailed(a, Failover.Kind.of(r.cause(), false, a.reused));
      }
    });
    a.phase = Failover.Phase.SENT;
    if (x.upgrade) {
      out.connect(); // the head alone: on a 101 Vert.x hands the connection over as raw bytes
      a.silence.start();
      return;
    }
    Future<Void> sent = x.body != null ? x.body.send(out) : out.end();
    // the wait for the response head starts once the request is sent: a slow upload is not a slow server
    SilenceTimeout silence = a.silence;
    sent.onSuccess(v -> silence.start());
  }

  private void forwardHead(HttpClientRequest out) {
    if (x.target.authority() != null) {
      out.authority(x.target.authority());
    }
    MultiMap headers = out.headers();
    ForwardedHeaders.copy(x.req.headers(), headers, x.sticky.ownCookie(), x.clientAddress, x.req.authority(), x.trusted, x.https,
        x.requestId);
    if (x.rules != null) {
      x.rules.onRequest(headers);
    }
    headers.remove(HttpHeaders.EXPECT); // Tether itself answers 100-continue when it reads the body
    if (x.upgrade) {
      Handshake.forward(headers);
    } else {
      headers.set(HttpHeaders.CONNECTION, HttpHeaders.KEEP_ALIVE); // so Apache announces its keep-alive timeout
    }
    if (x.chunked) {
      out.setChunked(true);
    }
  }
}
