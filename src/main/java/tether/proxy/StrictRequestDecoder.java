package tether.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.impl.VertxHttpRequestDecoder;
import io.vertx.core.net.impl.ConnectionBase;
import java.util.List;

/**
 * Vert.x's request decoder, made strict where Netty is lenient: a request with both Transfer-Encoding and
 * Content-Length (Netty drops the Content-Length) and obs-fold continuation lines (Netty joins them) are decoding
 * errors, which Vert.x answers with 400 and a closed connection (RFC 9112 §6.3, §5.2).
 */
final class StrictRequestDecoder extends VertxHttpRequestDecoder {

  private boolean inHead = true;
  private boolean headStarted;
  private boolean rejected;

  StrictRequestDecoder(HttpServerOptions options) {
    super(options);
  }

  /** Puts a strict decoder in place of the connection's own; uses Vert.x internals (no public hook exists). */
  static void install(HttpConnection connection, HttpServerOptions options) {
    if (connection instanceof ConnectionBase base && base.channel().pipeline().get("httpDecoder") != null) {
      base.channel().pipeline().replace("httpDecoder", "httpDecoder", new StrictRequestDecoder(options));
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
      if (o instanceof HttpRequest) {
        inHead = false;
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
