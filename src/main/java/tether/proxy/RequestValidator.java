package tether.proxy;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import java.util.List;
import tether.config.LimitsConfig;

/**
 * What the HTTP decoder lets through but a front door must not (RFC 9112 §6.3, §5.1): ambiguous framing, a missing
 * or repeated Host, control characters and whitespace where they enable smuggling, too many headers. Each problem
 * is answered with its status and a closed connection; nothing of the request reaches a backend.
 */
final class RequestValidator {

  /** Why a request is refused. */
  record Rejection(int status, String message) {}

  private RequestValidator() {}

  /** @return null when the request may be forwarded */
  static Rejection check(HttpServerRequest req, LimitsConfig limits) {
    if (req.uri() == null) { // HTTP/2 CONNECT (RFC 9113 §8.5) has no :path: Tether is no tunnel
      return new Rejection(405, "CONNECT is not supported");
    }
    if (req.version() == HttpVersion.HTTP_2 && req.authority() == null) {
      return new Rejection(400, "an HTTP/2 request needs :authority or Host"); // RFC 9113 §8.3.1
    }
    if (!validTarget(req.uri())) {
      return new Rejection(400, "invalid request target");
    }
    return checkHeaders(req.headers(), req.version(), limits);
  }

  /**
   * A request target of visible ASCII only (RFC 9112 §3.2, RFC 3986 §2: anything else is percent-encoded): no
   * control character, no byte above 0x7E. Netty's decoder refuses only whitespace; left through, a NUL or a raw
   * {@code é} reached the backend, and each request path wrote the latter differently (raw, or as UTF-8). HAProxy and
   * Envoy refuse them too.
   */
  static boolean validTarget(String uri) {
    for (int i = 0; i < uri.length(); i++) {
      char c = uri.charAt(i);
      if (c <= ' ' || c >= 0x7f) {
        return false;
      }
    }
    return true;
  }

  /** The header checks of {@link #check}, for a request head not (yet) wrapped by Vert.x. @return null when fine */
  static Rejection checkHeaders(MultiMap headers, HttpVersion version, LimitsConfig limits) {
    // one pass (no list per name: this runs for every request); the checks then in their order of precedence
    String host = null;
    int hosts = 0;
    boolean invalidField = false;
    boolean framed = false;
    int count = 0;
    for (var it = Headers.lines(headers); it.hasNext(); ) {
      var h = it.next();
      String name = h.getKey().toString();
      String value = h.getValue().toString();
      invalidField |= !validName(name) || !validValue(value);
      if (name.equalsIgnoreCase("host")) {
        host = hosts++ == 0 ? value : host;
      } else if (name.equalsIgnoreCase("transfer-encoding") || name.equalsIgnoreCase("content-length")) {
        framed = true;
      }
      count++;
    }
    if (hosts > 1 || (hosts == 0 && version == HttpVersion.HTTP_1_1)) {
      return new Rejection(400, "an HTTP/1.1 request needs exactly one Host header");
    }
    if (host != null && !validHost(host)) {
      return new Rejection(400, "invalid Host header");
    }
    if (invalidField) {
      return new Rejection(400, "invalid header field");
    }
    if (count > limits.maxHeaderCount()) {
      return new Rejection(431, "more than " + limits.maxHeaderCount() + " header fields");
    }
    return framed ? checkFraming(headers) : null;
  }

  /** Content-Length and Transfer-Encoding (RFC 9112 §6.1, §6.3). @return null when fine */
  private static Rejection checkFraming(MultiMap headers) {
    List<String> te = headers.getAll(HttpHeaders.TRANSFER_ENCODING);
    List<String> cl = headers.getAll(HttpHeaders.CONTENT_LENGTH);
    if (!te.isEmpty()) {
      if (!cl.isEmpty()) {
        return new Rejection(400, "both Content-Length and Transfer-Encoding");
      }
      if (!chunkedLast(String.join(",", te))) {
        return new Rejection(400, "Transfer-Encoding must end in a single chunked");
      }
    } else if (!cl.isEmpty() && contentLength(cl) < 0) {
      return new Rejection(400, "invalid or conflicting Content-Length");
    }
    return null;
  }

  /** The declared length, or -1 when the values are not one non-negative number. */
  static long contentLength(List<String> values) {
    long length = -1;
    for (String value : values) {
      for (String part : value.split(",", -1)) {
        String p = part.trim();
        if (p.isEmpty() || p.length() > 18 || !p.chars().allMatch(c -> c >= '0' && c <= '9')) {
          return -1;
        }
        long n = Long.parseLong(p);
        if (length >= 0 && n != length) {
          return -1;
        }
        length = n;
      }
    }
    return length;
  }

  private static boolean chunkedLast(String codings) {
    String[] tokens = codings.split(",");
    int chunked = 0;
    for (String t : tokens) {
      if (t.trim().equalsIgnoreCase("chunked")) {
        chunked++;
      }
    }
    return chunked == 1 && tokens[tokens.length - 1].trim().equalsIgnoreCase("chunked");
  }

  /**
   * {@code uri-host [ ":" port ]} (RFC 9112 §3.2, RFC 3986 §3.2.2): a reg-name (unreserved, pct-encoded,
   * sub-delims) or an IP-literal in brackets, then an optional port of up to five digits. Empty is allowed (a
   * target without authority). Anything else, a space included, is refused as nginx and HAProxy do.
   */
  static boolean validHost(String host) {
    int end = host.length();
    int i = 0;
    if (host.startsWith("[")) {
      int close = host.indexOf(']');
      if (close < 2) {
        return false;
      }
      for (i = 1; i < close; i++) {
        char c = host.charAt(i);
        if (!(Character.digit(c, 16) >= 0 && c < 0x80) && c != ':' && c != '.') {
          return false;
        }
      }
      i = close + 1;
    } else {
      for (; i < end && host.charAt(i) != ':'; i++) {
        char c = host.charAt(i);
        if (c == '%') {
          if (i + 2 >= end || !isHex(host.charAt(i + 1)) || !isHex(host.charAt(i + 2))) {
            return false;
          }
          i += 2;
        } else if (!isRegNameChar(c)) {
          return false;
        }
      }
    }
    if (i == end) {
      return true;
    }
    if (host.charAt(i) != ':' || end - i - 1 > 5) {
      return false;
    }
    for (int p = i + 1; p < end; p++) {
      if (host.charAt(p) < '0' || host.charAt(p) > '9') {
        return false;
      }
    }
    return true;
  }

  private static boolean isHex(char c) {
    return c < 0x80 && Character.digit(c, 16) >= 0;
  }

  /** unreserved and sub-delims (RFC 3986 §2.2, §2.3). */
  private static boolean isRegNameChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "-._~!$&'()*+,;=".indexOf(c) >= 0;
  }

  /** A token (RFC 9110 §5.6.2): no whitespace, controls or separators, so "Name :" cannot pass. */
  private static boolean validName(String name) {
    if (name.isEmpty()) {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c <= ' ' || c >= 0x7f || "\"(),/:;<=>?@[\\]{}".indexOf(c) >= 0) {
        return false;
      }
    }
    return true;
  }

  private static boolean validValue(String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if ((c < ' ' && c != '\t') || c == 0x7f || c > 0xff) { // (above 0xFF: no byte; written, its low byte)
        return false;
      }
    }
    return true;
  }
}
