package tether.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.impl.VertxHttpRequestDecoder;
import io.vertx.core.net.impl.ConnectionBase;
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

  StrictRequestDecoder(HttpServerOptions options) {
    super(options);
    this.maxTrailerBytes = options.getMaxHeaderSize();
  }

  /**
   * Puts a strict decoder in place of the connection's own; uses Vert.x internals (no public hook exists). Not on
   * HTTP/2 connections (no HTTP/1 decoder), nor on an HTTP/1 connection of an h2c listener: Vert.x announces that
   * one only once its first request head is decoded ("h2c" upgrade handler still in place), when swapping the
   * decoder would lose the bytes after that head.
   */
  static void install(HttpConnection connection, HttpServerOptions options) {
    if (connection instanceof ConnectionBase base && base.channel().pipeline().get("httpDecoder") != null
        && base.channel().pipeline().get("h2c") == null) {
      base.channel().pipeline().replace("httpDecoder", "httpDecoder", new StrictRequestDecoder(options));
    }
  }

  /**
   * Tells {@code handler} (on the connection's event loop, after the current read) why the chunked body of the
   * request being read is malformed; at once if it already was. The handler is dropped when that body ends well.
   */
  static void onMalformedBody(HttpConnection connection, Handler<String> handler) {
    if (connection instanceof ConnectionBase base
        && base.channel().pipeline().get("httpDecoder") instanceof StrictRequestDecoder decoder) {
      decoder.malformedBody = handler;
      if (decoder.malformed != null) {
        base.channel().eventLoop().execute(() -> handler.handle(decoder.malformed));
      }
    }
  }

  @Override
  protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
    throw new IllegalArgumentException("both Transfer-Encoding and Content-Length");
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
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
        if (request.decoderResult().isSuccess() && HttpUtil.isTransferEncodingChunked(request)) {
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
}
