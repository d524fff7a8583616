package tether.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tether.testing.Backends;
import tether.testing.CookieClient;
import tether.testing.PrometheusText;
import tether.testing.ProxyTestBase;
import tether.testing.RawHttp;
import tether.testing.TetherHarness;
import tether.testing.WebSocketBackend;
import tether.upstream.Backend;

/**
 * WebSocket through Tether on real sockets (issue 13): 101 and frames both ways, stickiness and failover of the
 * handshake, closes that travel both ways, the tunnel idle timeout, backpressure, the tunnel gauge, and the
 * smuggling cases (a refused upgrade stays HTTP; h2c and unasked 101s never become tunnels).
 */
class WebSocketTest extends ProxyTestBase {

  private static final String HANDSHAKE = "GET /chat HTTP/1.1\r\nHost: chat.example\r\nConnection: Upgrade\r\n"
      + "Upgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

  private final Vertx vertx = backends.vertx();
  private final WebSocketClient client = vertx.createWebSocketClient(new WebSocketClientOptions()
      .setMaxMessageSize(4 << 20).setConnectTimeout(5000));
  private final List<WebSocketBackend> started = new ArrayList<>();
  private final List<String> tunnelEnds = Collections.synchronizedList(new ArrayList<>());
  private final ProxyListener recorder = new ProxyListener() {
    @Override
    public void tunnelClosed(Backend backend, long fromClient, long toClient, long nanos, String reason) {
      tunnelEnds.add(backend.name() + " " + reason);
    }
  };

  @AfterEach
  void stopBackends() {
    started.forEach(WebSocketBackend::stop);
  }

  private WebSocketBackend echo(String name) {
    WebSocketBackend b = WebSocketBackend.echo(vertx, name);
    started.add(b);
    return b;
  }

  private WebSocketBackend raw(String name, java.util.function.Function<String, String> reply) {
    WebSocketBackend b = WebSocketBackend.raw(vertx, name, reply);
    started.add(b);
    return b;
  }

  /** Tether with the admin listener, one upstream {@code app} (debug header on), {@code extra} under it. */
  private void start(String extra, String top, WebSocketBackend... servers) {
    StringBuilder y = new StringBuilder("admin: {address: 127.0.0.1, port: 0}\n").append(top)
        .append("upstreams:\n  app:\n    debug_header: true\n").append(extra).append("    servers:\n");
    for (WebSocketBackend b : servers) {
      y.append("      - {name: ").append(b.name).append(", address: \"").append(b.address()).append("\"}\n");
    }
    tether = TetherHarness.start(y.toString(), TetherHarness.defaultWorkers, List.of(recorder));
  }

  private static String cookieMode() {
    return "    sticky: {mode: cookie, cookie: TETHER, secret: [k1]}\n";
  }

  private WebSocket connect(String cookie) throws Exception {
    WebSocketConnectOptions o = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(tether.port())
        .setURI("/chat");
    if (cookie != null) {
      o.addHeader("Cookie", cookie);
    }
    return client.connect(o).await(10, TimeUnit.SECONDS);
  }

  /** Sends {@code text} and returns the echo ("server:text"). */
  private static String roundTrip(WebSocket ws, BlockingQueue<String> texts, String text) throws Exception {
    ws.writeTextMessage(text).await(10, TimeUnit.SECONDS);
    String reply = texts.poll(10, TimeUnit.SECONDS);
    assertThat(reply).as("echo of " + text).isNotNull();
    return reply;
  }

  private static BlockingQueue<String> texts(WebSocket ws) {
    BlockingQueue<String> q = new LinkedBlockingQueue<>();
    ws.textMessageHandler(q::add);
    return q;
  }

  private static CompletableFuture<Void> closed(WebSocket ws) {
    CompletableFuture<Void> f = new CompletableFuture<>();
    ws.closeHandler(v -> f.complete(null));
    return f;
  }

  private Map<String, Double> metrics() {
    return PrometheusText.parse(tether.admin("GET", "/metrics").body());
  }

  private double tunnelGauge(String server) {
    return metrics().getOrDefault("tether_upstream_tunnels{server=\"" + server + "\",upstream=\"app\"}", -1.0);
  }

  @Test
  void aHandshakeGets101AndMessagesFlowBothWays() throws Exception {
    WebSocketBackend a = echo("a");
    start("", "", a);
    try (RawHttp raw = new RawHttp(tether.port())) {
      String head = raw.send(HANDSHAKE).readUntil("\r\n\r\n", 10_000).toLowerCase();
      assertThat(head).startsWith("http/1.1 101 switching protocols\r\n").contains("\r\nupgrade: websocket\r\n",
          "\r\nconnection: upgrade\r\n", "\r\nsec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo=\r\n",
          "\r\nx-tether-upstream: a; sticky=none\r\n").doesNotContain("content-length", "transfer-encoding");
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> a.handshakes.size() == 1); // recorded after its 101
    Map<String, String> seen = a.handshakes.get(0);
    assertThat(seen).containsEntry("upgrade", "websocket").containsEntry("connection", "Upgrade")
        .containsEntry("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==").containsEntry("host", "chat.example")
        .containsEntry("x-forwarded-for", "127.0.0.1").containsEntry("via", "1.1 tether");

    WebSocket ws = connect(null);
    BlockingQueue<String> texts = texts(ws);
    for (int i = 0; i < 5; i++) {
      assertThat(roundTrip(ws, texts, "hello " + i)).isEqualTo("a:hello " + i);
    }
    ws.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void theHandshakeIsStuckToTheUsersServerAndThe101CarriesANewPin() throws Exception {
    WebSocketBackend a = echo("a");
    WebSocketBackend b = echo("b");
    start(cookieMode(), "", a, b);
    WebSocket first = connect(null);
    String pin = first.headers().get("set-cookie");
    assertThat(pin).as("the 101 pins a new user").startsWith("TETHER=");
    String server = roundTrip(first, texts(first), "hi").split(":")[0];
    assertThat(first.headers().get("x-tether-upstream")).isEqualTo(server + "; sticky=new");
    first.close().await(10, TimeUnit.SECONDS);

    String cookie = pin.split(";", 2)[0];
    for (int i = 0; i < 6; i++) {
      WebSocket ws = connect(cookie);
      assertThat(ws.headers().get("x-tether-upstream")).isEqualTo(server + "; sticky=hit");
      assertThat(roundTrip(ws, texts(ws), "again")).isEqualTo(server + ":again");
      ws.close().await(10, TimeUnit.SECONDS);
    }
    // the same pin sends the user's plain requests there too
    assertThat(tether.get("/", "Cookie", cookie).body()).isEqualTo(server);
  }

  @Test
  void aHandshakePinnedToADeadServerFailsOverAndIsRepinnedBythe101() throws Exception {
    WebSocketBackend a = echo("a");
    WebSocketBackend b = echo("b");
    start(cookieMode(), "", a, b);
    CookieClient user = new CookieClient(tether);
    String pinned = user.get("/").body();
    WebSocketBackend dead = pinned.equals("a") ? a : b;
    String other = pinned.equals("a") ? "b" : "a";
    dead.stop(); // connect refused from now on
    started.remove(dead);

    WebSocket ws = connect(user.cookieHeader());
    assertThat(ws.headers().get("x-tether-upstream")).isEqualTo(other + "; sticky=repin");
    assertThat(ws.headers().get("set-cookie")).as("re-pinned in the 101").startsWith("TETHER=");
    assertThat(roundTrip(ws, texts(ws), "moved")).isEqualTo(other + ":moved");
    ws.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void aBackendThatDiesMidTunnelClosesTheClient() throws Exception {
    WebSocketBackend dying = raw("dying", WebSocketBackend::accept101);
    start("", "", dying);
    WebSocket ws = connect(null);
    CompletableFuture<Void> closed = closed(ws);
    dying.cutAll(); // no close frame: the TCP connection just goes
    closed.get(10, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).until(() -> tunnelEnds.contains("dying backend_closed"));
    await().atMost(Duration.ofSeconds(10)).until(() -> tunnelGauge("dying") == 0.0);
  }

  @Test
  void aClientThatGoesAwayClosesTheBackend() throws Exception {
    WebSocketBackend a = echo("a");
    start("", "", a);
    RawHttp raw = new RawHttp(tether.port());
    assertThat(raw.send(HANDSHAKE).readUntil("\r\n\r\n", 10_000)).startsWith("HTTP/1.1 101");
    await().atMost(Duration.ofSeconds(10)).until(() -> a.open.size() == 1);
    raw.close(); // no close frame either
    await().atMost(Duration.ofSeconds(10)).until(() -> a.closed.get() == 1);
    await().atMost(Duration.ofSeconds(10)).until(() -> tunnelEnds.contains("a client_closed"));
  }

  @Test
  void megabyteMessagesCrossIntactBothWays() throws Exception {
    WebSocketBackend a = echo("a");
    start("", "", a);
    WebSocket ws = connect(null);
    BlockingQueue<Buffer> echoes = new LinkedBlockingQueue<>();
    ws.binaryMessageHandler(echoes::add);
    Random random = new Random(13);
    for (int i = 0; i < 3; i++) {
      byte[] payload = new byte[1 << 20];
      random.nextBytes(payload);
      ws.writeBinaryMessage(Buffer.buffer(payload)).await(10, TimeUnit.SECONDS);
      Buffer back = echoes.poll(20, TimeUnit.SECONDS);
      assertThat(back).as("echo " + i).isNotNull();
      assertThat(back.getBytes()).isEqualTo(payload);
    }
    ws.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void aQuietTunnelOutlivesTheKeepAliveIdleAndClosesAfterTunnelIdle() throws Exception {
    WebSocketBackend a = echo("a");
    start("", "timeouts: {idle: 1s, response_header: 500ms, tunnel_idle: 2s}\n", a);
    WebSocket ws = connect(null);
    BlockingQueue<String> texts = texts(ws);
    CompletableFuture<Void> closed = closed(ws);
    Thread.sleep(1500); // the silence under test: longer than idle and response_header, shorter than tunnel_idle
    assertThat(closed).isNotDone();
    long quietSince = System.nanoTime(); // (before the round trip: its echo restarts the idle timer after this)
    assertThat(roundTrip(ws, texts, "still there")).isEqualTo("a:still there");
    closed.get(10, TimeUnit.SECONDS);
    assertThat(Duration.ofNanos(System.nanoTime() - quietSince)).isGreaterThan(Duration.ofMillis(1800));
    await().atMost(Duration.ofSeconds(10)).until(() -> tunnelEnds.contains("a idle"));
    await().atMost(Duration.ofSeconds(10)).until(() -> a.closed.get() == 1);
  }

  @Test
  void aClientThatStopsReadingIsCutAfterTunnelIdle() throws Exception {
    String flood = "x".repeat(32 << 20); // more than the sockets between hold: Tether is left with bytes queued
    WebSocketBackend flooding = raw("flooding", head -> WebSocketBackend.accept101(head) + flood);
    start("", "timeouts: {tunnel_idle: 1s}\n", flooding);
    try (RawHttp raw = new RawHttp(tether.port())) {
      raw.send(HANDSHAKE); // and never reads
      await().atMost(Duration.ofSeconds(20)).until(() -> tunnelEnds.contains("flooding idle"));
      // cut, not closed politely: a polite close would wait for the queued bytes to drain, forever
      await().atMost(Duration.ofSeconds(20)).until(() -> metrics().get("tether_client_connections") == 0.0);
      await().atMost(Duration.ofSeconds(20)).until(() -> flooding.closed.get() == 1);
    }
  }

  @Test
  void shutdownClosesOpenTunnelsAtItsDeadline() throws Exception {
    WebSocketBackend a = echo("a");
    start("", "shutdown_timeout: 1s\n", a);
    WebSocket ws = connect(null);
    CompletableFuture<Void> closed = closed(ws);
    long start = System.nanoTime();
    tether.close();
    tether = null;
    closed.get(20, TimeUnit.SECONDS);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(15));
    await().atMost(Duration.ofSeconds(10)).until(() -> a.closed.get() == 1);
  }

  @Test
  void openTunnelsAreCountedInMetricsAndOnTheStatusPage() throws Exception {
    WebSocketBackend a = echo("a");
    start("", "", a);
    assertThat(tunnelGauge("a")).isEqualTo(0.0);
    WebSocket one = connect(null);
    WebSocket two = connect(null);
    await().atMost(Duration.ofSeconds(10)).until(() -> tunnelGauge("a") == 2.0);
    JsonObject server = new JsonObject(tether.admin("GET", "/status").body()).getJsonArray("upstreams")
        .getJsonObject(0).getJsonArray("servers").getJsonObject(0);
    assertThat(server.getInteger("tunnels")).isEqualTo(2);
    assertThat(server.getInteger("in_flight")).as("a tunnel is not a request in flight").isZero();
    one.close().await(10, TimeUnit.SECONDS);
    two.close().await(10, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).until(() -> tunnelGauge("a") == 0.0);
    // the upgraded client connections left the connection gauge too
    await().atMost(Duration.ofSeconds(10)).until(() -> metrics().get("tether_client_connections") == 0.0);
    // a clean WebSocket close ends with the server closing TCP first (RFC 6455 §7.1.1): either reason may count it
    double closedTotal = metrics().entrySet().stream().filter(e -> e.getKey().startsWith("tether_tunnels_closed_total"))
        .mapToDouble(Map.Entry::getValue).sum();
    assertThat(closedTotal).isEqualTo(2.0);
  }

  @Test
  void aBackendThatStopsReadingStopsTheClient() throws Exception {
    WebSocketBackend slow = raw("slow", WebSocketBackend::accept101);
    slow.pauseAfterReply = true;
    start("", "", slow);
    try (SocketChannel ch = SocketChannel.open(new InetSocketAddress("127.0.0.1", tether.port()))) {
      ch.configureBlocking(false);
      ch.write(ByteBuffer.wrap(HANDSHAKE.getBytes(StandardCharsets.ISO_8859_1))); // small: taken at once
      ByteBuffer in = ByteBuffer.allocate(4096);
      await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(10)).until(() -> {
        ch.read(in);
        return new String(in.array(), 0, in.position(), StandardCharsets.ISO_8859_1).contains("\r\n\r\n");
      });
      assertThat(new String(in.array(), 0, in.position(), StandardCharsets.ISO_8859_1)).startsWith("HTTP/1.1 101");
      ByteBuffer chunk = ByteBuffer.allocate(64 * 1024);
      long limit = 128L << 20;
      long[] written = {0};
      long[] lastProgress = {System.nanoTime()};
      // write as fast as the sockets take it, until nothing more is taken for a second
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20)).until(() -> {
        int n;
        do {
          chunk.clear();
          n = ch.write(chunk);
          written[0] += n;
          if (n > 0) {
            lastProgress[0] = System.nanoTime();
          }
        } while (n > 0 && written[0] < limit);
        return written[0] >= limit || System.nanoTime() - lastProgress[0] > TimeUnit.SECONDS.toNanos(1);
      });
      // what is held is socket buffers and write queues, not the stream: without backpressure it would be all
      assertThat(written[0]).isLessThan(64L << 20);
      slow.resumeAll();
      await().atMost(Duration.ofSeconds(30)).until(() -> slow.received.get() == written[0]);
    }
  }

  @Test
  void aRefusedHandshakeIsRelayedAndTheConnectionStaysHttp() throws Exception {
    List<String> seen = Collections.synchronizedList(new ArrayList<>());
    Backends.Backend refusing = backends.start("refusing", req -> {
      seen.add(req.path() + " upgrade=" + req.getHeader("Upgrade") + " via=" + req.getHeader("Via")
          + " conn=" + System.identityHashCode(req.connection()));
      if (req.getHeader("Upgrade") != null) {
        req.response().setStatusCode(403).end("no");
      } else {
        req.response().end("plain " + req.path());
      }
    });
    tether = TetherHarness.start("upstreams:\n  app:\n    servers:\n      - {name: refusing, address: \""
        + refusing.address() + "\"}\n", TetherHarness.defaultWorkers, List.of(recorder));
    // the smuggler sends its request right behind the handshake, hoping the backend's connection becomes a tunnel
    try (RawHttp raw = new RawHttp(tether.port())) {
      String reply = raw.send(HANDSHAKE + "GET /SMUGGLED HTTP/1.1\r\nHost: internal\r\n\r\n")
          .readUntil("plain /SMUGGLED", 10_000);
      assertThat(reply).startsWith("HTTP/1.1 403").contains("\r\n\r\nno", "HTTP/1.1 200")
          .endsWith("plain /SMUGGLED");
    }
    try (RawHttp raw = new RawHttp(tether.port())) {
      assertThat(raw.send(HANDSHAKE).readUntil("\r\n\r\nno", 10_000)).startsWith("HTTP/1.1 403");
      assertThat(raw.send("GET /SMUGGLED2 HTTP/1.1\r\nHost: internal\r\n\r\n").readUntil("plain /SMUGGLED2", 10_000))
          .startsWith("HTTP/1.1 200");
    }
    assertThat(seen).hasSize(4);
    // each smuggled request was parsed by Tether (it carries Via) and sent on its own, never on the handshake's
    // connection as raw bytes
    for (int i = 0; i < 4; i += 2) {
      assertThat(seen.get(i)).startsWith("/chat upgrade=websocket via=1.1 tether");
      assertThat(seen.get(i + 1)).startsWith("/SMUGGLED").contains("upgrade=null via=1.1 tether");
      String handshakeConn = seen.get(i).substring(seen.get(i).indexOf(" conn="));
      assertThat(seen.get(i + 1)).doesNotEndWith(handshakeConn);
    }
    assertThat(tunnelEnds).isEmpty();
  }

  @Test
  void anH2cUpgradeIsForwardedAsPlainHttp() throws Exception {
    List<String> seen = Collections.synchronizedList(new ArrayList<>());
    Backends.Backend plain = backends.start("plain", req -> {
      seen.add(req.path() + " upgrade=" + req.getHeader("Upgrade") + " settings=" + req.getHeader("HTTP2-Settings"));
      req.response().end("plain " + req.path());
    });
    tether = TetherHarness.start("upstreams:\n  app:\n    servers:\n      - {name: plain, address: \""
        + plain.address() + "\"}\n", TetherHarness.defaultWorkers, List.of(recorder));
    try (RawHttp raw = new RawHttp(tether.port())) {
      String reply = raw.send("GET /h2c HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
          + "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n"
          + "GET /after HTTP/1.1\r\nHost: x\r\n\r\n").readUntil("plain /after", 10_000);
      assertThat(reply).startsWith("HTTP/1.1 200").contains("plain /h2c").doesNotContain("HTTP/1.1 101");
    }
    assertThat(seen).containsExactly("/h2c upgrade=null settings=null", "/after upgrade=null settings=null");
  }

  @Test
  void aSwitchNobodyAskedForGets502() throws Exception {
    WebSocketBackend rogue = raw("rogue",
        head -> "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n");
    start("", "", rogue);
    try (RawHttp raw = new RawHttp(tether.port())) {
      assertThat(raw.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
          + "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n").readResponse(10_000, false))
          .startsWith("HTTP/1.1 502");
    }
    try (RawHttp raw = new RawHttp(tether.port())) {
      assertThat(raw.send(HANDSHAKE).readResponse(10_000, false))
          .as("a WebSocket handshake answered by a switch to another protocol").startsWith("HTTP/1.1 502");
    }
    assertThat(tunnelEnds).isEmpty();
    assertThat(tunnelGauge("rogue")).isEqualTo(0.0);
  }
}
