package tether.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.util.AsciiString;
import io.vertx.core.MultiMap;
import io.vertx.core.net.HostAndPort;
import tether.sticky.Cookies;

/**
 * The request head the fast path sends a backend, encoded in one pass over the client's head straight into a buffer:
 * no second header map and no HTTP encoder per request (those were ~5 % of the proxy's CPU and a third of the bytes
 * it allocated per request, {@code bench/results/20261202-s12-bench}). It says what {@link ForwardedHeaders#copy}
 * makes of the head on the Vert.x path, in the same order:
 * <ol>
 *   <li>{@code METHOD uri HTTP/1.1} and {@code Host} as the client sent it;</li>
 *   <li>the client's end-to-end lines (RFC 9110 §7.6.1: not hop-by-hop, not listed by Connection), names and values
 *       as they came, but Host, Cookie and those Tether sets below;</li>
 *   <li>one {@code Cookie} line: the client's lines joined with "; ", without Tether's own cookie
 *       ({@link Cookies#without}), left out when nothing remains;</li>
 *   <li>{@code X-Forwarded-For} (appended to the first line a trusted proxy sent, else the client's address alone),
 *       {@code X-Forwarded-Proto}, {@code X-Forwarded-Host} (a trusted proxy's lines stay where they were),
 *       {@code Via} (appended to the first line), {@code X-Request-Id}; {@code Forwarded} only from a trusted
 *       proxy;</li>
 *   <li>{@code Connection: keep-alive}, so Apache announces its keep-alive timeout.</li>
 * </ol>
 * The request target, names and values were validated when the fast path admitted the request
 * ({@link RequestValidator}: a target of visible ASCII, no control character, nothing above U+00FF) and are written
 * as they are, header characters as Latin-1 bytes as Netty's encoder writes them.
 */
final class ForwardedHead {

  private static final byte[] HTTP_1_1 = ascii(" HTTP/1.1\r\nhost: ");
  private static final byte[] CRLF = ascii("\r\n");
  private static final byte[] COLON = ascii(": ");
  private static final byte[] COOKIE = ascii("\r\ncookie: ");
  private static final byte[] XFF = ascii("\r\nX-Forwarded-For: ");
  private static final byte[] XFP_HTTPS = ascii("\r\nX-Forwarded-Proto: https");
  private static final byte[] XFP_HTTP = ascii("\r\nX-Forwarded-Proto: http");
  private static final byte[] XFH = ascii("\r\nX-Forwarded-Host: ");
  private static final byte[] VIA = ascii("\r\nVia: ");
  private static final byte[] VIA_TETHER = ascii("1.1 tether");
  private static final byte[] REQUEST_ID = ascii("\r\nX-Request-Id: ");
  private static final byte[] END = ascii("\r\nconnection: keep-alive\r\n\r\n");

  private ForwardedHead() {}

  /**
   * @param headers the client's request head, validated; it is not changed (a retry encodes it again)
   * @param ownCookie the cookie that is Tether's own ({@code StickySession#ownCookie}), or null
   * @param client the peer's address; @param authority the request's, or null
   * @return a new buffer holding the whole head, CRLF CRLF included; the caller writes (and so releases) it
   */
  static ByteBuf encode(ByteBufAllocator alloc, HttpMethod method, String uri, MultiMap headers, String ownCookie,
                        String client, HostAndPort authority, boolean trusted, boolean https, String requestId) {
    ByteBuf out = alloc.ioBuffer(512 + uri.length());
    ByteBufUtil.writeAscii(out, method.asciiName());
    out.writeByte(' ');
    ByteBufUtil.writeAscii(out, uri);
    out.writeBytes(HTTP_1_1);
    String host = headers.get(HttpHeaderNames.HOST);
    ByteBufUtil.writeAscii(out, host == null ? "" : host);
    String connection = Headers.connectionList(headers);
    String cookies = null;
    CharSequence xff = null;
    CharSequence via = null;
    boolean sawXfh = false;
    for (var it = Headers.lines(headers); it.hasNext(); ) {
      var line = it.next();
      CharSequence name = line.getKey();
      CharSequence value = line.getValue();
      if (!Headers.isEndToEnd(name.toString(), connection)) {
        continue;
      }
      if (is(name, ForwardedHeaders.X_FORWARDED_FOR)) {
        xff = xff == null ? value : xff;
      } else if (is(name, ForwardedHeaders.VIA_NAME)) {
        via = via == null ? value : via;
      } else if (is(name, HttpHeaderNames.COOKIE)) {
        cookies = cookies == null ? value.toString() : cookies + "; " + value;
      } else if (is(name, ForwardedHeaders.X_FORWARDED_HOST)) {
        sawXfh = true;
        if (trusted) {
          line(out, name, value);
        }
      } else if (!is(name, HttpHeaderNames.HOST) && !is(name, ForwardedHeaders.X_FORWARDED_PROTO)
          && !is(name, RequestIds.HEADER) && (trusted || !is(name, ForwardedHeaders.FORWARDED))) {
        line(out, name, value);
      }
    }
    if (cookies != null && ownCookie != null) {
      cookies = Cookies.without(cookies, ownCookie);
    }
    if (cookies != null) {
      out.writeBytes(COOKIE);
      ByteBufUtil.writeAscii(out, cookies);
    }
    out.writeBytes(XFF);
    if (trusted && xff != null) {
      ByteBufUtil.writeAscii(out, xff);
      out.writeByte(',').writeByte(' ');
    }
    ByteBufUtil.writeAscii(out, client);
    out.writeBytes(https ? XFP_HTTPS : XFP_HTTP);
    if ((!trusted || !sawXfh) && authority != null) {
      out.writeBytes(XFH);
      ByteBufUtil.writeAscii(out, authority.host());
      if (authority.port() > 0) {
        out.writeByte(':');
        ByteBufUtil.writeAscii(out, Integer.toString(authority.port()));
      }
    }
    out.writeBytes(VIA);
    if (via != null) {
      ByteBufUtil.writeAscii(out, via);
      out.writeByte(',').writeByte(' ');
    }
    out.writeBytes(VIA_TETHER);
    out.writeBytes(REQUEST_ID);
    ByteBufUtil.writeAscii(out, requestId);
    out.writeBytes(END);
    return out;
  }

  private static void line(ByteBuf out, CharSequence name, CharSequence value) {
    out.writeBytes(CRLF);
    ByteBufUtil.writeAscii(out, name);
    out.writeBytes(COLON);
    ByteBufUtil.writeAscii(out, value);
  }

  /** Without allocating: runs for every line of every request. */
  private static boolean is(CharSequence name, AsciiString known) {
    return name.length() == known.length() && known.contentEqualsIgnoreCase(name);
  }

  private static byte[] ascii(String s) {
    return s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  }
}
