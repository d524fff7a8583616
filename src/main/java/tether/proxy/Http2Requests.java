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
   * delivered; Netty's stream is already half-closed (remote) while the headers are handled. The exception is the
   * stream of an HTTP/1.1 {@code Upgrade: h2c} request (stream 1): Netty opens it half-closed (RFC 9113 §3.2 has the
   * body sent before the switch) but Vert.x's "h2c" handler, still in the pipeline until that request's end, turns
   * its HTTP/1.1 body into DATA frames after the headers were handled; its chunked framing is dropped with
   * {@code Transfer-Encoding}, so with no Content-Length a body may follow (forwarded chunked, maybe empty): taken
   * as none, a chunked upgrade body reached the backend as a complete empty one.
   */
  static boolean bodyFollows(HttpServerRequest req) {
    if (req.version() != HttpVersion.HTTP_2) {
      return false;
    }
    if (req.connection() instanceof ConnectionBase base) {
      Http2ConnectionHandler handler = base.channel().pipeline().get(Http2ConnectionHandler.class);
      if (handler != null) {
        Http2Stream stream = handler.connection().stream(req.streamId());
        if (stream != null && stream.id() == 1 && stream.state() == Http2Stream.State.HALF_CLOSED_REMOTE
            && base.channel().pipeline().get("h2c") != null) {
          return upgradeBodyFollows(base.channel().pipeline().get("httpDecoder"), req);
        }
        return stream != null && stream.state() == Http2Stream.State.OPEN;
      }
    }
    return !req.isEnded();
  }

  /**
   * The upgrade request's own HTTP/1.1 decoder (Netty's, Vert.x's subclass) says whether it is reading a body: in a
   * content state (READ_..._CONTENT, READ_CHUNK_...) after a head with a body, back at its first state after one
   * without, before the request is passed on (Netty internals, read by reflection). Unknown (another Netty): a body
   * is assumed, so one is never cut (an empty one is then sent chunked).
   */
  private static boolean upgradeBodyFollows(Object decoder, HttpServerRequest req) {
    if (req.isEnded()) {
      return false;
    }
    if (decoder != null && STATE != null) {
      try {
        String state = ((Enum<?>) STATE.get(decoder)).name();
        return state.startsWith("READ_") && state.endsWith("_CONTENT") || state.startsWith("READ_CHUNK");
      } catch (ReflectiveOperationException | RuntimeException e) {
        return true;
      }
    }
    return true;
  }

  private static final java.lang.reflect.Field STATE = stateField();

  private static java.lang.reflect.Field stateField() {
    try {
      java.lang.reflect.Field f = io.netty.handler.codec.http.HttpObjectDecoder.class.getDeclaredField("currentState");
      f.setAccessible(true);
      return f;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }
}
