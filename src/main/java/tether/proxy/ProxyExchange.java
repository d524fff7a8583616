package tether.proxy;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import java.util.List;
import tether.edge.ErrorPages;
import tether.edge.ServerHeader;
import tether.limits.Admission;
import tether.limits.RouteLimits;
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
 *
 * <p>This class is the request's state and its lifecycle: routing, the attempt loop, the ends. Its parts: the
 * client's body ({@link RequestBody}), each attempt's request ({@link UpstreamRequest}), the response's way back
 * ({@link ResponseRelay}), the route's rules ({@link BoundRouteRules}) and the access-log record
 * ({@link ExchangeRecords}). They read the package-private fields below; only this class writes them. Event-loop
 * confined.
 */
final class ProxyExchange {

  final ProxyContext ctx;
  final HttpServerRequest req;
  final long startNanos = System.nanoTime();
  Upstream upstream;
  StickySession sticky;
  Placement placement;
  private boolean hasBody;
  boolean chunked;
  /** Held or streamed once routed; null without a body. */
  RequestBody body;
  RequestTarget target;
  boolean https;
  boolean trusted;
  Attempt attempt;
  private boolean freshRetried;
  /** A WebSocket handshake ({@link Handshake}): its attempts dial connections of their own. */
  boolean upgrade;
  boolean finished;
  String requestId;
  /** The peer's address, read once the request is routed. */
  String clientAddress;
  /** What the route's rate and connection limits said; released when the exchange ends. */
  private Admission admission;
  ServerHeader serverHeader = ServerHeader.PASS;
  /** The route's redirect, rewrite and header rules at work; null on a route without any (the usual case). */
  BoundRouteRules rules;
  /** The origin-form URI sent to the backend: the client's, or the route's rewrite of it. */
  String forwardUri;
  /** The route's: what {@link tether.compression.Compression} may do to the response. */
  CompressionConfig compression = CompressionConfig.OFF;
  /** Failed attempts' addresses and outcomes, for the access log. */
  final AttemptLog attemptLog = new AttemptLog();

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
    if (req.remoteAddress() == null) {
      // io_uring only: an accepted channel whose accept completion carried no peer address asks getpeername(),
      // which fails for a client that reset before the accept was handled, so the channel never has a peer address
      // (epoll's accept() always returns it). The bytes read before the reset can still make a request: its client
      // is gone (499), nothing is forwarded, and the connection is closed (it stayed open, and counted, before).
      clientAddress = "-";
      req.connection().close();
      finish(499, false, false);
      return;
    }
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
    forwardUri = target.originForm();
    if (route.rules() != null) {
      rules = new BoundRouteRules(route.rules(), snapshot.config().trustedProxies(), req, target, requestId, https);
      if (rules.redirects()) {
        finish(rules.redirect(hasBody, this::decorateOwn), false, false);
        return;
      }
      forwardUri = rules.rewrite(forwardUri);
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
    admission = route.limits().admit(req.headers(), clientAddress, snapshot.config().trustedProxies());
    if (!admission.admitted()) {
      limited(route.limits().route());
      return;
    }
    req.response().closeHandler(v -> clientClosed());
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
    placement = handover != null && handover.placement() != null ? handover.placement()
        : new Placement(upstream, resolved, sticky != StickySession.NONE, ctx.listener(), clientAddress);
    upgrade = Handshake.isWebSocket(req.method(), req.version(), req.headers(), hasBody);
    if (hasBody) {
      body = new RequestBody(this);
      if (!chunked && length <= upstream.config().retryBuffer() && Failover.isIdempotent(req.method())) {
        // small body of an idempotent request: held whole, a failed attempt can be replayed
        body.hold(length, snapshot.config().timeouts().body(), paused);
        return;
      }
      body.stream(snapshot.config().limits().maxBodyBytes(), snapshot.config().timeouts().body());
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
    attemptFailed(attempt, h.kind());
  }

  /** On Tether's own answers: the Server policy and the route's response rules. */
  private void decorateOwn(MultiMap headers) {
    serverHeader.applyOwn(headers);
    if (rules != null) {
      rules.onResponse(headers);
    }
  }

  private boolean replayable() {
    return !hasBody || (body != null && body.held());
  }

  /** Failover would send this request again after a failure on a reused connection. */
  boolean resendable() {
    return replayable() && Failover.isIdempotent(req.method());
  }

  /**
   * The next attempt, on the server the placement picks next; an answer (503, or 502/504 after {@code previous})
   * when none is left. Nothing once the exchange has ended (a late callback: the exchange's end ended its attempts).
   *
   * @param previous why the last attempt failed; null for the first attempt
   */
  void nextAttempt(Failover.Kind previous) {
    if (finished) {
      return;
    }
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
    UpstreamRequest.pooled(this, begin(backend, false));
  }

  /**
   * An attempt on {@code backend}, on a connection of its own ({@link UpstreamRequest#dedicated}); nothing once the
   * exchange has ended.
   */
  void freshAttempt(Backend backend) {
    if (!finished) {
      UpstreamRequest.dedicated(this, begin(backend, true));
    }
  }

  /**
   * Makes a new attempt on {@code backend} the current one; it counts in the server's requests in flight until it
   * ends. The one it replaces has ended already (a failed attempt is ended by {@link FailedAttempt#settle} or where
   * it is abandoned); ending it again here does nothing, and keeps the count right if a path ever forgot. With
   * {@link #finish}, which ends the current one, every attempt ends exactly once. Never called once finished.
   */
  private Attempt begin(Backend backend, boolean dedicated) {
    Attempt previous = attempt;
    if (previous != null) {
      previous.end(false);
    }
    Attempt a = new Attempt(backend, dedicated);
    attempt = a;
    return a;
  }

  /** A failure that is the server's: its passive health, and the listeners (metrics, logs, the resolver). */
  void blame(Attempt a, Failover.Kind kind) {
    FailedAttempt.blame(a, kind, ctx.listener());
  }

  /** What {@link Failover} decided, carried out. */
  void attemptFailed(Attempt a, Failover.Kind kind) {
    if (finished) {
      a.end(false);
      return;
    }
    Failover.Decision decision = FailedAttempt.settle(a, kind,
        new Failover.Request(req.method(), replayable(), upstream.config().retryAfterSend()), placement, freshRetried,
        attemptLog, ctx.listener());
    switch (decision.action()) {
      case RETRY_SAME_SERVER_FRESH_CONNECTION -> {
        freshRetried = true;
        freshAttempt(a.backend);
      }
      case RETRY_ELSEWHERE -> nextAttempt(kind);
      case FAIL -> fail(decision.status(), decision.status() == 504 ? "upstream server did not answer in time"
          : kind == Failover.Kind.INVALID_RESPONSE ? "upstream server switched protocols unasked"
          : "upstream server unreachable or broken");
      case CLOSE_CLIENT -> {
        ErrorResponses.abort(req);
        finish(502, true, true);
      }
    }
  }

  private void fail(int status, String message) {
    fail(status, message, hasBody);
  }

  /** A route limit refused the request: 429 with Retry-After, and no server is ever chosen (nginx limit_req). */
  private void limited(String route) {
    ctx.listener().limited(route, admission.limit());
    if (!finished) {
      ErrorResponses.send(req, 429, admission.limit().equals(RouteLimits.RATE)
          ? "request rate limit exceeded" : "too many requests in flight", hasBody, admission.retryAfterSeconds(),
          this::decorateOwn);
      finish(429, true, false);
    }
  }

  /** @param close the connection cannot be reused: the body may be unread, or the request was hostile */
  void fail(int status, String message, boolean close) {
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

  /**
   * The client's connection (or HTTP/2 stream) closed, or it reset mid-body: it left ({@link #clientLeft}), unless
   * the response's end was written already. Then the end's write decides ({@link ResponseRelay}: the whole response,
   * or 499 when that write fails); an HTTP/2 stream also closes when both sides ended well.
   */
  void clientClosed() {
    if (!req.response().ended()) {
      clientLeft();
    }
  }

  /**
   * The client left before the response got through, whatever was written: 499, the exchange ends (its attempt
   * with it), and the backend's request is reset. Called as well by a relay whose write failed after the response's
   * end was written (io_uring reports the reset with the failed write, before the channel's close event).
   */
  void clientLeft() {
    if (!finished) {
      HttpClientRequest pending = attempt == null ? null : attempt.request;
      finish(499, true, true); // first: the reset below fails the attempt at once, and that is no server's fault
      if (pending != null) {
        pending.reset();
      }
    }
  }

  /**
   * Ends the exchange once, on every path: limits released, the current attempt (and a fast-path attempt not taken
   * over) ended, the record to the listeners (the access log). Later calls do nothing.
   */
  void finish(int status, boolean failed, boolean truncated) {
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
    ctx.listener().exchangeEnded(ExchangeRecords.of(this, status, truncated, now));
  }
}
