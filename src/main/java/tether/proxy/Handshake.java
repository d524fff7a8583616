package tether.proxy;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;

/**
 * Which requests are WebSocket handshakes (RFC 6455 §4.1, RFC 9110 §7.8), and which backend answers switch them to
 * a {@link Tunnel}. Pure functions of methods, versions and headers.
 *
 * <p>Only {@code websocket} is tunnelled, as Envoy does with its default {@code upgrade_configs}: a handshake is an
 * HTTP/1.1 GET without a body whose {@code Connection} lists {@code upgrade} and whose {@code Upgrade} names
 * {@code websocket}. Any other upgrade ({@code h2c}, {@code TLS/1.0}, ...) is forwarded as a plain request with
 * {@code Upgrade} and {@code Connection} dropped, so a backend never switches a connection Tether reads as HTTP (the
 * "h2c smuggling" hole). The switch happens only on a real 101 naming {@code websocket}; any other answer is relayed
 * as an ordinary response and the client connection stays HTTP ("websocket smuggling": a refused upgrade never
 * becomes a raw tunnel to the backend).
 */
final class Handshake {

  static final String WEBSOCKET = "websocket";

  private Handshake() {}

  /**
   * @param hasBody the request declares a body (a handshake has none; one that does is not a handshake)
   * @return true for a WebSocket handshake that Tether will tunnel on a 101
   */
  static boolean isWebSocket(HttpMethod method, HttpVersion version, MultiMap headers, boolean hasBody) {
    if (method != HttpMethod.GET || version != HttpVersion.HTTP_1_1 || hasBody) {
      return false;
    }
    boolean connectionUpgrade = false;
    for (String connection : headers.getAll(HttpHeaders.CONNECTION)) {
      connectionUpgrade |= Headers.listed(connection, "upgrade");
    }
    return connectionUpgrade && namesWebSocket(headers.getAll(HttpHeaders.UPGRADE));
  }

  /** The backend's 101 switches to what was asked: its Upgrade names {@code websocket} (RFC 9110 §7.8). */
  static boolean accepted(MultiMap responseHeaders) {
    return namesWebSocket(responseHeaders.getAll(HttpHeaders.UPGRADE));
  }

  /**
   * Adds the hop-by-hop pair a handshake needs on the next hop, after the end-to-end headers were copied:
   * {@code Connection: Upgrade} (alone: Firefox sends {@code keep-alive, Upgrade}, and Vert.x switches on the exact
   * value) and {@code Upgrade: websocket}. Sec-WebSocket-* are end-to-end and already copied.
   */
  static void forward(MultiMap out) {
    out.set(HttpHeaders.CONNECTION, "Upgrade");
    out.set(HttpHeaders.UPGRADE, WEBSOCKET);
  }

  /** Some {@code Upgrade} value names {@code websocket} (either path's header map). */
  static boolean namesWebSocket(Iterable<String> upgradeValues) {
    for (String value : upgradeValues) {
      for (String token : value.split(",")) {
        if (token.trim().equalsIgnoreCase(WEBSOCKET)) {
          return true;
        }
      }
    }
    return false;
  }
}
