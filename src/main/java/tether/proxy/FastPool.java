package tether.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.util.NetUtil;
import io.vertx.core.http.impl.headers.HeadersMultiMap;
import io.vertx.core.net.SocketAddress;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayDeque;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import tether.upstream.Backend;

/**
 * The fast path's keep-alive connections to backends ({@link FastPath}): one pool per event loop, so a backend
 * connection never leaves the loop of the client connection it serves and nothing is locked. Idle connections
 * are kept per address, the most recently used first (the warmest), and retired a second before the backend's
 * announced {@code Keep-Alive: timeout=N} or after {@code timeouts.upstream_keepalive}, whichever is sooner: the
 * keep-alive race ({@link KeepAliveMargin} does the same for Vert.x's pool). Response heads are decoded with
 * Vert.x's header map, so stickiness and the header copy read them as they read Vert.x's.
 */
final class FastPool {

  /** Vert.x's header map for decoded responses (a Netty {@link HttpHeaders} and a Vert.x {@code MultiMap}). */
  private static final HttpHeadersFactory HEADERS = new HttpHeadersFactory() {
    @Override
    public HttpHeaders newHeaders() {
      return HeadersMultiMap.httpHeaders();
    }

    @Override
    public HttpHeaders newEmptyHeaders() {
      return HeadersMultiMap.httpHeaders();
    }
  };

  private final EventLoop loop;
  private final Bootstrap bootstrap;
  private final ProxyListener listener;
  private final long keepAliveNanos;
  private final java.util.function.ToIntFunction<Backend> maxIdle;
  /** Per server, not per address: a connection counts for the server it was opened for (two may share one). */
  private final Map<Backend, ArrayDeque<Link>> idle = new IdentityHashMap<>();
  private boolean sweeping;

  /**
   * @param channelType the client connections' channel class (io_uring, epoll or NIO, as Vert.x's transport)
   * @param keepAliveMillis the longest a connection idles in the pool ({@code timeouts.upstream_keepalive})
   * @param maxHeaderBytes the largest response head accepted
   * @param maxIdle the most idle connections kept for a server (its upstream's {@code pool_size}, as nginx's
   *     {@code keepalive}): one more is closed when its response ends
   */
  FastPool(EventLoop loop, Class<? extends Channel> channelType, ProxyListener listener, long keepAliveMillis,
           int maxHeaderBytes, java.util.function.ToIntFunction<Backend> maxIdle) {
    this.loop = loop;
    this.listener = listener;
    this.maxIdle = maxIdle;
    this.keepAliveNanos = TimeUnit.MILLISECONDS.toNanos(Math.max(1, keepAliveMillis));
    HttpDecoderConfig decoder = new HttpDecoderConfig().setMaxHeaderSize(maxHeaderBytes).setHeadersFactory(HEADERS)
        .setTrailersFactory(HEADERS);
    this.bootstrap = new Bootstrap().group(loop).channel(channelType)
        .option(ChannelOption.TCP_NODELAY, true)
        .handler(new ChannelInitializer<>() {
          @Override
          protected void initChannel(Channel ch) {
            // (no encoder: the fast path writes its request heads encoded, ForwardedHead)
            ch.pipeline().addLast("decoder", new ResponseDecoder(decoder));
          }
        });
  }

  /**
   * An idle connection of {@code backend} to {@code address}, or null; expired ones met on the way are closed, and
   * so are those to an address the server no longer has (its name moved).
   *
   * @param now {@link System#nanoTime()}, read by the caller
   */
  Link take(Backend backend, SocketAddress address, long now) {
    ArrayDeque<Link> links = idle.get(backend);
    if (links == null) {
      return null;
    }
    Link link;
    while ((link = links.pollLast()) != null) {
      if (link.channel.isActive() && now - link.expiresNanos < 0 && link.address.equals(address)) {
        return link;
      }
      link.channel.close();
    }
    return null;
  }

  /**
   * Dials {@code backend} at its current address; the connection counts as that server's until it closes.
   *
   * @throws UnknownHostException the address is not an IP literal (never dialled by name from the event loop)
   */
  ChannelFuture connect(Backend backend, SocketAddress address, int connectTimeoutMillis, Link.Reader reader)
      throws UnknownHostException {
    byte[] ip = NetUtil.createByteArrayFromIpAddressString(address.hostAddress());
    if (ip == null) {
      throw new UnknownHostException(address.hostAddress());
    }
    InetSocketAddress target = new InetSocketAddress(InetAddress.getByAddress(ip), address.port());
    ChannelFuture connecting = bootstrap.clone().option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis)
        .connect(target);
    Channel ch = connecting.channel();
    Link link = new Link(this, ch, backend, address);
    link.reader = reader;
    ch.pipeline().addLast("link", link);
    connecting.addListener(f -> {
      if (f.isSuccess()) {
        PausedResetSweep.watch(ch); // io_uring only: a reset while reading is paused
      }
    });
    return connecting;
  }

  /**
   * Back to the pool after a complete response, unless the backend said it closes the connection.
   *
   * @param keepAlive          the response keeps the connection open ({@link HttpUtil#isKeepAlive} of its head)
   * @param keepAliveHeader    its {@code Keep-Alive} header ({@code timeout=N}), or null
   * @param now                {@link System#nanoTime()}, read by the caller (when the response's end was read)
   */
  void give(Link link, boolean keepAlive, String keepAliveHeader, long now) {
    link.reader = null;
    if (!link.channel.config().isAutoRead()) {
      link.channel.config().setAutoRead(true); // paused for a slow client or a shared session: the next one reads
    }
    if (!link.channel.isActive() || !keepAlive) {
      link.channel.close();
      return;
    }
    long expires = now + keepAliveNanos;
    int keep = keepAliveHeader == null ? -1 : KeepAliveMargin.keepSeconds(keepAliveHeader);
    if (keep == 0) {
      link.channel.close();
      return;
    }
    if (keep > 0) {
      expires = Math.min(expires, now + TimeUnit.SECONDS.toNanos(keep));
    }
    ArrayDeque<Link> links = idle.computeIfAbsent(link.backend, b -> new ArrayDeque<>());
    if (links.size() >= Math.max(1, maxIdle.applyAsInt(link.backend))) {
      link.channel.close();
      return;
    }
    link.expiresNanos = expires;
    links.addLast(link);
    if (!sweeping) {
      sweeping = true;
      loop.schedule(this::sweep, 1, TimeUnit.SECONDS);
    }
  }

  /** Closes every idle connection (the verticle stops: a reload that rebuilt it, or the shutdown). */
  void close() {
    for (ArrayDeque<Link> links : idle.values()) {
      links.forEach(l -> l.channel.close());
    }
    idle.clear();
  }

  /** Closes expired idle connections once a second while any idles. */
  private void sweep() {
    long now = System.nanoTime();
    boolean any = false;
    for (Iterator<ArrayDeque<Link>> it = idle.values().iterator(); it.hasNext(); ) {
      ArrayDeque<Link> links = it.next();
      links.removeIf(l -> {
        boolean expired = !l.channel.isActive() || now - l.expiresNanos >= 0;
        if (expired) {
          l.channel.close();
        }
        return expired;
      });
      if (links.isEmpty()) {
        it.remove();
      } else {
        any = true;
      }
    }
    sweeping = any;
    if (any) {
      loop.schedule(this::sweep, 1, TimeUnit.SECONDS);
    }
  }

  private void closed(Link link) {
    ArrayDeque<Link> links = idle.get(link.backend);
    if (links != null) {
      links.remove(link);
    }
    if (link.counted) {
      listener.upstreamConnections(link.backend, -1);
    }
  }

  /**
   * The response decoder of a backend connection: no body after the head of a final response to a HEAD. Not
   * Netty's client codec, which takes a request's method off its queue for a 1xx response too (4.2.9), so the
   * answer to a HEAD after a 103 Early Hints would wait for the body its Content-Length announces.
   */
  static final class ResponseDecoder extends HttpResponseDecoder {

    /** The request in flight is a HEAD. */
    private boolean head;

    ResponseDecoder(HttpDecoderConfig config) {
      super(config);
    }

    @Override
    protected boolean isContentAlwaysEmpty(HttpMessage msg) {
      return super.isContentAlwaysEmpty(msg)
          || (head && ((HttpResponse) msg).status().codeClass() != HttpStatusClass.INFORMATIONAL);
    }
  }

  /**
   * One backend connection: passes what its decoder reads to the exchange using it ({@link Reader}), counts
   * itself as its server's while open. Event-loop confined.
   */
  static final class Link extends ChannelInboundHandlerAdapter {

    /** The exchange the connection serves. */
    interface Reader {
      void read(Object msg);

      void readComplete();

      void closed();
    }

    private final FastPool pool;
    final Channel channel;
    final Backend backend;
    final SocketAddress address;
    Reader reader;
    /** Responses completed on it: more than 0 means a reuse (the keep-alive race applies). */
    int responses;
    private long expiresNanos;
    private boolean counted;
    private ResponseDecoder decoder;

    private Link(FastPool pool, Channel channel, Backend backend, SocketAddress address) {
      this.pool = pool;
      this.channel = channel;
      this.backend = backend;
      this.address = address;
    }

    /**
     * Sends a request head without body, encoded ({@link ForwardedHead}); what comes back is decoded as the answer
     * to a HEAD if {@code head}. Takes {@code encoded} over (it is released once written).
     */
    void send(ByteBuf encoded, boolean head) {
      if (decoder == null) {
        decoder = channel.pipeline().get(ResponseDecoder.class);
      }
      decoder.head = head;
      channel.writeAndFlush(encoded, channel.voidPromise());
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      counted = true;
      pool.listener.upstreamConnections(backend, 1);
      ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      Reader r = reader;
      if (r != null) {
        r.read(msg);
      } else {
        io.netty.util.ReferenceCountUtil.release(msg); // nothing is asked of an idle connection
        ctx.close();
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      Reader r = reader;
      if (r != null) {
        r.readComplete();
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      pool.closed(this);
      Reader r = reader;
      reader = null;
      if (r != null) {
        r.closed();
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close(); // a reset backend: the exchange hears of it as a close
    }
  }
}
