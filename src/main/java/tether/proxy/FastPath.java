package tether.proxy;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.net.impl.ConnectionBase;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP/1.1 fast path of one client connection: a handler between the strict request decoder and Vert.x's
 * connection that proxies the plainest requests (bodiless GET and HEAD on a route without rules, limits or
 * compression; see {@link FastExchange#admit}) straight through Netty, on the event loop's own backend pool
 * ({@link FastPool}), and passes everything else to Vert.x untouched, where {@link ProxyExchange} serves it.
 * Why: the same request through Vert.x's server and client objects costs about a quarter more CPU
 * ({@code bench/results/20261130-fastpath-ab}: 21.8 against 17.3 µs per request at 50 connections); the failover
 * rule, stickiness, forwarded headers, access log and metrics are the same code either way.
 *
 * <p>Order on the connection is kept, one request at a time: while a fast request is in flight the next messages
 * wait here (reading paused); while Vert.x serves one (counted by the final responses it writes) its body goes on
 * to Vert.x and the next request head waits here with what follows it, so nothing pipelined sits in Vert.x's own
 * queue (which Vert.x 5.0.7 does not release when the connection closes: leaked buffers) and a close releases it.
 * A waiting request also waits for the client to take the responses written before it. A fast request that fails
 * before its response reached the client is handed to Vert.x with its attempt ({@link Handover}), so
 * {@link Failover} decides and error pages are Vert.x's. A close asked while a fast request is in flight (graceful
 * shutdown) waits for its end, {@code shutdown_timeout} at most; an idle timeout with a response in flight (its
 * client stopped reading) closes at once, as on Vert.x's path. Once Vert.x closes the connection or answers
 * {@code Connection: close}, nothing more is served here; after a WebSocket handshake passes to Vert.x the handler
 * only passes messages on (the connection may become a tunnel). Uses Vert.x internals (the pipeline names
 * "httpDecoder" and "handler"). Event-loop confined. {@code -Dtether.fastPath=false} turns it off (A/B benchmarks,
 * an escape hatch).
 */
final class FastPath extends ChannelDuplexHandler {

  static final boolean ENABLED = !"false".equals(System.getProperty("tether.fastPath"));

  final ProxyContext proxy;
  final String clientAddress;
  final boolean tls;
  ChannelHandlerContext ctx;
  private Runnable headArrived;
  private FastExchange active;
  /** Requests passed to Vert.x whose final response it has not written yet. */
  private int vertxPending;
  private boolean passThrough;
  private ArrayDeque<Object> queued;
  /** {@link #replayQueued} is handing queued messages on (they are not queued again behind themselves). */
  private boolean replaying;
  private Handover handover;
  private ChannelPromise deferredClose;
  /** Nothing moved for {@code timeouts.idle} with a fast response in flight: its client stopped reading. */
  private boolean stalled;
  /** The connection's one timer for its fast exchanges' silences ({@link #watchSilence}); null when none is due. */
  private ScheduledFuture<?> silenceTimer;
  private long silenceDeadline;
  private final Runnable silenceCheck = this::checkSilence;

  private FastPath(ProxyContext proxy, String clientAddress, boolean tls, Runnable headArrived) {
    this.proxy = proxy;
    this.clientAddress = clientAddress;
    this.tls = tls;
    this.headArrived = headArrived;
  }

  /**
   * Puts the fast path on an HTTP/1 connection whose strict decoder is in place (not HTTP/2, not h2c).
   *
   * @param headArrived run once, when the connection's first request head arrives
   */
  static void install(HttpConnection connection, ProxyContext proxy, Runnable headArrived) {
    if (!ENABLED || !(connection instanceof ConnectionBase base)) {
      return;
    }
    ChannelPipeline p = base.channel().pipeline();
    if (p.get("httpDecoder") instanceof StrictRequestDecoder && p.get("handler") != null && p.get("h2c") == null
        && base.channel().remoteAddress() instanceof InetSocketAddress peer && peer.getAddress() != null) {
      p.addBefore("handler", "tether-fast", new FastPath(proxy, peer.getAddress().getHostAddress(),
          p.get(SslHandler.class) != null, headArrived));
    }
  }

  /** What the fast path leaves to the request Vert.x is about to serve on {@code connection}; null if nothing. */
  static Handover takeHandover(HttpConnection connection) {
    if (connection instanceof ConnectionBase base
        && base.channel().pipeline().get("tether-fast") instanceof FastPath fast) {
      Handover h = fast.handover;
      fast.handover = null;
      return h;
    }
    return null;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (passThrough) {
      ctx.fireChannelRead(msg);
      return;
    }
    if (active != null || (!replaying && hasQueued())) {
      // (reading is paused while messages wait; one read past that is still not served before them)
      if (active != null && !active.lastSeen && msg instanceof LastHttpContent) {
        active.lastSeen = true; // the bodiless request's end: nothing in it
        ReferenceCountUtil.release(msg);
      } else {
        queue(msg);
      }
      return;
    }
    if (msg instanceof HttpRequest req) {
      if (vertxPending > 0) {
        queue(msg); // pipelined behind a request Vert.x serves: it waits here, where a close releases it
        return;
      }
      if (headArrived != null) {
        headArrived.run();
        headArrived = null;
      }
      if (deferredClose == null) {
        FastExchange ex = FastExchange.admit(this, req);
        if (ex != null) {
          active = ex;
          ex.lastSeen = msg instanceof LastHttpContent;
          ex.begin();
          return;
        }
      }
      vertxPending++;
      if (isWebSocket(req.headers())) {
        passThrough = true; // the connection may become a tunnel
      }
    }
    ctx.fireChannelRead(msg);
  }

  /** A WebSocket handshake ({@code Upgrade: websocket}): the only upgrade Tether carries out (RFC 6455 §4.1). */
  static boolean isWebSocket(io.netty.handler.codec.http.HttpHeaders headers) {
    return headers.contains(HttpHeaderNames.UPGRADE)
        && Handshake.namesWebSocket(headers.getAll(HttpHeaderNames.UPGRADE));
  }

  private void queue(Object msg) {
    if (queued == null) {
      queued = new ArrayDeque<>();
    }
    queued.add(msg);
    // a pipelining client waits: one request at a time here (again after each message: Vert.x turns reading back
    // on when its own backlog drained, and what that read brings is queued, not a reason to go on reading)
    ctx.channel().config().setAutoRead(false);
  }

  /** The fast request ended (answered, or its client left): the next waiting message, or the deferred close. */
  void exchangeDone(FastExchange ex) {
    if (active != ex) {
      return;
    }
    active = null;
    if (deferredClose != null) {
      ChannelPromise close = deferredClose;
      deferredClose = null;
      ctx.close(close);
      return;
    }
    replayQueued();
  }

  /**
   * Makes the connection's timer look at the exchange in flight by {@code now + timeoutNanos} at the latest. One
   * task serves every request of a keep-alive connection: a timer that fires early looks again when the exchange
   * in flight would time out, and stops when none is in flight (no task scheduled and cancelled per request).
   *
   * @param now {@link System#nanoTime()} when the exchange's silence began
   */
  void watchSilence(long now, long timeoutNanos) {
    long deadline = now + timeoutNanos;
    if (silenceTimer != null) {
      if (silenceDeadline - deadline <= 0) {
        return; // it fires first, and looks again
      }
      silenceTimer.cancel(false); // (a reload shortened timeouts.response_header)
    }
    schedule(deadline, timeoutNanos);
  }

  private void schedule(long deadline, long delayNanos) {
    silenceDeadline = deadline;
    silenceTimer = ctx.executor().schedule(silenceCheck, delayNanos, TimeUnit.NANOSECONDS);
  }

  private void checkSilence() {
    silenceTimer = null;
    if (active == null) {
      return;
    }
    long now = System.nanoTime();
    long left = active.silenceLeft(now);
    if (left >= 0 && silenceTimer == null) {
      schedule(now + left, left);
    }
  }

  /** A close was asked while a fast request is in flight (graceful shutdown, idle timeout): Vert.x serves no more. */
  boolean closing() {
    return deferredClose != null;
  }

  /** {@code ex} failed before its response started: Vert.x serves the request from here, with what it left. */
  void handover(FastExchange ex, Handover h) {
    if (active != ex) {
      return;
    }
    active = null;
    handover = h;
    vertxPending++;
    ctx.fireChannelRead(ex.request);
    if (ex.lastSeen) {
      ctx.fireChannelRead(LastHttpContent.EMPTY_LAST_CONTENT);
    }
    replayQueued();
  }

  /**
   * Messages read while a fast request was in flight, in order; Vert.x is told the read is over (it flushes). A
   * pipelined request waits while the client is not taking the responses already written (its connection is not
   * writable): it is started when the connection drains ({@link #channelWritabilityChanged}), so a client that
   * pipelines and stops reading gets no more answers buffered for it than one response beyond Netty's high-water
   * mark (nginx, too, starts a pipelined request once the response before it was handed to the socket).
   */
  private void replayQueued() {
    if (!ctx.channel().isActive()) {
      dropQueued(); // the client connection is closed or closing (it left, or a response broke): nothing more served
    }
    if (queued != null) {
      Object msg;
      // (a fast request's own end, queued behind it, is taken by it: channelRead drops it)
      boolean outer = replaying; // (a handover during the replay replays from within it)
      replaying = true;
      try {
        while ((msg = queued.peek()) != null
            && (active == null || (!active.lastSeen && msg instanceof LastHttpContent))
            && !(msg instanceof HttpRequest && (vertxPending > 0 || !ctx.channel().isWritable()))) {
          channelRead(ctx, queued.poll());
        }
      } finally {
        replaying = outer;
      }
      if (queued.isEmpty()) {
        ctx.channel().config().setAutoRead(true);
      }
    }
    ctx.fireChannelReadComplete();
  }

  /** The next pipelined request, once Vert.x answered the one before it and no fast request started meanwhile. */
  private void replayWhenIdle() {
    if (active == null && vertxPending == 0 && hasQueued()) {
      replayQueued();
    }
  }

  private boolean hasQueued() {
    return queued != null && !queued.isEmpty();
  }

  private void dropQueued() {
    if (queued != null) {
      queued.forEach(ReferenceCountUtil::release);
      queued.clear();
    }
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    // only Vert.x's writes pass here (the fast path writes from this handler's context, past it)
    if (msg instanceof HttpResponse r && r.headers().contains(HttpHeaderNames.CONNECTION, "close", true)) {
      passThrough = true; // Vert.x ends the connection (a refused request): nothing after it is served
    }
    if (vertxPending > 0 && msg instanceof LastHttpContent
        && !(msg instanceof HttpResponse r && r.status().codeClass() == HttpStatusClass.INFORMATIONAL)) {
      vertxPending--;
      if (vertxPending == 0 && hasQueued()) {
        ctx.executor().execute(this::replayWhenIdle); // (not from within Vert.x's write)
      }
    }
    ctx.write(msg, promise);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof IdleStateEvent && active != null) {
      stalled = true; // (a response moving bytes is never idle: its writes pass the idle handler)
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
    if (active != null && !stalled) {
      if (deferredClose == null) {
        deferredClose = promise; // a graceful shutdown or idle close waits for the response in flight
        // ... for shutdown_timeout at most: Vert.x's own deadline for this connection ended with its close
        ctx.executor().schedule(() -> {
          if (deferredClose == promise) {
            deferredClose = null;
            ctx.close(promise); // (channelInactive then ends the exchange as the client's leaving: 499)
          }
        }, proxy.snapshot().config().shutdownTimeout().toMillis(), TimeUnit.MILLISECONDS);
      } else if (!promise.isVoid()) {
        ctx.channel().closeFuture().addListener(f -> promise.trySuccess()); // a second ask: done with the first
      }
      return;
    }
    passThrough = true;
    ctx.close(promise);
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (ctx.channel().isWritable()) {
      if (active != null) {
        active.clientWritable();
      } else {
        replayWhenIdle(); // a pipelined request waited for the client to take what was written before it
      }
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (silenceTimer != null) {
      silenceTimer.cancel(false);
      silenceTimer = null;
    }
    FastExchange ex = active;
    if (ex != null) {
      ex.clientGone();
    }
    dropQueued();
    Handover untaken = handover;
    if (untaken != null && untaken.attempt() != null) {
      untaken.attempt().end(false); // Vert.x dropped the request handed to it (its connection was closing)
      handover = null;
    }
    ctx.fireChannelInactive();
  }
}
