package tether.proxy;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2RemoteFlowController;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.net.impl.ConnectionBase;

/**
 * {@link WaitingIsNotIdle} for HTTP/2 client connections: {@code timeouts.idle} ends an HTTP/2 connection without
 * open streams (nginx's {@code http2_idle_timeout} was "no active streams"), or one whose client stops reading;
 * never one with streams that wait on a backend slower than the idle timeout (within {@code response_header}),
 * which Vert.x's byte-counting idle handler closed, failing every stream on it. The idle event is held back while
 * streams are open and nothing waits for the client: no byte in the channel's outbound buffer and no stream with
 * data held by HTTP/2 flow control (a client that stops reading stops granting window: its data waits there). A
 * client that sends its body too slowly has {@code timeouts.body}. Uses Vert.x internals (the pipeline names
 * "idle" and "handler"). Event-loop confined.
 */
final class StreamsWaitingAreNotIdle extends ChannelDuplexHandler {

  private final Http2ConnectionHandler http2;

  private StreamsWaitingAreNotIdle(Http2ConnectionHandler http2) {
    this.http2 = http2;
  }

  /** On an HTTP/2 connection (TLS with ALPN h2, or h2c with prior knowledge) with an idle timeout. */
  static void install(HttpConnection connection) {
    if (connection instanceof ConnectionBase base) {
      ChannelPipeline p = base.channel().pipeline();
      if (p.get("idle") instanceof IdleStateHandler && p.get("handler") instanceof Http2ConnectionHandler h2) {
        p.addBefore("handler", "tether-streams-waiting", new StreamsWaitingAreNotIdle(h2));
      }
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof IdleStateEvent && waitingOnTether(ctx)) {
      return; // the client waits on Tether, not the other way round
    }
    super.userEventTriggered(ctx, evt);
  }

  private boolean waitingOnTether(ChannelHandlerContext ctx) {
    Http2Connection connection = http2.connection();
    if (connection.numActiveStreams() == 0) {
      return false;
    }
    if (!WaitingIsNotIdle.nothingQueuedFor(ctx)) {
      return false;
    }
    Http2RemoteFlowController flow = connection.remote().flowController();
    boolean[] held = {false};
    try {
      connection.forEachActiveStream(stream -> {
        held[0] = flow.hasFlowControlled(stream);
        return !held[0];
      });
    } catch (io.netty.handler.codec.http2.Http2Exception e) {
      return false; // (the visitor throws nothing; the signature says it may)
    }
    return !held[0];
  }
}
