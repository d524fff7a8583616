package tether.proxy;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.net.impl.ConnectionBase;

/**
 * Retires a pooled backend connection a second before the backend's announced keep-alive timeout
 * ({@code Keep-Alive: timeout=N}, RFC 2068 §19.7.1.1; Apache sends it to clients that ask with
 * {@code Connection: keep-alive}). Vert.x honours the announced value to the second, which is exactly the race
 * in which the backend closes a connection as it is reused; so {@code timeout=N} becomes {@code N-1}, and
 * {@code timeout=1} closes the connection after the response. Uses Vert.x internals (the channel pipeline).
 */
final class KeepAliveMargin extends ChannelInboundHandlerAdapter {

  private KeepAliveMargin() {}

  static void install(HttpConnection connection) {
    if (connection instanceof ConnectionBase base && base.channel().pipeline().get("handler") != null
        && base.channel().pipeline().get(KeepAliveMargin.class) == null) {
      base.channel().pipeline().addBefore("handler", "tether-keepalive-margin", new KeepAliveMargin());
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof HttpResponse response) {
      String keepAlive = response.headers().get(HttpHeaderNames.KEEP_ALIVE);
      if (keepAlive != null) {
        int keep = keepSeconds(keepAlive);
        if (keep == 0) {
          response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (keep > 0) {
          response.headers().set(HttpHeaderNames.KEEP_ALIVE, "timeout=" + keep);
        }
      }
    }
    ctx.fireChannelRead(msg);
  }

  /**
   * How long a connection may idle after a response announcing {@code keepAlive}: a second under its
   * {@code timeout=N}, so 0 (close it now) for N ≤ 1; -1 when it announces no timeout. Both backend pools follow it.
   */
  static int keepSeconds(String keepAlive) {
    int timeout = timeoutSeconds(keepAlive);
    return timeout < 0 ? -1 : Math.max(0, timeout - 1);
  }

  /** The {@code timeout=} parameter of a Keep-Alive header, or -1. */
  static int timeoutSeconds(String keepAlive) {
    for (String part : keepAlive.split(",")) {
      String p = part.trim();
      if (p.regionMatches(true, 0, "timeout=", 0, 8)) {
        try {
          return Integer.parseInt(p.substring(8).trim());
        } catch (NumberFormatException e) {
          return -1;
        }
      }
    }
    return -1;
  }
}
