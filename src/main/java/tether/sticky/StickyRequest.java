package tether.sticky;

import io.netty.handler.codec.http.QueryStringDecoder;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpServerRequest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * The facts of a request that stickiness reads: its headers (cookies, a named header), its URI (route mode's
 * {@code ;jsessionid=} and {@code ?jsessionid=}) and the client's address (hash by ip). A plain value, so the modes
 * are tested without sockets; on the request path it holds the server request's own header map, never a copy.
 */
public record StickyRequest(MultiMap headers, String uri, String clientAddress) {

  /** One small object per request: the request's headers are wrapped, not copied. */
  public static StickyRequest of(HttpServerRequest request) {
    return new StickyRequest(request.headers(), request.uri(), request.remoteAddress().hostAddress());
  }

  /**
   * The first value of query parameter {@code name} (case-insensitive, decoded), or null: what Vert.x's
   * {@code getParam} answers, parsed only when asked and only when the URI has a query.
   */
  public String queryParam(String name) {
    if (uri.indexOf('?') < 0) {
      return null;
    }
    Map<String, List<String>> params = new QueryStringDecoder(uri, StandardCharsets.UTF_8, true, 1024, false)
        .parameters();
    for (Map.Entry<String, List<String>> p : params.entrySet()) {
      if (p.getKey().equalsIgnoreCase(name)) {
        return p.getValue().get(0);
      }
    }
    return null;
  }
}
