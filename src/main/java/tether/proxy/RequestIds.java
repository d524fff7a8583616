package tether.proxy;

import io.netty.util.AsciiString;
import io.vertx.core.http.HttpServerRequest;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;

/**
 * {@code X-Request-Id}: kept when a trusted proxy sent one (it already named the request), otherwise a new random
 * 128-bit id in 32 hex digits (nginx's {@code $request_id}); passed to the backend and written in the access log.
 */
final class RequestIds {

  /** An AsciiString: hashed once for the header maps on the request path. */
  static final AsciiString HEADER = AsciiString.cached("X-Request-Id");
  private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

  private RequestIds() {}

  static String of(HttpServerRequest req, boolean trusted) {
    return of(req.headers(), trusted);
  }

  /** @param headers the request's */
  static String of(io.vertx.core.MultiMap headers, boolean trusted) {
    if (trusted) {
      String given = headers.get(HEADER);
      if (given != null && !given.isEmpty() && given.length() <= 200) {
        return given;
      }
    }
    ThreadLocalRandom random = ThreadLocalRandom.current();
    byte[] id = new byte[32];
    long a = random.nextLong();
    long b = random.nextLong();
    for (int i = 0; i < 16; i++) {
      id[i] = HEX[(int) (a >>> (60 - 4 * i)) & 0xf];
      id[16 + i] = HEX[(int) (b >>> (60 - 4 * i)) & 0xf];
    }
    return new String(id, StandardCharsets.ISO_8859_1); // (Latin-1 bytes: the String's own, no char[] between)
  }
}
