package tether.proxy;

import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Stream;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.impl.ConnectionBase;

/** What an HTTP/2 request says that Vert.x's public API does not, read from Netty's stream (Vert.x internals). */
final class Http2Requests {

  private Http2Requests() {}

  /**
   * Whether DATA frames follow the request's HEADERS: false when the client ended the stream with them (a GET),
   * true when a body comes, announced by Content-Length or not (HTTP/2 has no chunked coding: a body without a
   * length is forwarded to the HTTP/1.1 backend chunked, as nginx does). Vert.x reports the end only once it is
   * delivered; Netty's stream is already half-closed (remote) while the headers are handled.
   */
  static boolean bodyFollows(HttpServerRequest req) {
    if (req.version() != HttpVersion.HTTP_2) {
      return false;
    }
    if (req.connection() instanceof ConnectionBase base) {
      Http2ConnectionHandler handler = base.channel().pipeline().get(Http2ConnectionHandler.class);
      if (handler != null) {
        Http2Stream stream = handler.connection().stream(req.streamId());
        return stream != null && stream.state() == Http2Stream.State.OPEN;
      }
    }
    return !req.isEnded();
  }
}
