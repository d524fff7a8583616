package tether.proxy;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.net.impl.ConnectionBase;
import io.vertx.core.net.impl.VertxHandler;
import java.util.concurrent.TimeUnit;

/**
 * {@code timeouts.idle} on an HTTP/1 client connection ends an idle keep-alive connection, or one whose client stops
 * reading a response; never one whose client waits for Tether. Vert.x's idle handler counts bytes only, so a backend
 * slower than the idle timeout (within {@code response_header}) had its client closed before the answer came (499,
 * on either path). Here, just before Vert.x's handler, the idle event is held back while a request is
 * unanswered and nothing waits to be written to the client: Tether is waiting on a backend (or on the client's
 * body), and those waits have their own timeouts ({@code response_header}, {@code timeouts.body}). With bytes
 * queued for the client (it is not reading them), or nothing unanswered, the event passes. Vert.x's idle handler
 * itself is swapped for {@link WriteCallsCount} (same timeouts, no promise per write). Uses Vert.x internals
 * (the pipeline names "idle", "httpDecoder" and "handler"). Event-loop confined.
 */
final class WaitingIsNotIdle extends ChannelDuplexHandler {

  /** Request heads read. */
  private long requests;
  /** Final responses whose end was written (both paths' writes pass here). */
  private long answered;

  private WaitingIsNotIdle() {}

  /**
   * On an HTTP/1 connection with an idle timeout (on an h2c listener too: it sees the first head, which Vert.x passes
   * on after announcing the connection); before {@link FastPath#install} (which goes after it).
   */
  static void install(HttpConnection connection) {
    if (connection instanceof ConnectionBase base) {
      ChannelPipeline p = base.channel().pipeline();
      if (p.get("idle") instanceof IdleStateHandler idle && p.get("httpDecoder") != null
          && p.get("handler") instanceof VertxHandler) { // (an h2c upgrade has HTTP/2's handler there)
        p.replace("idle", "idle", new WriteCallsCount(idle));
        // after both the decoder (request heads) and the idle handler (its events): Vert.x puts the codec before its
        // chunked writer where it has one (TLS listeners; io_uring: no sendfile), which leaves the idle handler first
        p.addBefore("handler", "tether-waiting", new WaitingIsNotIdle());
      }
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof HttpRequest) {
      requests++;
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof LastHttpContent
        && !(msg instanceof HttpResponse r && r.status().codeClass() == HttpStatusClass.INFORMATIONAL)) {
      answered++;
    }
    ctx.write(msg, promise);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof IdleStateEvent && answered < requests && nothingQueuedFor(ctx)) {
      return; // the client waits on Tether, not the other way round
    }
    ctx.fireUserEventTriggered(evt);
  }

  /**
   * Vert.x's idle handler (same timeouts), with a write counted when it is made instead of when it completes:
   * Netty's makes every write's void promise a real one to hear of its completion (a promise, a listener and a
   * listener array per write: 6 % of the fast path's allocation, bench/results/20261202-s10-alloc). A client that
   * stops reading still goes idle on time: nothing more is written to it once its channel is unwritable (the relay
   * pauses), so its last write is as old as its last completed one, give or take a buffer's worth.
   */
  static final class WriteCallsCount extends IdleStateHandler {

    WriteCallsCount(IdleStateHandler vertx) {
      super(vertx.getReaderIdleTimeInMillis(), vertx.getWriterIdleTimeInMillis(), vertx.getAllIdleTimeInMillis(),
          TimeUnit.MILLISECONDS);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
      ctx.write(msg, promise);
      resetWriteTimeout(); // (what Netty's listener does when the write completes)
    }
  }

  /** No byte waits in the channel to be written to the client (one that stops reading leaves bytes there). */
  static boolean nothingQueuedFor(ChannelHandlerContext ctx) {
    ChannelOutboundBuffer out = ctx.channel().unsafe().outboundBuffer();
    return out != null && out.totalPendingWriteBytes() == 0;
  }
}
