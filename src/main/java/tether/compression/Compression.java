package tether.compression;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.streams.ReadStream;
import java.util.List;
import tether.config.CompressionConfig;

/**
 * Response compression at the edge, as nginx's {@code gzip} module and Caddy's {@code encode} do it: the decision
 * ({@link CompressionPolicy}) and, for a response that is compressed, its head rewritten and its body encoded as it
 * streams ({@link EncodingStream}).
 */
public final class Compression {

  private Compression() {}

  /**
   * For a response about to be relayed: when it is compressed, its head ({@code responseHeaders}, already copied
   * for the client) gets Content-Encoding, loses Content-Length (it goes chunked) and Accept-Ranges, and a strong
   * ETag becomes weak (the bytes differ, the meaning does not: nginx does the same); {@code Vary: Accept-Encoding}
   * is added whenever the answer depends on it. Runs on the event loop.
   *
   * @return the body to relay: {@code body} itself, or its compressed form
   */
  public static ReadStream<Buffer> apply(CompressionConfig config, HttpServerRequest req, int status,
                                         MultiMap responseHeaders, ReadStream<Buffer> body) {
    if (!config.enabled()) {
      return body;
    }
    CompressionPolicy.Decision decision = CompressionPolicy.decide(config, req.method(), req.version(),
        req.headers(), status, responseHeaders, config.zstd() && ZstdEncoder.available());
    if (decision.vary()) {
      addVary(responseHeaders);
    }
    if (!decision.compress()) {
      return body;
    }
    responseHeaders.remove(HttpHeaders.CONTENT_LENGTH);
    responseHeaders.remove(HttpHeaders.ACCEPT_RANGES);
    responseHeaders.set(HttpHeaders.CONTENT_ENCODING, decision.coding().token);
    String etag = responseHeaders.get(HttpHeaders.ETAG);
    if (etag != null && etag.startsWith("\"")) {
      responseHeaders.set(HttpHeaders.ETAG, "W/" + etag);
    }
    Encoder encoder = decision.coding() == Coding.ZSTD ? new ZstdEncoder(config.zstdLevel())
        : new GzipEncoder(config.level());
    return new EncodingStream(body, encoder, Vertx.currentContext());
  }

  /** Frees the coder of a compressed body whose exchange ended early; nothing for any other stream. */
  public static void release(ReadStream<Buffer> body) {
    if (body instanceof EncodingStream encoded) {
      encoded.close();
    }
  }

  private static void addVary(MultiMap headers) {
    List<String> vary = headers.getAll(HttpHeaders.VARY);
    for (String v : vary) {
      for (String item : v.split(",")) {
        String name = item.trim();
        if (name.equals("*") || name.equalsIgnoreCase("accept-encoding")) {
          return;
        }
      }
    }
    headers.add(HttpHeaders.VARY, "Accept-Encoding");
  }
}
