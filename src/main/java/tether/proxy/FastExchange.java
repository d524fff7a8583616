package tether.proxy;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.net.HostAndPort;
import io.vertx.core.net.SocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import tether.edge.ServerHeader;
import tether.limits.RouteLimits;
import tether.sticky.Pin;
import tether.sticky.StickyRequest;
import tether.sticky.StickySession;
import tether.upstream.Backend;
import tether.upstream.Upstream;

/**
 * One request on the {@link FastPath}: a bodiless HTTP/1.1 GET or HEAD, routed, stuck and forwarded with the same
 * code as {@link ProxyExchange} ({@link Placement}, {@link StickySession}, {@link Headers},
 * {@link ForwardedHeaders}, {@link ExchangeRecord}), sent on a {@link FastPool} connection and relayed as Netty
 * decoded it: the head with its end-to-end headers, the body chunk by chunk with the client's backpressure,
 * chunked to the client when the backend gave no length. Timed like {@link SilenceTimeout}: the longest silence
 * ({@code timeouts.response_header}) before the head and between body chunks, watched by the connection's one timer
 * ({@link FastPath#watchSilence}), not a task per request.
 *
 * <p>Before any response byte reached the client, every failure (connect, reset, reuse race, timeout, protocol
 * switch) hands the request to Vert.x with this attempt ({@link Handover}): {@link Failover} decides there, as for
 * any request; while the connection closes gracefully (a reload, a shutdown) Vert.x takes none, and Failover's
 * retry is carried out here. After, a broken or silent backend closes the client connection so the response reads
 * as truncated (rule 1 of {@link Failover}) and counts against the server, as in {@link ProxyExchange}.
 * Event-loop confined.
 */
final class FastExchange implements FastPool.Link.Reader {

  private final FastPath front;
  private final ChannelHandlerContext client;
  /** The verticle's: what runs here runs in it, as on Vert.x's path (the sticky store completes on it). */
  private final ContextInternal context;
  final HttpRequest request;
  private final MultiMap headers;
  private final HostAndPort authority;
  private final Upstream upstream;
  private final long startNanos = System.nanoTime();
  /** The bodiless request's end was read (the decoder's empty last content). */
  boolean lastSeen;
  private final ProxySnapshot snapshot;
  private StickySession sticky;
  private Placement placement;
  private Attempt attempt;
  private FastPool.Link link;
  private String requestId;
  private boolean trusted;
  private boolean https;
  private ServerHeader serverHeader;
  private long timeoutNanos;
  private long lastDataNanos;
  /** What the backend's head said of its connection, read before its hop-by-hop headers were removed. */
  private boolean backendKeepAlive;
  private String backendKeepAliveHeader;
  private int status;
  private long bodyBytes;
  private boolean skippingInformational;
  /** Response messages held while the sticky mode shares a new session (then written in order). */
  private ArrayDeque<Object> held;
  private boolean backendDone;
  private boolean finished;
  /** Attempts that failed while the connection closed gracefully and were retried here; empty otherwise. */
  private final AttemptLog attemptLog = new AttemptLog();
  private boolean freshRetried;

  private FastExchange(FastPath front, HttpRequest request, MultiMap headers, HostAndPort authority,
                       Upstream upstream, ProxySnapshot snapshot) {
    this.front = front;
    this.client = front.ctx;
    this.context = front.proxy.context();
    this.request = request;
    this.headers = headers;
    this.authority = authority;
    this.upstream = upstream;
    this.snapshot = snapshot;
  }

  /**
   * The exchange for {@code req} if the fast path may serve it, else null (Vert.x serves it): a well-formed
   * HTTP/1.1 GET or HEAD in origin form, without body (no length, or {@code Content-Length: 0}), {@code Expect},
   * a WebSocket {@code Upgrade} or {@code Connection: close}, passing {@link RequestValidator}, with a Host, on a
   * route to an upstream (not in maintenance) without rules, limits or compression. Nothing is done yet.
   */
  static FastExchange admit(FastPath front, HttpRequest req) {
    HttpMethod method = req.method();
    String uri = req.uri();
    if (!req.decoderResult().isSuccess() || (method != HttpMethod.GET && method != HttpMethod.HEAD)
        || req.protocolVersion() != HttpVersion.HTTP_1_1 || uri.isEmpty() || uri.charAt(0) != '/'
        || !RequestValidator.validTarget(uri)
        || !(req.headers() instanceof MultiMap headers)) {
      return null;
    }
    HttpHeaders h = req.headers();
    String length = h.get(HttpHeaderNames.CONTENT_LENGTH); // "0" is no body (Java's HTTP client sends it)
    if ((length != null && (!length.equals("0") || h.getAll(HttpHeaderNames.CONTENT_LENGTH).size() > 1))
        || h.contains(HttpHeaderNames.TRANSFER_ENCODING)
        || h.contains(HttpHeaderNames.EXPECT) || FastPath.isWebSocket(h)
        || asksClose(h)) {
      return null; // (an Upgrade to anything else, h2c say, is dropped as hop-by-hop: a plain request)
    }
    ProxySnapshot snapshot = front.proxy.snapshot();
    if (RequestValidator.checkHeaders(headers, io.vertx.core.http.HttpVersion.HTTP_1_1,
        snapshot.config().limits()) != null) {
      return null;
    }
    HostAndPort authority = HostAndPort.parseAuthority(h.get(HttpHeaderNames.HOST), -1);
    if (authority == null) {
      return null;
    }
    int query = uri.indexOf('?');
    Router.Route route = snapshot.router().match(authority.host(), query < 0 ? uri : uri.substring(0, query));
    if (route == null || route.upstream() == null || route.rules() != null || route.limits() != RouteLimits.NONE
        || route.compression().gzip() || route.compression().zstd()
        || route.upstream().maintenance().on() != null) {
      return null;
    }
    return new FastExchange(front, req, headers, authority, route.upstream(), snapshot);
  }

  /** Any {@code Connection} line lists {@code close} (Vert.x then closes after the response: it serves those). */
  private static boolean asksClose(HttpHeaders h) {
    if (!h.contains(HttpHeaderNames.CONNECTION)) {
      return false; // (HTTP/1.1 clients mostly send none: no list built per request)
    }
    for (String connection : h.getAll(HttpHeaderNames.CONNECTION)) {
      if (Headers.listed(connection, "close")) {
        return true;
      }
    }
    return false;
  }

  /** Resolves the pin and starts the first attempt. */
  void begin() {
    ContextInternal previous = context.beginDispatch();
    try {
      beginInContext();
    } finally {
      context.endDispatch(previous);
    }
  }

  private void beginInContext() {
    var config = snapshot.config();
    trusted = config.trustedProxies().trusts(front.clientAddress);
    requestId = RequestIds.of(headers, trusted);
    https = front.tls || (trusted && "https".equalsIgnoreCase(headers.get("X-Forwarded-Proto")));
    serverHeader = config.serverHeader();
    timeoutNanos = TimeUnit.MILLISECONDS.toNanos(Math.max(1, config.timeouts().responseHeader().toMillis()));
    sticky = snapshot.sticky().get(upstream.name());
    Future<Pin> resolved = sticky.resolveAsync(new StickyRequest(headers, request.uri(), front.clientAddress),
        upstream);
    if (!resolved.isComplete()) {
      // a shared store is asked: Vert.x waits for it
      front.handover(this, Handover.pending(upstream, resolved, requestId));
      return;
    }
    placement = new Placement(upstream, resolved.succeeded() ? resolved.result() : Pin.NONE,
        sticky != StickySession.NONE, front.proxy.listener(), front.clientAddress);
    Backend backend = placement.next();
    if (backend == null) {
      front.handover(this, Handover.failed(upstream, placement, null, null, requestId)); // 503 from Vert.x
      return;
    }
    startAttempt(backend, false, startNanos);
  }

  /** An attempt on {@code backend}: a pooled connection unless {@code fresh}, else a new one. */
  private void startAttempt(Backend backend, boolean fresh, long now) {
    attempt = new Attempt(backend, false, now);
    SocketAddress address = attempt.address;
    if (address == null) {
      failed(Failover.Kind.CONNECT_REFUSED, Failover.Phase.NOTHING_SENT); // its name does not resolve
      return;
    }
    link = fresh ? null : front.proxy.fastPool().take(backend, address, now);
    if (link != null) {
      link.reader = this;
      attempt.reused = true;
      send();
      return;
    }
    try {
      front.proxy.fastPool().connect(backend, address, (int) front.proxy.connectTimeoutMillis(), this)
          .addListener(this::connected);
    } catch (UnknownHostException e) {
      failed(Failover.Kind.CONNECT_REFUSED, Failover.Phase.NOTHING_SENT);
    }
  }

  private void connected(io.netty.util.concurrent.Future<? super Void> f) {
    ContextInternal previous = context.beginDispatch();
    try {
      connectedInContext(f);
    } finally {
      context.endDispatch(previous);
    }
  }

  private void connectedInContext(io.netty.util.concurrent.Future<? super Void> f) {
    ChannelFuture connecting = (ChannelFuture) f;
    if (finished) {
      connecting.channel().close(); // the client left meanwhile
      return;
    }
    if (!f.isSuccess()) {
      failed(f.cause() instanceof ConnectTimeoutException ? Failover.Kind.CONNECT_TIMEOUT
          : Failover.Kind.CONNECT_REFUSED, Failover.Phase.NOTHING_SENT);
      return;
    }
    link = connecting.channel().pipeline().get(FastPool.Link.class);
    front.proxy.listener().connected(attempt.backend, System.nanoTime() - attempt.startNanos);
    send();
  }

  /** The request head as {@link UpstreamRequest} builds it ({@link ForwardedHead}), then the wait for the response. */
  private void send() {
    link.send(ForwardedHead.encode(link.channel.alloc(), request.method(), request.uri(), headers, sticky.ownCookie(),
        front.clientAddress, authority, trusted, https, requestId), request.method() == HttpMethod.HEAD);
    attempt.phase = Failover.Phase.SENT;
    lastDataNanos = System.nanoTime();
    front.watchSilence(lastDataNanos, timeoutNanos);
  }

  @Override
  public void read(Object msg) {
    ContextInternal previous = context.beginDispatch();
    try {
      readInContext(msg);
    } finally {
      context.endDispatch(previous);
    }
  }

  private void readInContext(Object msg) {
    lastDataNanos = System.nanoTime();
    if (msg instanceof HttpResponse head) {
      if (!head.decoderResult().isSuccess()) {
        ReferenceCountUtil.release(msg);
        backendBroke(Failover.Kind.RESET_BEFORE_RESPONSE);
        return;
      }
      int code = head.status().code();
      if (code >= 100 && code < 200 && code != 101) {
        skippingInformational = true; // (103 Early Hints and the like are not relayed, as on the Vert.x path)
      } else if (!respond(head)) {
        ReferenceCountUtil.release(msg);
        return;
      }
    }
    if (msg instanceof HttpContent content) {
      if (!finished && !client.channel().isOpen()) {
        clientGoneInContext(); // the client is gone, its close event not yet here (io_uring: a loop later)
      }
      if (skippingInformational || finished) {
        skippingInformational &= !(msg instanceof LastHttpContent);
        content.release();
        return;
      }
      if (!content.decoderResult().isSuccess()) {
        content.release();
        backendBroke(Failover.Kind.BROKEN_BODY);
        return;
      }
      relay(content);
    }
  }

  /** @return false when the response is not relayed (the client left, or the backend switched protocols) */
  private boolean respond(HttpResponse head) {
    Backend backend = attempt.backend;
    ProxyListener listener = front.proxy.listener();
    int code = head.status().code();
    listener.firstByte(backend, lastDataNanos - attempt.startNanos); // (read just now)
    if (code == 101) {
      // a switch nobody asked for (a handshake never takes this path): a failed attempt, as on the Vert.x path
      failed(Failover.Kind.INVALID_RESPONSE, Failover.Phase.SENT);
      return false;
    }
    attempt.responded = true;
    status = code;
    backend.reportResponse(status);
    listener.backendResponded(backend, status);
    // the backend's head goes on to the client, edited in place (its headers were validated as they were decoded)
    MultiMap out = (MultiMap) head.headers();
    backendKeepAlive = HttpUtil.isKeepAlive(head);
    backendKeepAliveHeader = out.get(HttpHeaderNames.KEEP_ALIVE);
    Headers.removeHopByHop(out);
    serverHeader.apply(out);
    // (the sticky mode reads the backend's Set-Cookie before it adds its own: one map serves as both)
    Future<Void> shared = sticky.onResponseShared(placement.pin(), backend, out, out, https);
    placement.announce(backend);
    if (upstream.config().debugHeader()) {
      out.set("X-Tether-Upstream", placement.debugHeader(backend));
    }
    boolean bodiless = request.method() == HttpMethod.HEAD || status == 204 || status == 304;
    if (!bodiless && !out.contains(HttpHeaderNames.CONTENT_LENGTH)) {
      out.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    }
    attempt.phase = Failover.Phase.RESPONSE_STARTED;
    if (!shared.isComplete()) {
      // a session this response created is being stored: the client gets it once other instances can find it
      held = new ArrayDeque<>();
      link.channel.config().setAutoRead(false);
      shared.onComplete(v -> releaseHeld());
    }
    head.setProtocolVersion(HttpVersion.HTTP_1_1);
    emit(head);
    return true;
  }

  private void relay(HttpContent content) {
    bodyBytes += content.content().readableBytes();
    if (!(content instanceof LastHttpContent last)) {
      emit(content);
      return;
    }
    // trailers are not relayed (nor on the Vert.x path): the body's last bytes, then the end
    if (last.trailingHeaders().isEmpty()) {
      emit(last);
    } else if (last.content().isReadable()) {
      emit(new DefaultLastHttpContent(last.content()));
    } else {
      last.release();
      emit(LastHttpContent.EMPTY_LAST_CONTENT);
    }
    backendDone = true;
    FastPool.Link done = link;
    link = null;
    done.responses++;
    front.proxy.fastPool().give(done, backendKeepAlive, backendKeepAliveHeader, lastDataNanos);
    if (held == null) {
      complete();
    }
  }

  private void emit(Object msg) {
    if (held != null) {
      held.add(msg);
      return;
    }
    client.write(msg, client.voidPromise());
    if (!client.channel().isWritable() && link != null) {
      link.channel.config().setAutoRead(false); // resumed by clientWritable()
    }
  }

  private void releaseHeld() {
    ArrayDeque<Object> messages = held;
    held = null;
    if (finished) {
      messages.forEach(ReferenceCountUtil::release);
      return;
    }
    messages.forEach(this::emit);
    if (backendDone) {
      complete();
    } else {
      client.flush();
      clientWritable();
    }
  }

  /** The response reached the client whole. */
  private void complete() {
    client.flush();
    if (!client.channel().isOpen()) {
      clientGoneInContext(); // a write failed: the client left before the end (499), its close event still to come
      return;
    }
    finish(status, false, false);
    front.exchangeDone(this);
  }

  @Override
  public void readComplete() {
    if (held == null && !finished) {
      client.flush();
    }
  }

  /** The client can take more: the backend is read again. */
  void clientWritable() {
    if (link != null && held == null && client.channel().isWritable()) {
      lastDataNanos = System.nanoTime(); // the server's silence is timed from now
      link.channel.config().setAutoRead(true);
    }
  }

  @Override
  public void closed() {
    ContextInternal previous = context.beginDispatch();
    try {
      closedInContext();
    } finally {
      context.endDispatch(previous);
    }
  }

  private void closedInContext() {
    link = null;
    if (!finished) {
      backendBroke(attempt.reused ? Failover.Kind.RESET_ON_REUSED : Failover.Kind.RESET_BEFORE_RESPONSE);
    }
  }

  /**
   * The response wait, asked by the connection's timer: past {@code timeouts.response_header} of silence the
   * backend has failed. While the backend is paused for the client (not reading) nothing is timed: a client that
   * stops reading is ended by its connection's {@code timeouts.idle}, as on the Vert.x path.
   *
   * @return nanoseconds until the silence would time out, or -1 when nothing is awaited (any more)
   */
  long silenceLeft(long now) {
    if (finished || link == null) {
      return -1;
    }
    if (!link.channel.config().isAutoRead()) {
      return timeoutNanos; // paused for the client (or a shared session): its silence, never the server's
    }
    long silent = now - lastDataNanos;
    if (silent < timeoutNanos) {
      return timeoutNanos - silent;
    }
    ContextInternal previous = context.beginDispatch();
    try {
      backendBroke(Failover.Kind.RESPONSE_TIMEOUT);
    } finally {
      context.endDispatch(previous);
    }
    return -1;
  }

  /**
   * The backend failed as {@code kind} ({@link Failover.Kind#BROKEN_BODY} for a body cut short): before the
   * response started Vert.x takes over; after, the client connection is closed (the response reads as truncated).
   */
  private void backendBroke(Failover.Kind kind) {
    dropLink();
    if (attempt.phase != Failover.Phase.RESPONSE_STARTED) {
      failed(kind == Failover.Kind.BROKEN_BODY ? Failover.Kind.RESET_BEFORE_RESPONSE : kind, attempt.phase);
      return;
    }
    FailedAttempt.blame(attempt, Failover.Kind.BROKEN_BODY, front.proxy.listener());
    finish(status, true, true);
    client.close(); // past this handler: never deferred
    front.exchangeDone(this);
  }

  /** Before any response byte reached the client: Vert.x carries on, with this attempt as its first. */
  private void failed(Failover.Kind kind, Failover.Phase phase) {
    dropLink();
    attempt.phase = phase;
    if (front.closing()) {
      carryOutWhileClosing(kind);
      return;
    }
    front.handover(this, Handover.failed(upstream, placement, attempt, kind, requestId));
  }

  /**
   * While the connection closes gracefully (a reload or shutdown), Vert.x takes no handover: what {@link Failover}
   * decides is carried out here, as {@link ProxyExchange#attemptFailed} carries it out (another server, or the same
   * on a new connection; the bookkeeping is {@link FailedAttempt#settle}'s on both), so a request in flight through
   * a reload is still answered. When it is not retried (or no server is left) nobody answers: the close goes on.
   */
  private void carryOutWhileClosing(Failover.Kind kind) {
    Attempt failed = attempt;
    Failover.Decision decision = FailedAttempt.settle(failed, kind, new Failover.Request(
        io.vertx.core.http.HttpMethod.valueOf(request.method().name()), true, upstream.config().retryAfterSend()),
        placement, freshRetried, attemptLog, front.proxy.listener());
    int status = kind == Failover.Kind.RESPONSE_TIMEOUT ? 504 : 502;
    switch (decision.action()) {
      case RETRY_SAME_SERVER_FRESH_CONNECTION -> {
        freshRetried = true;
        startAttempt(failed.backend, true, System.nanoTime());
      }
      case RETRY_ELSEWHERE -> {
        Backend next = placement.next();
        if (next == null) {
          closedUnanswered(status);
        } else {
          startAttempt(next, false, System.nanoTime());
        }
      }
      default -> closedUnanswered(status); // (blamed and ended by settle)
    }
  }

  /**
   * Vert.x takes no request on a connection it asked to close (during a shutdown it drops it unanswered): the
   * asked close is carried out, the client got no byte, and {@code status} is logged.
   */
  private void closedUnanswered(int status) {
    attempt.end(false); // (a failed attempt was ended, blamed or not, by FailedAttempt.settle)
    finish(status, true, false);
    front.exchangeDone(this);
  }

  /** The client connection closed: 499, and the backend connection (mid-request) is not kept. */
  void clientGone() {
    ContextInternal previous = context.beginDispatch();
    try {
      clientGoneInContext();
    } finally {
      context.endDispatch(previous);
    }
  }

  private void clientGoneInContext() {
    if (finished) {
      return;
    }
    finish(499, true, true);
    dropLink();
    front.exchangeDone(this);
  }

  private void dropLink() {
    FastPool.Link l = link;
    link = null;
    if (l != null) {
      l.reader = null;
      l.channel.close();
    }
  }

  /**
   * {@code authority.toString()} ({@code host[:port]}, the access log's host), as the {@code Host} header it was
   * parsed from when that is the same text, so no String is made per request.
   */
  static String hostText(HostAndPort authority, String host) {
    int port = authority.port();
    String name = authority.host();
    int digits = port < 0 ? -1 : port < 10 ? 1 : port < 100 ? 2 : port < 1000 ? 3 : port < 10_000 ? 4 : 5;
    boolean same = host != null && host.length() == name.length() + 1 + digits && host.startsWith(name)
        && (port < 0 || host.charAt(name.length()) == ':');
    return same ? host : authority.toString(); // (a port with leading zeros or "host:" differ in length)
  }

  private void finish(int finalStatus, boolean failed, boolean truncated) {
    if (finished) {
      return;
    }
    finished = true;
    long now = System.nanoTime();
    Attempt a = attempt;
    a.end(failed && finalStatus >= 500);
    String[] columns = attemptLog.columns(a, finalStatus);
    front.proxy.listener().exchangeEnded(new ExchangeRecord(front.clientAddress, request.method().name(),
        request.uri(), "HTTP/1.1", finalStatus, bodyBytes, 0, upstream.name(), a.backend.name(),
        now - a.startNanos, now - startNanos, ExchangeRecords.stickyLabel(placement), placement.attempts(), truncated,
        headers.get(HttpHeaderNames.REFERER), headers.get(HttpHeaderNames.USER_AGENT),
        hostText(authority, headers.get(HttpHeaderNames.HOST)),
        requestId, columns[0], columns[1])); // (failed attempts: only those retried here, during a graceful close)
  }
}
