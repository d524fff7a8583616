package tether.proxy;

import io.vertx.core.AsyncResult;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.HostAndPort;
import java.util.List;
import java.util.concurrent.TimeoutException;
import tether.sticky.Pin;
import tether.sticky.StickySession;
import tether.upstream.AdminState;
import tether.upstream.Attempts;
import tether.upstream.Backend;
import tether.upstream.Upstream;
import tether.upstream.balancing.HashRing;

/**
 * One client request, from routing to the last byte: pick (sticky first, then balancing), connect, forward,
 * stream back. A connect failure has sent nothing, so the request moves to another server whatever its method;
 * the client body stays paused until a connection is up so that this is always possible.
 */
final class ProxyExchange {

  private final ProxyContext ctx;
  private final HttpServerRequest req;
  private final long startNanos = System.nanoTime();
  private Upstream upstream;
  private StickySession sticky;
  private Pin pin = Pin.NONE;
  private Attempts attempts;
  private boolean hasBody;
  private boolean chunked;
  private Buffer heldBody;
  private ClientBody body;
  private RequestTarget target;
  private boolean https;
  private boolean trusted;
  private Backend current;
  private boolean attemptOpen;
  private long attemptStartNanos;
  private String stickyOutcome;
  private HttpClientRequest upstreamRequest;
  private boolean finished;

  ProxyExchange(ProxyContext ctx, HttpServerRequest req) {
    this.ctx = ctx;
    this.req = req;
  }

  void start() {
    ProxySnapshot snapshot = ctx.snapshot();
    var limits = snapshot.config().limits();
    chunked = req.headers().contains(HttpHeaders.TRANSFER_ENCODING);
    String contentLength = req.getHeader(HttpHeaders.CONTENT_LENGTH);
    hasBody = chunked || (contentLength != null && !contentLength.equals("0"));
    RequestValidator.Rejection rejection = RequestValidator.check(req, limits);
    if (rejection != null) {
      fail(rejection.status(), rejection.message(), true);
      return;
    }
    target = RequestTarget.of(req);
    upstream = snapshot.router().route(target.authority() == null ? null : target.authority().host(), target.path());
    if (upstream == null) {
      fail(404, "no route for this host and path");
      return;
    }
    long length = contentLength == null ? -1 : RequestValidator.contentLength(List.of(contentLength));
    if (length > limits.maxBodyBytes()) {
      fail(413, "request body larger than " + limits.maxBodyBytes() + " bytes", true);
      return;
    }
    trusted = snapshot.config().trustedProxies().trusts(req.remoteAddress().hostAddress());
    https = req.isSSL() || (trusted && "https".equalsIgnoreCase(req.getHeader("X-Forwarded-Proto")));
    req.response().closeHandler(v -> clientGone());
    sticky = snapshot.sticky().get(upstream.name());
    pin = sticky.resolve(req, upstream);
    attempts = new Attempts(upstream.config().maxAttempts());
    if (hasBody && !chunked && length <= upstream.config().retryBuffer() && RetryPolicy.isIdempotent(req.method())) {
      // small body of an idempotent request: hold it whole so a failed attempt can be replayed elsewhere
      req.body().onComplete(ar -> {
        if (ar.succeeded()) {
          heldBody = ar.result();
          nextAttempt(null);
        } else {
          clientGone();
        }
      });
      return;
    }
    if (hasBody) {
      req.pause(); // until a connection is up: a connect failure can then move any request elsewhere
      body = new ClientBody(req, ctx.vertx(), limits.maxBodyBytes(), snapshot.config().timeouts().body(),
          this::clientBodyFailed);
    }
    nextAttempt(null);
  }

  /** The client's body broke: too large, too slow, or malformed (bad chunk size). Nothing more is forwarded. */
  private void clientBodyFailed(int status, String message) {
    fail(status, message, true);
    if (upstreamRequest != null) {
      upstreamRequest.reset();
    }
  }

  private void nextAttempt(Throwable previousFailure) {
    Backend backend = choose();
    if (backend == null) {
      if (previousFailure == null) {
        fail(503, "no server available in upstream " + upstream.name());
      } else {
        failFrom(previousFailure);
      }
      return;
    }
    attempts.add(backend);
    current = backend;
    attemptStartNanos = System.nanoTime();
    backend.state().requestStarted();
    attemptOpen = true;
    ctx.request(backend, requestOptions(backend)).onComplete(ar -> connected(backend, ar));
  }

  /** The pinned server if it can take the request, else the balancer's choice among those not yet tried. */
  private Backend choose() {
    Backend target = pin.target();
    long now = System.nanoTime();
    if (target != null && !attempts.contains(target)) {
      String refusal = refusal(target, now);
      if (refusal == null) {
        stickyOutcome = "hit";
        return target;
      }
      repin(refusal);
    } else if (pin.invalid() != null && stickyOutcome == null) {
      repin(pin.invalid());
    }
    Backend chosen = pin.hash() != 0 ? upstream.pickByHash(pin.hash(), attempts)
        : upstream.pick(balancingHash(), attempts);
    if (chosen != null && stickyOutcome == null && sticky != StickySession.NONE) {
      stickyOutcome = "new";
    }
    return chosen;
  }

  private static String refusal(Backend target, long now) {
    var state = target.state();
    if (state.adminState() == AdminState.DISABLED) {
      return "disabled";
    }
    if (state.adminState() == AdminState.DRAIN && state.drainDeadlineNanos() != 0
        && now - state.drainDeadlineNanos() >= 0) {
      return "drain_deadline";
    }
    return state.available(now) ? null : "down";
  }

  private void repin(String reason) {
    if (stickyOutcome == null || stickyOutcome.equals("hit")) {
      stickyOutcome = "repin";
      ctx.listener().repinned(upstream.name(), reason);
    }
  }

  private long balancingHash() {
    if (upstream.config().balance() == tether.config.Balance.IP_HASH) {
      return HashRing.hash(req.remoteAddress().hostAddress());
    }
    return 0;
  }

  private RequestOptions requestOptions(Backend backend) {
    return new RequestOptions()
        .setServer(backend.address())
        .setHost(backend.config().host())
        .setPort(backend.config().port())
        .setMethod(req.method())
        .setURI(target.originForm())
        .setConnectTimeout(ctx.connectTimeoutMillis())
        .setIdleTimeout(ctx.responseTimeoutMillis());
  }

  private void connected(Backend backend, AsyncResult<HttpClientRequest> ar) {
    if (ar.failed()) {
      endAttempt(true);
      ctx.listener().backendFailed(backend, "connect_failed");
      if (finished) {
        return;
      }
      if (backend == pin.target()) {
        repin("connect_failed");
      }
      if (RetryPolicy.mayRetry(false, req.method(), true, false, !attempts.exhausted())) {
        ctx.listener().retried(backend, "connect_failed");
        nextAttempt(ar.cause());
      } else {
        failFrom(ar.cause());
      }
      return;
    }
    HttpClientRequest out = ar.result();
    if (finished) {
      out.reset();
      return;
    }
    upstreamRequest = out;
    forwardHead(out);
    out.response().onComplete(r -> {
      if (r.succeeded()) {
        respond(r.result());
      } else {
        upstreamFailedBeforeHead(r.cause());
      }
    });
    if (heldBody != null) {
      out.end(heldBody);
    } else if (hasBody) {
      body.pipe().endOnFailure(false).to(out).onFailure(err -> out.reset());
    } else {
      out.end();
    }
  }

  private void forwardHead(HttpClientRequest out) {
    if (target.authority() != null) {
      out.authority(target.authority());
    }
    MultiMap headers = out.headers();
    Headers.copyRequestHeaders(req.headers(), headers);
    sticky.stripFromRequest(headers);
    ForwardedHeaders.apply(req, headers, trusted, https);
    if (chunked) {
      out.setChunked(true);
    }
    if (req.headers().contains(HttpHeaders.EXPECT)) {
      out.continueHandler(v -> req.response().writeContinue());
    }
  }

  private void respond(HttpClientResponse in) {
    Backend backend = current;
    ctx.listener().backendResponded(backend, in.statusCode());
    if (finished) {
      in.request().reset();
      return;
    }
    HttpServerResponse resp = req.response();
    int status = in.statusCode();
    resp.setStatusCode(status);
    String message = in.statusMessage();
    if (message != null && !message.isEmpty()) {
      resp.setStatusMessage(message);
    }
    Headers.copyEndToEnd(in.headers(), resp.headers());
    sticky.onResponse(req, pin, backend, in.headers(), resp.headers(), https);
    if ("hit".equals(stickyOutcome)) {
      ctx.listener().stickyHit(backend, pin.userKey());
    } else if ("new".equals(stickyOutcome)) {
      ctx.listener().newPin(upstream.name());
    }
    if (upstream.config().debugHeader()) {
      resp.putHeader("X-Tether-Upstream", backend.name() + "; sticky=" + (stickyOutcome == null ? "none"
          : stickyOutcome));
    }
    boolean bodyAllowed = req.method() != HttpMethod.HEAD && status >= 200 && status != 204 && status != 304;
    if (bodyAllowed && !in.headers().contains(HttpHeaders.CONTENT_LENGTH)) {
      resp.setChunked(true);
    }
    // endOnFailure(false): a truncated upstream body must end in a closed connection, never a clean end
    in.pipe().endOnFailure(false).to(resp).onComplete(done -> {
      if (done.succeeded()) {
        finish(status, false, false);
      } else {
        in.request().reset();
        req.connection().close();
        ctx.listener().backendFailed(backend, "broken_response");
        finish(status, true, true);
      }
    });
  }

  private void upstreamFailedBeforeHead(Throwable cause) {
    if (finished) {
      return;
    }
    String reason = cause instanceof TimeoutException ? "timeout" : "reset";
    Backend failed = current;
    ctx.listener().backendFailed(failed, reason);
    boolean replayable = !hasBody || heldBody != null;
    if (!finished && RetryPolicy.mayRetry(true, req.method(), replayable, req.response().headWritten(),
        !attempts.exhausted())) {
      endAttempt(true);
      if (failed == pin.target()) {
        repin(reason);
      }
      ctx.listener().retried(failed, reason);
      nextAttempt(cause);
    } else {
      failFrom(cause);
    }
  }

  private void failFrom(Throwable cause) {
    if (cause instanceof TimeoutException) {
      fail(504, "upstream server did not answer in time");
    } else {
      fail(502, "upstream server unreachable or broken");
    }
  }

  private void fail(int status, String message) {
    fail(status, message, hasBody);
  }

  /** @param close the connection cannot be reused: the body may be unread, or the request was hostile */
  private void fail(int status, String message, boolean close) {
    if (finished) {
      return;
    }
    ErrorResponses.send(req, status, message, close);
    finish(status, true, false);
  }

  private void clientGone() {
    if (!finished) {
      if (upstreamRequest != null) {
        upstreamRequest.reset();
      }
      finish(499, true, true);
    }
  }

  private void finish(int status, boolean failed, boolean truncated) {
    if (finished) {
      return;
    }
    finished = true;
    long now = System.nanoTime();
    endAttempt(failed && status >= 500);
    ctx.listener().exchangeEnded(new ExchangeRecord(req.remoteAddress().hostAddress(), req.method().name(),
        req.uri(), req.version() == null ? "HTTP/1.1" : protocol(req), status, req.response().bytesWritten(),
        req.bytesRead(), upstream == null ? null : upstream.name(), current == null ? null : current.name(),
        current == null ? -1 : now - attemptStartNanos, now - startNanos, stickyOutcome,
        attempts == null ? 0 : attempts.count(), truncated, req.getHeader(HttpHeaders.REFERER),
        req.getHeader(HttpHeaders.USER_AGENT)));
  }

  private void endAttempt(boolean failed) {
    if (attemptOpen) {
      attemptOpen = false;
      current.state().requestEnded(failed);
    }
  }

  private static String protocol(HttpServerRequest req) {
    return switch (req.version()) {
      case HTTP_1_0 -> "HTTP/1.0";
      case HTTP_2 -> "HTTP/2.0";
      default -> "HTTP/1.1";
    };
  }

}
