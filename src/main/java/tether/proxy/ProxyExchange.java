package tether.proxy;

import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpConnectOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.streams.Pipe;
import io.vertx.core.streams.ReadStream;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import tether.edge.ErrorPages;
import tether.edge.HeaderValue;
import tether.edge.RouteRules;
import tether.edge.ServerHeader;
import tether.limits.Admission;
import tether.limits.RouteLimits;
import tether.compression.Compression;
import tether.config.CompressionConfig;
import tether.sticky.Pin;
import tether.sticky.StickyRequest;
import tether.sticky.StickySession;
import tether.upstream.Backend;
import tether.upstream.Maintenance;
import tether.upstream.Upstream;

/**
 * One client request, from routing to the last byte: pick (sticky first, then balancing), connect, forward,
 * stream back. What happens when an attempt fails is {@link Failover}'s decision; this class carries it out.
 * The client body stays paused until a connection is up, so a connect failure can always move the request.
 * A WebSocket handshake ({@link Handshake}) is routed, stuck and failed over like any request, on a connection of
 * its own; the backend's 101 turns both connections into a {@link Tunnel}.
 */
final class ProxyExchange {

  /** A request failover would not resend never goes on a pooled connection idle this long: the keep-alive race. */
  static final long RACE_SAFE_IDLE_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final ProxyContext ctx;
  private final HttpServerRequest req;
  private final long startNanos = System.nanoTime();
  private Upstream upstream;
  private StickySession sticky;
  private Placement placement;
  private boolean hasBody;
  private boolean chunked;
  private boolean expectContinue;
  private Buffer heldBody;
  private ClientBody body;
  private RequestTarget target;
  private boolean https;
  private boolean trusted;
  private Attempt attempt;
  private boolean freshRetried;
  private boolean upgrade;
  private boolean finished;
  private String requestId;
  /** The peer's address, read once the request is routed. */
  private String clientAddress;
  /** What the route's rate and connection limits said; released when the exchange ends. */
  private Admission admission;
  private ServerHeader serverHeader = ServerHeader.PASS;
  /** The route's redirect, rewrite and header rules; null on a route without any (the usual case). */
  private RouteRules rules;
  /** The origin-form URI sent to the backend: the client's, or the route's rewrite of it. */
  private String forwardUri;
  /** The route's: what {@link Compression} may do to the response. */
  private CompressionConfig compression = CompressionConfig.OFF;
  /** Failed attempts' addresses and outcomes, for the access log; null in the usual one-attempt case. */
  private final AttemptLog attemptLog = new AttemptLog();


  /** What the fast path leaves: a pin being looked up, or a first attempt that failed; null on most requests. */
  private Handover handover;

  ProxyExchange(ProxyContext ctx, HttpServerRequest req) {
    this(ctx, req, null);
  }

  /** @param handover what {@link FastPath} leaves to this exchange, or null */
  ProxyExchange(ProxyContext ctx, HttpServerRequest req, Handover handover) {
    this.ctx = ctx;
    this.req = req;
    this.handover = handover;
  }

  void start() {
    ProxySnapshot snapshot = ctx.snapshot();
    var limits = snapshot.config().limits();
    serverHeader = snapshot.config().serverHeader();
    String contentLength = req.getHeader(HttpHeaders.CONTENT_LENGTH);
    chunked = req.headers().contains(HttpHeaders.TRANSFER_ENCODING)
        || (contentLength == null && Http2Requests.bodyFollows(req)); // h2: a body of unknown length
    hasBody = chunked || (contentLength != null && !contentLength.equals("0"));
    RequestValidator.Rejection rejection = RequestValidator.check(req, limits);
    if (rejection != null) {
      fail(rejection.status(), rejection.message(), true);
      return;
    }
    target = RequestTarget.of(req);
    Router.Route route = snapshot.router().match(target.authority() == null ? null : target.authority().host(),
        target.path());
    if (route == null) {
      fail(404, "no route for this host and path");
      return;
    }
    compression = route.compression();
    clientAddress = req.remoteAddress().hostAddress();
    trusted = snapshot.config().trustedProxies().trusts(clientAddress);
    requestId = handover != null ? handover.requestId() : RequestIds.of(req, trusted); // (one id per request)
    https = req.isSSL() || (trusted && "https".equalsIgnoreCase(req.getHeader("X-Forwarded-Proto")));
    rules = route.rules();
    forwardUri = target.originForm();
    if (rules != null && !edgeRules()) {
      return;
    }
    upstream = route.upstream();
    Maintenance.On maintenance = upstream.maintenance().on();
    if (maintenance != null) {
      ErrorResponses.maintenance(req, maintenance.retryAfterSeconds(), hasBody, upstream.config().errorPages(),
          this::decorateOwn);
      finish(503, false, false);
      return;
    }
    long length = contentLength == null ? -1 : RequestValidator.contentLength(List.of(contentLength));
    if (length > limits.maxBodyBytes()) {
      fail(413, "request body larger than " + limits.maxBodyBytes() + " bytes", true);
      return;
    }
    expectContinue = hasBody && req.version() != HttpVersion.HTTP_1_0
        && "100-continue".equalsIgnoreCase(req.getHeader(HttpHeaders.EXPECT));
    admission = route.limits().admit(req.headers(), clientAddress, snapshot.config().trustedProxies());
    if (!admission.admitted()) {
      limited(route.limits().route());
      return;
    }
    req.response().closeHandler(v -> clientGone());
    sticky = snapshot.sticky().get(upstream.name());
    Handover h = adoptHandover();
    if (h != null && h.placement() != null) {
      route(snapshot, length, h.placement().pin(), false);
      return;
    }
    Future<Pin> resolved = h != null && h.pin() != null ? h.pin()
        : sticky.resolveAsync(StickyRequest.of(req), upstream);
    if (resolved.isComplete()) {
      route(snapshot, length, resolved.succeeded() ? resolved.result() : Pin.NONE, false);
      return;
    }
    // the session is not known here: its sticky mode asks the shared store, for a few milliseconds at most
    if (hasBody) {
      req.pause(); // nothing of the body is read (or lost) meanwhile
    }
    resolved.onComplete(ar -> {
      if (!finished) {
        route(snapshot, length, ar.succeeded() ? ar.result() : Pin.NONE, hasBody);
      }
    });
  }

  /**
   * The fast path's handover, if it was for this request's upstream (a reload may have moved the route meanwhile:
   * then its attempt just ends, and the request starts afresh).
   */
  private Handover adoptHandover() {
    Handover h = handover;
    if (h != null && h.upstream() != upstream) {
      if (h.attempt() != null) {
        h.attempt().end(false);
      }
      handover = null;
      return null;
    }
    return h;
  }

  /** Sticky first, then balancing. {@code paused}: the request was paused while the pin was looked up. */
  private void route(ProxySnapshot snapshot, long length, Pin resolved, boolean paused) {
    var limits = snapshot.config().limits();
    placement = handover != null && handover.placement() != null ? handover.placement()
        : new Placement(upstream, resolved, sticky != StickySession.NONE, ctx.listener(), clientAddress);
    upgrade = Handshake.isWebSocket(req.method(), req.version(), req.headers(), hasBody);
    if (hasBody && !chunked && length <= upstream.config().retryBuffer() && Failover.isIdempotent(req.method())) {
      // small body of an idempotent request: hold it whole so a failed attempt can be replayed elsewhere
      continueClient();
      req.body().onComplete(ar -> {
        if (ar.succeeded()) {
          heldBody = ar.result();
          nextAttempt(null);
        } else {
          clientGone();
        }
      });
      if (paused) {
        req.resume();
      }
      return;
    }
    if (hasBody) {
      req.pause(); // until a connection is up: a connect failure can then move any request elsewhere
      body = new ClientBody(req, ctx.vertx(), limits.maxBodyBytes(), snapshot.config().timeouts().body(),
          ctx.responseTimeoutMillis(), this::clientBodyFailed);
      if (chunked) {
        StrictRequestDecoder.onMalformedBody(req.connection(),
            problem -> clientBodyFailed(400, "malformed chunked body: " + problem));
      }
    }
    firstAttempt();
  }

  /** The first attempt, or what follows the fast path's failed one: as if that attempt had been this exchange's. */
  private void firstAttempt() {
    Handover h = handover;
    handover = null;
    if (h == null || h.attempt() == null) {
      nextAttempt(null);
      return;
    }
    attempt = h.attempt();
    if (h.status() != 0) {
      fail(h.status(), h.message(), true);
    } else {
      attemptFailed(attempt, h.kind());
    }
  }

  /**
   * A route's redirect answers here; a rewrite sets the URI to forward.
   *
   * @return false when the request was answered
   */
  private boolean edgeRules() {
    if (rules.redirect() != null) {
      ErrorResponses.redirect(req, rules.redirect().status(), rules.redirect().location(target.originForm()),
          hasBody, this::decorateOwn);
      finish(rules.redirect().status(), false, false);
      return false;
    }
    if (rules.rewrite() != null) {
      forwardUri = rules.rewrite().apply(forwardUri);
    }
    return true;
  }

  /** A header rule's variable, for this request. */
  private String variable(HeaderValue.Variable v) {
    return switch (v) {
      case CLIENT_IP -> ForwardedHeaders.clientIp(req, ctx.snapshot().config().trustedProxies());
      case REQUEST_ID -> requestId;
      case SCHEME -> https ? "https" : "http";
      case HOST -> target.authority() == null ? "" : target.authority().host().toLowerCase(Locale.ROOT);
    };
  }

  /** On Tether's own answers: the Server policy and the route's response rules. */
  private void decorateOwn(MultiMap headers) {
    serverHeader.applyOwn(headers);
    if (rules != null && rules.response() != null) {
      rules.response().apply(headers, this::variable);
    }
  }

  /** The client's body broke: too large, too slow, malformed, or the backend stopped reading it. */
  private void clientBodyFailed(int status, String message) {
    fail(status, message, true);
    if (attempt != null && attempt.request != null) {
      attempt.request.reset();
    }
  }

  /** Answers {@code Expect: 100-continue} once Tether is about to read the body (nginx and Envoy do the same). */
  private void continueClient() {
    if (expectContinue && !req.response().headWritten()) {
      expectContinue = false;
      req.response().writeContinue();
    }
  }

  private boolean replayable() {
    return !hasBody || heldBody != null;
  }

  /** Failover would send this request again after a failure on a reused connection. */
  private boolean resendable() {
    return replayable() && Failover.isIdempotent(req.method());
  }

  /** @param previous why the last attempt failed; null for the first attempt */
  private void nextAttempt(Failover.Kind previous) {
    Backend backend = placement.next();
    if (backend == null) {
      if (previous == null) {
        fail(503, "no server available");
      } else {
        fail(previous == Failover.Kind.RESPONSE_TIMEOUT ? 504 : 502, "upstream server unreachable or broken");
      }
      return;
    }
    if (upgrade) {
      freshAttempt(backend); // a tunnel neither takes a pooled connection nor gives one back
      return;
    }
    Attempt a = new Attempt(backend, false);
    attempt = a;
    ctx.request(backend, requestOptions(backend)).onComplete(ar -> connected(a, ar));
  }

  /**
   * A connection of its own: the same server again after a pooled connection the server closed, or any WebSocket
   * handshake (the connection becomes the tunnel).
   */
  private void freshAttempt(Backend backend) {
    Attempt a = new Attempt(backend, true);
    attempt = a;
    if (backend.address() == null) { // its name stopped resolving: fails at once, as a connect failure
      ctx.request(backend, requestOptions(backend)).onComplete(ar -> connected(a, ar));
      return;
    }
    ctx.client().connect(new HttpConnectOptions().setServer(backend.address()).setHost(backend.config().host())
            .setPort(backend.config().port()).setConnectTimeout(ctx.connectTimeoutMillis()))
        .compose(conn -> {
          a.connection = conn;
          return conn.request(requestOptions(backend));
        })
        .onComplete(ar -> connected(a, ar));
  }

  private RequestOptions requestOptions(Backend backend) {
    return new RequestOptions()
        .setServer(backend.address())
        .setHost(backend.config().host())
        .setPort(backend.config().port())
        .setMethod(req.method())
        .setURI(forwardUri)
        .setConnectTimeout(ctx.connectTimeoutMillis());
  }

  private void connected(Attempt a, AsyncResult<HttpClientRequest> ar) {
    if (a.abandoned) {
      return;
    }
    if (ar.failed()) {
      attemptFailed(a, Failover.Kind.of(ar.cause(), true, false));
      return;
    }
    HttpClientRequest out = ar.result();
    if (finished) {
      out.exceptionHandler(err -> { }).reset(); // the client left while connecting: no log line
      a.end(false);
      return;
    }
    a.request = out;
    a.silence = new SilenceTimeout(ctx.eventLoop(), out, ctx.responseTimeoutMillis());
    out.exceptionHandler(err -> { }); // failures arrive through response(); a reset is ours, not worth a log line
    if (!a.dedicated) {
      a.use = ctx.connections().of(out.connection());
      if (a.use.tag(a.backend)) {
        ctx.listener().upstreamConnections(a.backend, 1);
      }
      long now = System.nanoTime();
      long idle = a.use.idleNanos(now);
      a.reused = a.use.startRequest();
      if (a.reused && !resendable() && idle >= RACE_SAFE_IDLE_NANOS) {
        // a request we would not resend never rides a connection the server may be closing right now
        a.abandoned = true;
        a.use = null;
        a.end(false);
        out.connection().close();
        freshAttempt(a.backend);
        return;
      }
    }
    if (!a.reused) {
      ctx.listener().connected(a.backend, System.nanoTime() - a.startNanos);
    }
    forwardHead(out);
    out.response().onComplete(r -> {
      if (a.abandoned) {
        return;
      }
      if (r.succeeded()) {
        respond(a, r.result());
      } else {
        attemptFailed(a, Failover.Kind.of(r.cause(), false, a.reused));
      }
    });
    a.phase = Failover.Phase.SENT;
    if (upgrade) {
      out.connect(); // the head alone: on a 101 Vert.x hands the connection over as raw bytes
      a.silence.start();
      return;
    }
    Future<Void> sent;
    if (heldBody != null) {
      sent = out.end(heldBody);
    } else if (hasBody) {
      continueClient();
      sent = body.pipe().endOnFailure(false).to(out);
      sent.onFailure(err -> out.reset());
    } else {
      sent = out.end();
    }
    // the wait for the response head starts once the request is sent: a slow upload is not a slow server
    SilenceTimeout silence = a.silence;
    sent.onSuccess(v -> silence.start());
  }

  private void forwardHead(HttpClientRequest out) {
    if (target.authority() != null) {
      out.authority(target.authority());
    }
    MultiMap headers = out.headers();
    ForwardedHeaders.copy(req.headers(), headers, sticky, clientAddress, req.authority(), trusted, https,
        requestId);
    if (rules != null && rules.request() != null) {
      rules.request().apply(headers, this::variable);
    }
    headers.remove(HttpHeaders.EXPECT); // Tether itself answers 100-continue when it reads the body
    if (upgrade) {
      Handshake.forward(headers);
    } else {
      headers.set(HttpHeaders.CONNECTION, HttpHeaders.KEEP_ALIVE); // so Apache announces its keep-alive timeout
    }
    if (chunked) {
      out.setChunked(true);
    }
  }

  /** A failure that is the server's: its passive health, and the listeners (metrics, logs, the resolver). */
  private void blame(Backend backend, Failover.Kind kind) {
    backend.reportFailure(kind.label());
    ctx.listener().backendFailed(backend, kind.label());
  }

  /** What {@link Failover} decided, carried out. */
  private void attemptFailed(Attempt a, Failover.Kind kind) {
    if (finished) {
      a.end(false);
      return;
    }
    Backend failed = a.backend;
    attemptLog.failed(a, kind.label());
    if (kind.blamesServer()) {
      blame(failed, kind);
    }
    Failover.Decision decision = Failover.decide(kind, a.phase,
        new Failover.Request(req.method(), replayable(), upstream.config().retryAfterSend()),
        placement.attemptsLeft(), freshRetried);
    a.end(kind.blamesServer());
    switch (decision.action()) {
      case RETRY_SAME_SERVER_FRESH_CONNECTION -> {
        freshRetried = true;
        ctx.listener().retried(failed, kind.label());
        freshAttempt(failed);
      }
      case RETRY_ELSEWHERE -> {
        placement.failed(failed, kind.label());
        ctx.listener().retried(failed, kind.label());
        nextAttempt(kind);
      }
      case FAIL -> fail(decision.status(), decision.status() == 504 ? "upstream server did not answer in time"
          : "upstream server unreachable or broken");
      case CLOSE_CLIENT -> {
        ErrorResponses.abort(req);
        finish(502, true, true);
      }
    }
  }

  private void respond(Attempt a, HttpClientResponse in) {
    a.responded = true;
    Backend backend = a.backend;
    ctx.listener().firstByte(backend, System.nanoTime() - a.startNanos);
    backend.reportResponse(in.statusCode());
    ctx.listener().backendResponded(backend, in.statusCode());
    if (finished) {
      in.request().reset();
      return;
    }
    int status = in.statusCode();
    if (status == 101 && !(upgrade && Handshake.accepted(in.headers()))) {
      // a switch nobody asked for, or to another protocol: relayed, the client would stop speaking HTTP to Tether
      in.exceptionHandler(err -> { });
      in.request().connection().close(); // never back to the pool: the server no longer speaks HTTP on it
      fail(502, "upstream server switched protocols unasked", true);
      return;
    }
    HttpServerResponse resp = req.response();
    resp.setStatusCode(status);
    String message = in.statusMessage();
    if (status != 304 && message != null && !message.isEmpty()) {
      resp.setStatusMessage(message); // (not on 304: Vert.x would then add a Content-Length, RFC 9110 §8.6)
    }
    Headers.copyEndToEnd(in.headers(), resp.headers());
    serverHeader.apply(resp.headers());
    if (rules != null && rules.response() != null) {
      rules.response().apply(resp.headers(), this::variable); // before the sticky cookie: a rule cannot drop it
    }
    Future<Void> shared = sticky.onResponseShared(placement.pin(), backend, in.headers(), resp.headers(), https);
    placement.announce(backend);
    if (upstream.config().debugHeader()) {
      resp.putHeader("X-Tether-Upstream", placement.debugHeader(backend));
    }
    if (status == 101) {
      switchProtocols(a, in);
      return;
    }
    // compressed: no Content-Length any more, so chunked below
    SilenceTimeout silence = a.silence.body(in); // the longest silence between body chunks
    ReadStream<Buffer> body = Compression.apply(compression, req, status, resp.headers(), silence);
    boolean bodyAllowed = req.method() != HttpMethod.HEAD && status >= 200 && status != 204 && status != 304;
    if (bodyAllowed && !resp.headers().contains(HttpHeaders.CONTENT_LENGTH)) {
      resp.setChunked(true);
    }
    a.phase = Failover.Phase.RESPONSE_STARTED;
    // endOnFailure(false): a truncated upstream body must end in a closed connection, never a clean end
    Pipe<Buffer> pipe = body.pipe().endOnFailure(false);
    // (at once, but for a session this response created: then once other instances can find it, or the store's
    // timeout)
    shared.onComplete(v -> {
      if (finished) {
        silence.cancel();
        Compression.release(body);
        pipe.close();
        return;
      }
      pipe.to(resp).onComplete(done -> {
        silence.cancel();
        if (done.succeeded()) {
          finish(status, false, false);
        } else if (finished || resp.closed()) {
          Compression.release(body);
          clientGone(); // the client hung up mid-body: its doing, never the server's
        } else {
          Compression.release(body);
          in.request().reset();
          ErrorResponses.abort(req);
          blame(backend, Failover.Kind.BROKEN_BODY);
          finish(status, true, true);
        }
      });
    });
  }

  /**
   * The backend accepted the handshake: the 101 (with the sticky cookie already set) goes to the client and both
   * connections become one {@link Tunnel}. The exchange ends here, as a request of status 101 (499 if the client
   * left meanwhile); the tunnel is counted on its own. A refused handshake never gets here: its answer is relayed
   * as a response and the client connection stays HTTP.
   */
  private void switchProtocols(Attempt a, HttpClientResponse in) {
    a.silence.cancel(); // the tunnel has its own idle timeout
    a.connection = null; // the tunnel owns the attempt's dedicated connection now
    a.phase = Failover.Phase.RESPONSE_STARTED;
    Tunnel.open(req, in, a.backend, ctx.snapshot().config().timeouts().tunnelIdle().toMillis(), ctx.listener())
        .onComplete(ar -> finish(ar.succeeded() ? 101 : 499, ar.failed(), ar.failed()));
  }

  private void fail(int status, String message) {
    fail(status, message, hasBody);
  }

  /** A route limit refused the request: 429 with Retry-After, and no server is ever chosen (nginx limit_req). */
  private void limited(String route) {
    ctx.listener().limited(route, admission.limit());
    if (!finished) {
      ErrorResponses.send(req, 429, admission.limit().equals(RouteLimits.RATE)
          ? "request rate limit exceeded" : "too many requests in flight", hasBody, admission.retryAfterSeconds());
      finish(429, true, false);
    }
  }

  /** @param close the connection cannot be reused: the body may be unread, or the request was hostile */
  private void fail(int status, String message, boolean close) {
    if (finished) {
      return;
    }
    if (status >= 500 && upstream != null) {
      ErrorResponses.send(req, status, "upstream " + upstream.name() + ": " + message + " (request_id " + requestId
          + ")", close, upstream.config().errorPages(), this::decorateOwn);
    } else {
      ErrorResponses.send(req, status, message, close, ErrorPages.NONE, this::decorateOwn);
    }
    finish(status, true, false);
  }

  private void clientGone() {
    // (an HTTP/2 stream also closes when both sides ended well: the response's end, not the close, finishes that)
    if (!finished && !req.response().ended()) {
      HttpClientRequest pending = attempt == null ? null : attempt.request;
      finish(499, true, true); // first: the reset below fails the attempt at once, and that is no server's fault
      if (pending != null) {
        pending.reset();
      }
    }
  }

  private void finish(int status, boolean failed, boolean truncated) {
    if (finished) {
      return;
    }
    finished = true;
    if (admission != null) {
      admission.release();
    }
    if (handover != null && handover.attempt() != null) {
      handover.attempt().end(false); // answered before the fast path's attempt was taken over (a reload moved it)
    }
    long now = System.nanoTime();
    Attempt a = attempt;
    if (a != null) {
      a.end(failed && status >= 500);
    }
    String[] columns = attemptLog.columns(a, status);
    ctx.listener().exchangeEnded(new ExchangeRecord(clientAddress != null ? clientAddress
        : req.remoteAddress().hostAddress(), req.method().name(),
        req.uri(), req.version() == null ? "HTTP/1.1" : protocol(req), status, req.response().bytesWritten(),
        req.bytesRead(), upstream == null ? null : upstream.name(), a == null ? null : a.backend.name(),
        a == null ? -1 : now - a.startNanos, now - startNanos, stickyLabel(), placement == null ? 0
        : placement.attempts(), truncated, req.getHeader(HttpHeaders.REFERER),
        req.getHeader(HttpHeaders.USER_AGENT), target == null || target.authority() == null ? null
        : target.authority().toString(), requestId, columns[0], columns[1]));
  }

  private String stickyLabel() {
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
