package tether.compression;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import tether.config.CompressionConfig;

/**
 * Whether one response is compressed, and with which coding: a pure function of the route's config, the request
 * and the response head, as a ladder of guards in the order of nginx's {@code gzip} filter. Past the guards about the
 * response itself the answer depends on Accept-Encoding, so such a response carries {@code Vary: Accept-Encoding}
 * whether or not this client gets it compressed (so a shared cache never hands a compressed copy to a client that
 * cannot read it, nor the other way round).
 */
final class CompressionPolicy {

  /** {@code coding} null: relayed as it came; {@code vary}: the response depends on Accept-Encoding. */
  record Decision(Coding coding, boolean vary, String why) {
    boolean compress() {
      return coding != null;
    }
  }

  /** Formats that are compressed already: a wildcard in {@code types} never takes them, naming one does. */
  private static final Set<String> COMPRESSED = Set.of("application/zip", "application/gzip", "application/x-gzip",
      "application/zstd", "application/x-bzip2", "application/x-xz", "application/x-7z-compressed",
      "application/x-rar-compressed", "application/vnd.rar", "application/x-compress", "application/x-brotli",
      "font/woff", "font/woff2", "application/font-woff");
  private static final Set<String> UNCOMPRESSED_IMAGES = Set.of("image/svg+xml", "image/x-icon",
      "image/vnd.microsoft.icon", "image/bmp");

  private CompressionPolicy() {}

  static Decision decide(CompressionConfig c, HttpMethod method, HttpVersion version, MultiMap request,
                         int status, MultiMap response, boolean zstdAvailable) {
    if (!c.enabled()) {
      return pass("off");
    }
    if (status < 200 || status == 204 || status == 304) {
      return pass("no body");
    }
    if (status == 206 || response.contains(HttpHeaders.CONTENT_RANGE)) {
      return pass("a range");
    }
    String encoding = response.get(HttpHeaders.CONTENT_ENCODING);
    if (encoding != null && !encoding.isBlank() && !encoding.trim().equalsIgnoreCase("identity")) {
      return pass("encoded by the backend"); // never twice
    }
    if (!listed(c.types(), mediaType(response.get(HttpHeaders.CONTENT_TYPE)))) {
      return pass("type not listed");
    }
    long length = contentLength(response.get(HttpHeaders.CONTENT_LENGTH));
    if (length >= 0 && length < c.minLength()) {
      return pass("shorter than min_length"); // without a length (a stream), compressed: nginx does the same
    }
    if (hasToken(response.getAll(HttpHeaders.CACHE_CONTROL), "no-transform")) {
      return pass("no-transform");
    }
    if (method == HttpMethod.HEAD) {
      return vary("HEAD"); // no body; the head stays the one of the body as sent
    }
    if (request.contains("Range")) {
      return vary("range request"); // the client counts bytes of the uncompressed body
    }
    if (version == HttpVersion.HTTP_1_0) {
      return vary("HTTP/1.0"); // no chunked coding to end a body of unknown length (nginx's gzip_http_version 1.1)
    }
    String accept = request.get(HttpHeaders.ACCEPT_ENCODING);
    double zstd = c.zstd() && zstdAvailable ? AcceptEncoding.quality(accept, Coding.ZSTD) : 0;
    double gzip = c.gzip() ? AcceptEncoding.quality(accept, Coding.GZIP) : 0;
    if (zstd <= 0 && gzip <= 0) {
      return vary("not accepted");
    }
    return new Decision(zstd >= gzip ? Coding.ZSTD : Coding.GZIP, true, "compressed");
  }

  private static Decision pass(String why) {
    return new Decision(null, false, why);
  }

  private static Decision vary(String why) {
    return new Decision(null, true, why);
  }

  /** {@code text/html; charset=utf-8} -> {@code text/html}; null stays null. */
  static String mediaType(String contentType) {
    if (contentType == null) {
      return null;
    }
    int semi = contentType.indexOf(';');
    return (semi < 0 ? contentType : contentType.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
  }

  /** An exact entry takes any type; {@code type/*} and {@code *} only those not compressed already. */
  static boolean listed(List<String> types, String mediaType) {
    if (mediaType == null || mediaType.isEmpty()) {
      return false;
    }
    if (types.contains(mediaType)) {
      return true;
    }
    if (compressedAlready(mediaType)) {
      return false;
    }
    for (String t : types) {
      if (t.equals("*") || (t.endsWith("/*") && mediaType.startsWith(t.substring(0, t.length() - 1)))) {
        return true;
      }
    }
    return false;
  }

  static boolean compressedAlready(String mediaType) {
    if (mediaType.startsWith("video/") || mediaType.startsWith("audio/")) {
      return true;
    }
    if (mediaType.startsWith("image/")) {
      return !UNCOMPRESSED_IMAGES.contains(mediaType);
    }
    return COMPRESSED.contains(mediaType);
  }

  private static long contentLength(String value) {
    if (value == null) {
      return -1;
    }
    try {
      return Long.parseLong(value.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static boolean hasToken(List<String> values, String token) {
    for (String v : values) {
      for (String item : v.split(",")) {
        if (item.trim().equalsIgnoreCase(token)) {
          return true;
        }
      }
    }
    return false;
  }
}
