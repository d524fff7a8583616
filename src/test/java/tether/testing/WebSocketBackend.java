package tether.testing;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * WebSocket backends on ephemeral loopback ports. {@link #echo}: a Vert.x server that answers each text message
 * with {@code name:message} and echoes binary ones, and answers plain requests with its name. {@link #raw}: a TCP
 * server that writes whatever {@code reply} gives for each request head, and keeps the sockets so a test can cut
 * them (a backend that dies without a close frame).
 */
public final class WebSocketBackend {

  private static final String GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

  public final String name;
  public final int port;
  /** Handshakes that reached this backend (request headers, as a map of lower-case names). */
  public final List<Map<String, String>> handshakes = new CopyOnWriteArrayList<>();
  /** Open WebSockets (echo) or sockets (raw). */
  public final List<Object> open = new CopyOnWriteArrayList<>();
  public final AtomicInteger closed = new AtomicInteger();
  /** Raw: bytes received after the request heads. */
  public final java.util.concurrent.atomic.AtomicLong received = new java.util.concurrent.atomic.AtomicLong();
  /** Raw: when set, a socket stops reading once it answered (a backend that does not read). */
  public volatile boolean pauseAfterReply;
  private final AutoCloseable server;

  private WebSocketBackend(String name, int port, AutoCloseable server) {
    this.name = name;
    this.port = port;
    this.server = server;
  }

  public String address() {
    return "127.0.0.1:" + port;
  }

  public static WebSocketBackend echo(Vertx vertx, String name) {
    WebSocketBackend[] self = new WebSocketBackend[1];
    HttpServer server = vertx.createHttpServer(new HttpServerOptions().setMaxWebSocketMessageSize(4 << 20))
        .webSocketHandler(ws -> self[0].accept(ws))
        .requestHandler(req -> req.response().end(name))
        .listen(0, "127.0.0.1").await();
    self[0] = new WebSocketBackend(name, server.actualPort(), () -> server.close().await());
    return self[0];
  }

  private void accept(ServerWebSocket ws) {
    Map<String, String> headers = new java.util.TreeMap<>();
    ws.headers().forEach(h -> headers.put(h.getKey().toLowerCase(), h.getValue()));
    handshakes.add(headers);
    open.add(ws);
    ws.textMessageHandler(text -> ws.writeTextMessage(name + ":" + text));
    ws.binaryMessageHandler(ws::writeBinaryMessage);
    ws.closeHandler(v -> {
      open.remove(ws);
      closed.incrementAndGet();
    });
  }

  /** A TCP backend: {@code reply} maps each request head to the bytes written back (a valid 101, a 403, ...). */
  public static WebSocketBackend raw(Vertx vertx, String name, Function<String, String> reply) {
    WebSocketBackend[] self = new WebSocketBackend[1];
    NetServer server = vertx.createNetServer().connectHandler(sock -> self[0].serveRaw(sock, reply))
        .listen(0, "127.0.0.1").await();
    self[0] = new WebSocketBackend(name, server.actualPort(), () -> server.close().await());
    return self[0];
  }

  private void serveRaw(NetSocket sock, Function<String, String> reply) {
    StringBuilder head = new StringBuilder();
    open.add(sock);
    sock.closeHandler(v -> {
      open.remove(sock);
      closed.incrementAndGet();
    });
    sock.handler(data -> {
      if (head.indexOf("\r\n\r\n") >= 0) {
        received.addAndGet(data.length()); // after the head: counted, never answered
        return;
      }
      head.append(data.toString(StandardCharsets.ISO_8859_1));
      if (head.indexOf("\r\n\r\n") >= 0) {
        Map<String, String> headers = new java.util.TreeMap<>();
        for (String line : head.toString().split("\r\n")) {
          int colon = line.indexOf(':');
          if (colon > 0) {
            headers.put(line.substring(0, colon).trim().toLowerCase(), line.substring(colon + 1).trim());
          }
        }
        handshakes.add(headers);
        sock.write(Buffer.buffer(reply.apply(head.toString()), "ISO-8859-1"));
        received.addAndGet(head.length() - head.indexOf("\r\n\r\n") - 4);
        if (pauseAfterReply) {
          sock.pause();
        }
      }
    });
  }

  /** The 101 a WebSocket server sends for this request head (RFC 6455 §4.2.2). */
  public static String accept101(String head) {
    String key = "";
    for (String line : head.split("\r\n")) {
      if (line.toLowerCase().startsWith("sec-websocket-key:")) {
        key = line.substring(line.indexOf(':') + 1).trim();
      }
    }
    try {
      byte[] sha1 = MessageDigest.getInstance("SHA-1").digest((key + GUID).getBytes(StandardCharsets.US_ASCII));
      return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          + "Sec-WebSocket-Accept: " + Base64.getEncoder().encodeToString(sha1) + "\r\n\r\n";
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Raw: sockets read again. */
  public void resumeAll() {
    for (Object o : open) {
      if (o instanceof NetSocket s) {
        s.resume();
      }
    }
  }

  /** Cuts every raw socket (no close frame): a backend that dies. */
  public void cutAll() {
    for (Object o : open) {
      if (o instanceof NetSocket s) {
        s.close();
      }
    }
  }

  public void stop() {
    try {
      server.close();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
