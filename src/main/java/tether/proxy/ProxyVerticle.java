package tether.proxy;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.Http2Settings;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.impl.ConnectionBase;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.TimeUnit;
import tether.upstream.Backend;
import java.util.List;
import java.util.function.Supplier;
import tether.config.Http2Config;
import tether.config.ListenConfig;
import tether.tls.ServerTls;
import tether.config.ListenException;
import tether.config.TetherConfig;

/**
 * One event loop's proxy: a server per listen address (Vert.x shares the port between instances) and its own
 * pooled client, so a backend connection never hops threads.
 */
final class ProxyVerticle extends VerticleBase implements ProxyContext {

  private final Supplier<ProxySnapshot> snapshots;
  private final ProxyListener listener;
  private final TetherConfig startConfig;
  private HttpClientAgent client;
  private io.netty.channel.EventLoop eventLoop;
  private final BackendConnections connections = new BackendConnections();
  private FastPool fastPool;
  private final AtomicInteger clientConnections;
  // connections whose first request head has not arrived yet, with their header-timeout timer
  private final Map<HttpConnection, Long> awaitingHead = new HashMap<>();
  private final List<HttpServer> servers = new ArrayList<>();
  private final List<HttpServerOptions> serverOptions = new ArrayList<>();
  // open backend connections and the server each one was opened for (this event loop only, so no lock)

  ProxyVerticle(Supplier<ProxySnapshot> snapshots, ProxyListener listener, TetherConfig startConfig,
                AtomicInteger clientConnections) {
    this.clientConnections = clientConnections;
    this.snapshots = snapshots;
    this.listener = listener;
    this.startConfig = startConfig;
  }

  @Override
  public Future<?> start() {
    eventLoop = ((io.vertx.core.internal.ContextInternal) context).nettyEventLoop();
    var timeouts = startConfig.timeouts();
    int poolSize = startConfig.upstreams().values().stream().mapToInt(u -> u.poolSize()).max().orElse(256);
    client = vertx.httpClientBuilder()
        .with(new HttpClientOptions().setKeepAlive(true)
            .setKeepAliveTimeout((int) Math.max(1, timeouts.upstreamKeepalive().toSeconds()))
            .setConnectTimeout((int) timeouts.connect().toMillis())
            .setMaxHeaderSize(Math.max(startConfig.limits().maxHeaderBytes(), 8192) * 2))
        .with(new PoolOptions().setHttp1MaxSize(poolSize).setMaxWaitQueueSize(-1))
        .withConnectHandler(this::upstreamConnected)
        .build();
    List<Future<HttpServer>> listening = new ArrayList<>();
    for (ListenConfig l : startConfig.listen()) {
      HttpServerOptions options = serverOptions(l);
      HttpServer server = vertx.createHttpServer(options)
          .connectionHandler(conn -> clientConnected(conn, options, l))
          .requestHandler(req -> {
            if (!awaitingHead.isEmpty()) {
              headArrived(req.connection());
            }
            if (FrontDoor.redirected(req, l, snapshots.get().config().limits())) {
              return;
            }
            FrontDoor.hsts(req, l);
            new ProxyExchange(this, req, FastPath.takeHandover(req.connection())).start();
          });
      servers.add(server);
      serverOptions.add(options);
      String key = "listen[" + listening.size() + "]";
      listening.add(server.listen()
          .recover(err -> Future.failedFuture(ListenException.of(key, l.address(), l.port(), err))));
    }
    return Future.all(listening);
  }

  /**
   * Over {@code max_connections} a new connection is closed at once (existing ones are unharmed); otherwise it
   * must deliver its first request head within the header timeout (slowloris), then Vert.x's idle timeout applies.
   */
  private void clientConnected(HttpConnection conn, HttpServerOptions options, ListenConfig listen) {
    if (clientConnections.incrementAndGet() > startConfig.limits().maxConnections()) {
      clientConnections.decrementAndGet();
      conn.close();
      listener.clientRefused();
      return;
    }
    StrictRequestDecoder.install(conn, options);
    WaitingIsNotIdle.install(conn);
    PausedResetSweep.watch(conn); // io_uring only: a reset while reading is paused
    StreamsWaitingAreNotIdle.install(conn);
    listener.clientConnections(1);
    long timer = vertx.setTimer(Math.max(1, startConfig.timeouts().header().toMillis()), t -> {
      if (awaitingHead.remove(conn) != null) {
        conn.close();
      }
    });
    awaitingHead.put(conn, timer);
    if (listen.redirectHttpsPort() == 0 && listen.hsts() == null) { // (the front door's answers are Vert.x's)
      installFastPath(conn);
    }
    whenClosed(conn, () -> {
      clientConnections.decrementAndGet();
      listener.clientConnections(-1);
      Long pending = awaitingHead.remove(conn);
      if (pending != null) {
        vertx.cancelTimer(pending);
      }
    });
  }

  private void installFastPath(HttpConnection conn) {
    if (fastPool == null && conn instanceof ConnectionBase base) {
      // the pool dials with the accepted connections' own channel class: io_uring, epoll or NIO, as Vert.x's transport
      fastPool = new FastPool(eventLoop, base.channel().getClass(), listener,
          startConfig.timeouts().upstreamKeepalive().toMillis(),
          Math.max(startConfig.limits().maxHeaderBytes(), 8192) * 2, backend -> {
            tether.upstream.Upstream u = snapshots.get().upstreams().get(backend.upstream());
            return u == null ? 1 : u.config().poolSize();
          });
    }
    FastPath.install(conn, this, () -> headArrived(conn));
  }

  /** The connection's first request head is in: its header timeout (slowloris) no longer applies. */
  private void headArrived(HttpConnection conn) {
    Long timer = awaitingHead.remove(conn);
    if (timer != null) {
      vertx.cancelTimer(timer);
    }
  }

  /**
   * Runs {@code action} on the event loop when the connection's channel closes. Not {@code conn.closeHandler}: a
   * connection switched to a tunnel (a WebSocket) is a socket by then, and Vert.x no longer tells the HTTP
   * connection it closed (Vert.x internals: the channel).
   */
  private static void whenClosed(HttpConnection conn, Runnable action) {
    if (conn instanceof ConnectionBase base) {
      base.channel().closeFuture().addListener(f -> action.run());
    } else {
      conn.closeHandler(v -> action.run());
    }
  }

  private void upstreamConnected(HttpConnection conn) {
    // a backend dying resets its pooled connections: the exchange reports that, so no log line per connection
    conn.exceptionHandler(err -> { });
    KeepAliveMargin.install(conn);
    PausedResetSweep.watch(conn); // io_uring only: a reset while reading is paused
    connections.opened(conn);
    conn.closeHandler(v -> {
      Backend backend = connections.closed(conn);
      if (backend != null) {
        listener.upstreamConnections(backend, -1);
      }
    });
  }

  /**
   * A connection counts for the server it was first obtained for, not for its peer address: servers named by host
   * name move address, and two servers may share one.
   */
  @Override
  public Future<HttpClientRequest> request(Backend backend, RequestOptions options) {
    if (options.getServer() == null) {
      return Future.failedFuture(new UnknownHostException(backend.resolved().host() + ": "
          + backend.resolved().failure()));
    }
    return client.request(options); // (the exchange tags the connection it gets: one lookup per request)
  }

  @Override
  public Future<?> stop() {
    if (fastPool != null) {
      fastPool.close();
    }
    return Future.succeededFuture();
  }

  /** Stops accepting, lets in-flight requests finish within the grace period, then closes. */
  Future<Void> shutdown(Duration grace) {
    return Future.all(servers.stream().map(s -> s.shutdown(grace.toMillis(), TimeUnit.MILLISECONDS)).toList())
        .mapEmpty();
  }

  private HttpServerOptions serverOptions(ListenConfig l) {
    var limits = startConfig.limits();
    HttpServerOptions options = new HttpServerOptions().setHost(l.address()).setPort(l.port())
        .setIdleTimeout((int) Math.max(1, startConfig.timeouts().idle().toSeconds()))
        .setMaxHeaderSize(limits.maxHeaderBytes())
        .setMaxInitialLineLength(limits.maxUriBytes() + 64)
        .setHttp2ClearTextEnabled(l.h2c())
        .setPerFrameWebSocketCompressionSupported(false)
        .setPerMessageWebSocketCompressionSupported(false)
        // every write to a client happens on its connection's event loop: Vert.x may then skip its outbound queue
        .setStrictThreadMode(true);
    http2Limits(options, startConfig.http2(), limits.maxHeaderBytes());
    if (l.secure()) {
      ServerTls.apply(options, l.tls().certificates(), l.tls().engine(), l.tls().http2());
    }
    return options;
  }

  /**
   * The HTTP/2 limits (nginx's http2_max_concurrent_streams, Envoy's http2_protocol_options): the SETTINGS Tether
   * announces (streams, header list size, stream window) and the connection window, which Netty's flow control
   * enforces (a stream whose body Tether has not passed on gets no WINDOW_UPDATE); and the rapid reset limit, which
   * Vert.x passes to Netty's {@code decoderEnforceMaxRstFramesPerWindow} (GOAWAY ENHANCE_YOUR_CALM). CONTINUATION
   * floods are bounded by Netty itself: a header block past 1.25x the header list size is a connection error.
   */
  static void http2Limits(HttpServerOptions options, Http2Config h2, int maxHeaderBytes) {
    options.setInitialSettings(new Http2Settings()
            .setMaxConcurrentStreams(h2.maxConcurrentStreams())
            .setMaxHeaderListSize(maxHeaderBytes)
            .setInitialWindowSize(h2.streamWindow()))
        .setHttp2ConnectionWindowSize(h2.connectionWindow())
        .setHttp2RstFloodMaxRstFramePerWindow(h2.maxResets())
        .setHttp2RstFloodWindowDuration((int) h2.resetWindow().toSeconds())
        .setHttp2RstFloodWindowDurationTimeUnit(TimeUnit.SECONDS);
  }

  /**
   * On reload: the TLS context of a port is the first server's, shared by every server bound to the port since
   * (Vert.x's shared servers), so new listeners next to old ones would keep serving the old certificates. This
   * rebuilds it from this instance's options (forced: Vert.x caches contexts by key material only), so renewed
   * certificates, SNI names and ALPN apply to new connections on the port.
   */
  Future<?> refreshTls() {
    List<Future<Boolean>> updated = new ArrayList<>();
    for (int i = 0; i < servers.size(); i++) {
      if (serverOptions.get(i).isSsl()) {
        updated.add(servers.get(i).updateSSLOptions(serverOptions.get(i).getSslOptions(), true));
      }
    }
    return Future.all(updated);
  }

  /** The ports this instance listens on (differs from config where it said 0). */
  List<Integer> actualPorts() {
    return servers.stream().map(HttpServer::actualPort).toList();
  }

  @Override
  public io.vertx.core.Vertx vertx() {
    return vertx;
  }

  @Override
  public io.vertx.core.internal.ContextInternal context() {
    return (io.vertx.core.internal.ContextInternal) context;
  }

  @Override
  public io.netty.channel.EventLoop eventLoop() {
    return eventLoop;
  }

  @Override
  public HttpClientAgent client() {
    return client;
  }

  @Override
  public FastPool fastPool() {
    return fastPool;
  }

  @Override
  public BackendConnections connections() {
    return connections;
  }

  @Override
  public ProxySnapshot snapshot() {
    return snapshots.get();
  }

  @Override
  public ProxyListener listener() {
    return listener;
  }

  @Override
  public long connectTimeoutMillis() {
    return snapshots.get().config().timeouts().connect().toMillis();
  }

  @Override
  public long responseTimeoutMillis() {
    return snapshots.get().config().timeouts().responseHeader().toMillis();
  }
}
