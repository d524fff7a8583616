package tether.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * A minimal HTTP/1.1 reverse proxy straight on Netty (epoll, one event loop): round robin over the backends,
 * HAProxy-style inserted SRV cookie, pooled keep-alive backend connections, messages passed through as Netty
 * decoded them. No hardening, no failover: the cap a Netty-level fast path inside Tether could reach, measured next
 * to the Vert.x baseline (bench/compare.sh's vertx-baseline) and nginx. Not Tether.
 * Usage: java -jar netty-baseline.jar PORT BACKEND_HOST:PORT...
 */
public final class NettyProxy {

  record Backend(String id, InetSocketAddress address, ArrayDeque<Channel> idle, String setCookie) {}

  private final List<Backend> backends = new ArrayList<>();
  private final Bootstrap client;
  private int next;

  NettyProxy(EventLoopGroup loop, List<InetSocketAddress> addresses) {
    for (InetSocketAddress a : addresses) {
      String id = "b" + (backends.size() + 1);
      backends.add(new Backend(id, a, new ArrayDeque<>(), "SRV=" + id + "; Path=/"));
    }
    client = new Bootstrap().group(loop).channel(EpollSocketChannel.class)
        .option(ChannelOption.TCP_NODELAY, true)
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(new HttpClientCodec(), new BackendHandler());
          }
        });
  }

  public static void main(String[] args) throws Exception {
    EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    List<InetSocketAddress> addresses = new ArrayList<>();
    for (int i = 1; i < args.length; i++) {
      String[] hp = args[i].split(":");
      addresses.add(new InetSocketAddress(hp[0], Integer.parseInt(hp[1])));
    }
    NettyProxy proxy = new NettyProxy(loop, addresses);
    new ServerBootstrap().group(loop).channel(EpollServerSocketChannel.class)
        .option(ChannelOption.SO_BACKLOG, 4096)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(new HttpServerCodec(), proxy.new FrontHandler());
          }
        })
        .bind("127.0.0.1", Integer.parseInt(args[0])).sync().channel().closeFuture().sync();
  }

  private Backend pick(HttpRequest req) {
    String cookie = req.headers().get(HttpHeaderNames.COOKIE);
    if (cookie != null) {
      int at = cookie.indexOf("SRV=");
      if (at >= 0) {
        for (Backend b : backends) {
          if (cookie.startsWith(b.id, at + 4)) {
            return b;
          }
        }
      }
    }
    Backend b = backends.get(next);
    next = (next + 1) % backends.size();
    return b;
  }

  /** One client connection: one request in flight at a time (reads paused meanwhile). */
  final class FrontHandler extends ChannelInboundHandlerAdapter {
    private Channel upstream;
    private final ArrayDeque<Object> pending = new ArrayDeque<>();

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof HttpRequest req) {
        Backend b = pick(req);
        boolean insertCookie = req.headers().get(HttpHeaderNames.COOKIE) == null;
        req.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        Channel idle = b.idle.pollLast();
        Exchange ex = new Exchange(ctx.channel(), b, insertCookie, HttpUtil.isKeepAlive(req));
        if (idle != null && idle.isActive()) {
          bind(idle, ex);
          idle.write(msg);
        } else {
          pending.add(msg);
          client.connect(b.address).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
              ctx.close();
              return;
            }
            bind(f.channel(), ex);
            while (!pending.isEmpty()) {
              f.channel().write(pending.poll());
            }
            f.channel().flush();
          });
        }
        return;
      }
      if (upstream != null) {
        upstream.write(msg);
      } else {
        pending.add(msg);
      }
    }

    private void bind(Channel backend, Exchange ex) {
      upstream = backend;
      backend.pipeline().get(BackendHandler.class).exchange = ex;
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      if (upstream != null) {
        upstream.flush();
      }
    }

    void responseDone() {
      upstream = null;
    }
  }

  record Exchange(Channel front, Backend backend, boolean insertCookie, boolean keepAlive) {}

  /** One backend connection: relays the response to the client, then goes back to the idle list. */
  final class BackendHandler extends ChannelInboundHandlerAdapter {
    Exchange exchange;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      Exchange ex = exchange;
      if (msg instanceof HttpResponse resp && ex.insertCookie) {
        resp.headers().add(HttpHeaderNames.SET_COOKIE, ex.backend.setCookie);
      }
      if (msg instanceof LastHttpContent) {
        ex.front.writeAndFlush(msg);
        ex.front.pipeline().get(FrontHandler.class).responseDone();
        exchange = null;
        ex.backend.idle.addLast(ctx.channel());
        if (!ex.keepAlive) {
          ex.front.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(ChannelFutureListener.CLOSE);
        }
      } else if (msg instanceof HttpContent || msg instanceof HttpResponse) {
        ex.front.write(msg);
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      Exchange ex = exchange;
      if (ex != null) {
        ex.front.flush();
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      for (Backend b : backends) {
        b.idle.remove(ctx.channel());
      }
    }
  }
}
