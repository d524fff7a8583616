package tether.proxy;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.vertx.core.Future;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.impl.ConnectionBase;
import java.util.concurrent.TimeUnit;
import tether.upstream.Backend;

/**
 * A connection switched by a 101 (a WebSocket): bytes copied as they come between the client's socket and the
 * backend's, never parsed. Each way has backpressure: while one side cannot take more, reads from the other stop
 * (so a slow reader holds at most a socket buffer and a write queue in Tether, never a whole message).
 * When either side closes, fails or goes away, the other is closed too, after what it was sent is flushed.
 * After {@code idleMillis} with no byte either way the tunnel closes: HAProxy's {@code timeout tunnel}, here
 * {@code timeouts.tunnel_idle}, which replaces the client connection's keep-alive idle timeout (and bounds how long
 * a client that stops reading can hold a closing tunnel). Frames are not looked at: no WebSocket close frame is
 * sent by Tether, a side that goes away is seen by the other as a closed connection (1006).
 * Event-loop confined: both sockets live on the client connection's event loop, so the counters need no locks.
 */
final class Tunnel {

  /** Why a tunnel ended, as the {@code tether_tunnels_closed_total} reason names it. */
  enum End {
    CLIENT_CLOSED("client_closed"), BACKEND_CLOSED("backend_closed"), IDLE("idle");

    final String label;

    End(String label) {
      this.label = label;
    }
  }

  private final NetSocket client;
  private final NetSocket backend;
  private final Backend server;
  private final ProxyListener listener;
  private final long openedNanos = System.nanoTime();
  private long fromClient;
  private long toClient;
  private End end;

  private Tunnel(NetSocket client, NetSocket backend, Backend server, ProxyListener listener) {
    this.client = client;
    this.backend = backend;
    this.server = server;
    this.listener = listener;
  }

  /**
   * Sends the backend's 101 (its headers already copied to {@code req.response()}) and starts copying. Fails,
   * the backend side closed, when the client left before its socket could be taken.
   */
  static Future<Tunnel> open(HttpServerRequest req, HttpClientResponse switched, Backend server, long idleMillis,
                             ProxyListener listener) {
    HttpServerResponse resp = req.response();
    resp.headers().remove(HttpHeaders.CONTENT_LENGTH);
    Handshake.forward(resp.headers());
    NetSocket backend = switched.netSocket().pause(); // what the backend sends first waits for the client's socket
    return req.toNetSocket().andThen(ar -> {
      if (ar.failed()) {
        backend.close();
      }
    }).map(client -> {
      Tunnel t = new Tunnel(client, backend, server, listener);
      listener.tunnelOpened(server);
      t.idleTimeout(idleMillis);
      t.copy(client, backend, true);
      t.copy(backend, client, false);
      backend.resume();
      return t;
    });
  }

  private void copy(NetSocket from, NetSocket to, boolean upstream) {
    End closed = upstream ? End.CLIENT_CLOSED : End.BACKEND_CLOSED;
    from.handler(data -> {
      if (upstream) {
        fromClient += data.length();
      } else {
        toClient += data.length();
      }
      to.write(data);
      if (to.writeQueueFull()) {
        from.pause();
        to.drainHandler(v -> from.resume());
      }
    });
    from.endHandler(v -> close(closed));
    from.closeHandler(v -> close(closed));
    from.exceptionHandler(err -> close(closed)); // a reset: the close that follows is the same end
  }

  /** Closes both sides once; each flushes what it was already given first. */
  private void close(End why) {
    if (end != null) {
      return;
    }
    end = why;
    client.close();
    backend.close();
    listener.tunnelClosed(server, fromClient, toClient, System.nanoTime() - openedNanos, why.label);
  }

  /**
   * Puts the tunnel's idle timeout in place of the client connection's HTTP one (Vert.x internals: the channel
   * pipeline; no public API sets a timeout on an upgraded socket). Activity on the client channel is activity
   * of the tunnel: every byte either way is read or written there.
   */
  private void idleTimeout(long idleMillis) {
    if (!(client instanceof ConnectionBase base)) {
      return;
    }
    ChannelPipeline pipeline = base.channel().pipeline();
    IdleClose idle = new IdleClose(idleMillis);
    if (pipeline.get("idle") != null) {
      pipeline.replace("idle", "idle", idle);
    } else {
      pipeline.addBefore("handler", "idle", idle);
    }
  }

  /**
   * Closes the tunnel after a silence both ways (the event never reaches Vert.x, which would close one side only).
   * The client connection is then cut without waiting for a flush: after a whole idle period without progress,
   * what is queued for a client that does not read will not drain, and Vert.x's close would wait for it forever.
   * So a client can hold a closing tunnel at most one more idle period.
   */
  private final class IdleClose extends IdleStateHandler {
    IdleClose(long idleMillis) {
      super(0, 0, idleMillis, TimeUnit.MILLISECONDS);
    }

    @Override
    protected void channelIdle(ChannelHandlerContext ctx, IdleStateEvent evt) {
      Tunnel.this.close(End.IDLE);
      ctx.close(); // from here towards the socket: past Vert.x's handler and its flush-first close
    }
  }
}
