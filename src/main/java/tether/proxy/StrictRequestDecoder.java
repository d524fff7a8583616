package tether.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.impl.VertxHttpRequestDecoder;
import io.vertx.core.net.impl.ConnectionBase;
import io.vertx.core.net.impl.VertxHandler;
import java.util.List;

/**
 * Vert.x's request decoder, made strict where Netty is lenient: a request with both Transfer-Encoding and
 * Content-Length (Netty drops the Content-Length) and obs-fold continuation lines (Netty joins them) are decoding
 * errors, which Vert.x answers with 400 and a closed connection (RFC 9112 §6.3, §5.2). Chunked bodies are decoded
 * by {@link ChunkedBody} instead of Netty; a malformed one is never ended (so nothing downstream sees a complete
 * request), its bytes and all that follow are dropped, and the handler registered with {@link #onMalformedBody}
 * is told why, so the exchange answers 400 and closes.
 */
final class StrictRequestDecoder extends VertxHttpRequestDecoder {

  private final int maxTrailerBytes;
  private boolean inHead = true;
  private boolean headStarted;
  private boolean rejected;
  private ChunkedBody body;
  private Handler<String> malformedBody;
  private String malformed;
  /** Set from the take-over after a chunked head until a task on the event loop runs, after Vert.x's h2c handler
   * (which drops what is not a head) left the pipeline. */
  private boolean holding;

  /** {@code inChunkedBody}: taking over after a head announcing a chunked body (its bytes come next). */
  private StrictRequestDecoder(HttpServerOptions options, boolean inChunkedBody) {
    super(options);
    this.maxTrailerBytes = options.getMaxHeaderSize();
    if (inChunkedBody) {
      inHead = false;
      body = new ChunkedBody(maxTrailerBytes);
    }
  }

  /**
   * Puts a strict decoder in place of the connection's own; uses Vert.x internals (no public hook exists). Not on
   * HTTP/2 connections (no HTTP/1 decoder). On an h2c listener Vert.x announces an HTTP/1 connection only once its
   * own decoder has read the first request head (Vert.x's "h2c" upgrade handler still in place): there the strict
   * decoder takes over from Vert.x's at the first point that loses nothing (see {@link Handover}).
   */
  static void install(HttpConnection connection, HttpServerOptions options) {
    if (connection instanceof ConnectionBase base && base.channel().pipeline().get("httpDecoder") != null) {
      ChannelPipeline p = base.channel().pipeline();
      if (p.get("h2c") == null) {
        p.replace("httpDecoder", "httpDecoder", new StrictRequestDecoder(options, false));
      } else if (p.get("handler") instanceof VertxHandler) { // (not an h2c upgrade: its handler is HTTP/2's)
        p.addBefore("handler", Handover.NAME, new Handover(options));
      }
    }
  }

  /**
   * Tells {@code handler} (on the connection's event loop, after the current read) why the chunked body of the
   * request being read is malformed; at once if it already was. The handler is dropped when that body ends well.
   */
  static void onMalformedBody(HttpConnection connection, Handler<String> handler) {
    if (connection instanceof ConnectionBase base) {
      ChannelPipeline p = base.channel().pipeline();
      if (p.get("httpDecoder") instanceof StrictRequestDecoder decoder) {
        decoder.malformedBody = handler;
        if (decoder.malformed != null) {
          base.channel().eventLoop().execute(() -> handler.handle(decoder.malformed));
        }
      } else if (p.get(Handover.NAME) instanceof Handover handover) {
        handover.malformedBody = handler; // the first request's chunked body, read by the decoder to come
      }
    }
  }

  @Override
  protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
    throw new IllegalArgumentException("both Transfer-Encoding and Content-Length");
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
    if (holding) {
      return; // the bytes stay in the cumulation until released
    }
    if (rejected) {
      buffer.skipBytes(buffer.readableBytes());
      return;
    }
    if (body != null) {
      decodeBody(ctx, buffer, out);
      return;
    }
    if (inHead && folded(buffer)) {
      // an invalid message, as Netty itself emits for a bad head: Vert.x answers 400 and closes
      rejected = true;
      buffer.skipBytes(buffer.readableBytes());
      DefaultFullHttpRequest invalid = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/bad-request");
      invalid.setDecoderResult(DecoderResult.failure(new IllegalArgumentException("obs-fold header line")));
      out.add(invalid);
      return;
    }
    int before = out.size();
    int readerIndex = buffer.readerIndex();
    super.decode(ctx, buffer, out);
    for (int i = before; i < out.size(); i++) {
      Object o = out.get(i);
      if (o instanceof HttpRequest request) {
        inHead = false;
        if (chunkedBodyFollows(request)) {
          body = new ChunkedBody(maxTrailerBytes);
          malformedBody = null;
        }
      }
      if (o instanceof LastHttpContent) {
        inHead = true;
        headStarted = false;
      }
    }
    if (inHead && buffer.readerIndex() > readerIndex) {
      headStarted = true;
    }
  }

  private void decodeBody(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) {
    switch (body.decode(buffer, out)) {
      case DONE -> {
        body = null;
        malformedBody = null;
        inHead = true;
        headStarted = false;
        reset(); // Netty still expects a chunk size: start the next request afresh
      }
      case MALFORMED -> {
        rejected = true;
        malformed = body.problem();
        buffer.skipBytes(buffer.readableBytes());
        Handler<String> handler = malformedBody;
        if (handler != null) {
          ctx.channel().eventLoop().execute(() -> handler.handle(malformed));
        }
      }
      default -> { }
    }
  }

  /** A well-formed head whose body comes chunked (decoded by {@link ChunkedBody}, not Netty). */
  private static boolean chunkedBodyFollows(HttpRequest request) {
    return request.decoderResult().isSuccess() && HttpUtil.isTransferEncodingChunked(request);
  }

  /** A line of the head (after the request line) that starts with a space or tab. */
  private boolean folded(ByteBuf buffer) {
    int from = buffer.readerIndex();
    int to = buffer.writerIndex();
    if (headStarted && from < to && isBlank(buffer.getByte(from))) {
      return true;
    }
    for (int i = from; i + 1 < to; i++) {
      byte b = buffer.getByte(i);
      if (b == '\n') {
        byte next = buffer.getByte(i + 1);
        if (next == '\r' || next == '\n') {
          return false; // end of the head: what follows is body
        }
        if (isBlank(next)) {
          return true;
        }
      }
    }
    return false;
  }

  private static boolean isBlank(byte b) {
    return b == ' ' || b == '\t';
  }

  /**
   * On an h2c listener, swaps Vert.x's decoder (which read the first head) for a strict one where no message is half
   * read: at the end of the first request, or right after its head when a chunked body follows (Netty's chunk parser
   * is the lenient part). In that second case Vert.x's "h2c" handler is still in the pipeline and would drop the body
   * parts, so the new decoder holds the bytes it is given until a task on the event loop, after that handler went.
   * The first head itself stays Vert.x's: an obs-fold there is unfolded (RFC 9112 §5.2 allows either), not refused.
   */
  private static final class Handover extends ChannelInboundHandlerAdapter {

    static final String NAME = "tether-strict-handover";
    private final HttpServerOptions options;
    private Handler<String> malformedBody;

    Handover(HttpServerOptions options) {
      this.options = options;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof HttpObject o && o.decoderResult().isFailure()) {
        ctx.fireChannelRead(msg); // Vert.x answers 400 and closes; its decoder drops the rest meanwhile
        if (!ctx.isRemoved()) {
          ctx.pipeline().remove(this);
        }
        return;
      }
      boolean last = msg instanceof LastHttpContent;
      boolean chunkedBodyNext = !last && msg instanceof HttpRequest request && chunkedBodyFollows(request);
      ctx.fireChannelRead(msg);
      if ((last || chunkedBodyNext) && !ctx.isRemoved()) {
        takeOver(ctx, chunkedBodyNext);
      }
    }

    private void takeOver(ChannelHandlerContext ctx, boolean chunkedBodyNext) {
      ChannelPipeline p = ctx.pipeline();
      p.remove(this);
      if (!(p.get("httpDecoder") instanceof HttpRequestDecoder)) {
        return; // upgraded (a WebSocket: Vert.x took the decoder out)
      }
      StrictRequestDecoder strict = new StrictRequestDecoder(options, chunkedBodyNext);
      strict.malformedBody = malformedBody;
      strict.holding = chunkedBodyNext;
      p.replace("httpDecoder", "httpDecoder", strict); // Vert.x's decoder hands its unread bytes to the new one
      if (chunkedBodyNext) {
        ctx.channel().eventLoop().execute(() -> strict.release(p.context(strict)));
      }
    }
  }

  /** Stops holding and decodes what was held. */
  private void release(ChannelHandlerContext ctx) {
    holding = false;
    if (ctx != null && !ctx.isRemoved()) {
      try {
        channelRead(ctx, Unpooled.EMPTY_BUFFER);
        channelReadComplete(ctx);
      } catch (Exception e) {
        ctx.fireExceptionCaught(e);
      }
    }
  }
}
