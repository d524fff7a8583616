package tether.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.MultiMap;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import tether.testing.Backends;
import tether.testing.ProxyTestBase;
import tether.testing.RawHttp;
import tether.testing.TetherHarness;
import tether.upstream.AdminState;

/** The proxy on real sockets: header rewriting, routing, error statuses, truncation, balancing. */
class ProxyTest extends ProxyTestBase {


  static String upstream(String balance, String... servers) {
    StringBuilder y = new StringBuilder("upstreams:\n  app:\n    balance: " + balance + "\n    servers:\n");
    for (String s : servers) {
      y.append("      - ").append(s).append('\n');
    }
    return y.toString();
  }

  static String server(Backends.Backend b) {
    return "{name: " + b.name() + ", address: \"" + b.address() + "\"}";
  }

  static int closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** Both paths: a keep-alive GET takes the fast path, one with a {@code Connection: close} line Vert.x's. */
  @org.junit.jupiter.params.ParameterizedTest(name = "Connection: close line {0}")
  @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
  void forwardsEndToEndHeadersAndRewritesForwardingOnes(boolean close) throws Exception {
    Backends.Backend echo = backends.start("echo", req -> {
      StringBuilder body = new StringBuilder();
      req.headers().forEach(h -> body.append(h.getKey().toLowerCase()).append(": ").append(h.getValue()).append('\n'));
      req.response().putHeader("Connection", "X-Backend-Hop").putHeader("X-Backend-Hop", "1")
          .putHeader("Keep-Alive", "timeout=5").putHeader("Proxy-Authenticate", "Basic")
          .putHeader("Trailer", "X-Checksum").putHeader("X-App", "yes");
      req.response().headers().add("Connection", "X-Backend-Hop2").add("X-Backend-Hop2", "2"); // a second line
      req.response().end(body.toString());
    });
    tether = TetherHarness.start(upstream("round_robin", server(echo)));
    try (RawHttp raw = new RawHttp(tether.port())) {
      String reply = raw.send("GET /a?b=c HTTP/1.1\r\nHost: shop.example:8443\r\n"
          + "Connection: keep-alive, X-Client-Hop\r\nX-Client-Hop: secret\r\nKeep-Alive: timeout=9\r\n"
          + "Connection: X-Client-Hop2\r\nX-Client-Hop2: secret2\r\n" + (close ? "Connection: close\r\n" : "")
          + "TE: trailers\r\nProxy-Connection: keep-alive\r\nX-Forwarded-For: 203.0.113.9\r\n"
          + "Via: 1.0 edge\r\nX-End: kept\r\n\r\n").readUntilCloseOrQuiet(1500).text();
      String head = reply.substring(0, reply.indexOf("\r\n\r\n")).toLowerCase();
      String body = reply.substring(reply.indexOf("\r\n\r\n") + 4);
      assertThat(head).startsWith("http/1.1 200").contains("x-app: yes").doesNotContain("x-backend-hop")
          .doesNotContain("timeout=5", "proxy-authenticate", "trailer");
      // the client is not a trusted proxy: its X-Forwarded-For is replaced, not appended to
      assertThat(body).contains("host: shop.example:8443\n", "x-end: kept\n",
          "x-forwarded-for: 127.0.0.1\n", "x-forwarded-proto: http\n",
          "x-forwarded-host: shop.example:8443\n", "via: 1.0 edge, 1.1 tether\n");
      assertThat(body).doesNotContain("x-client-hop", "secret2", "timeout=9", "te:", "proxy-connection");
      // Tether's own, to every backend: Apache announces its keep-alive timeout only to clients that ask
      assertThat(body).contains("connection: keep-alive\n");
    }
  }

  @Test
  void aTrustedProxysForwardingHeadersAreKeptAndAppendedTo() throws Exception {
    Backends.Backend echo = backends.start("echo", req -> req.response().end(
        req.getHeader("X-Forwarded-For") + "|" + req.getHeader("X-Forwarded-Proto") + "|"
            + req.getHeader("X-Forwarded-Host")));
    tether = TetherHarness.start(upstream("round_robin", server(echo)) + "trusted_proxies: [127.0.0.0/8]\n");
    assertThat(tether.get("/", "X-Forwarded-For", "203.0.113.9", "X-Forwarded-Proto", "https",
        "X-Forwarded-Host", "shop.example").body()).isEqualTo("203.0.113.9, 127.0.0.1|https|shop.example");
  }

  @Test
  void unroutedRequestsGet404() throws Exception {
    Backends.Backend a = backends.start("a");
    tether = TetherHarness.start(upstream("round_robin", server(a))
        + "routes: [{host: shop.example, path: /cart, upstream: app}]\n");
    assertThat(tether.get("/cart").statusCode()).isEqualTo(404);
    try (RawHttp raw = new RawHttp(tether.port())) {
      assertThat(raw.send("GET /cart/1 HTTP/1.1\r\nHost: Shop.Example\r\nConnection: close\r\n\r\n")
          .readUntilCloseOrQuiet(5000).text())
          .startsWith("HTTP/1.1 200");
    }
    assertThat(a.served()).hasValue(1);
  }

  @Test
  void noAvailableServerGets503WithRetryAfter() {
    Backends.Backend a = backends.start("a");
    tether = TetherHarness.start(upstream("round_robin", server(a)));
    tether.tether().proxy().snapshot().upstreams().get("app").byName("a").state()
        .admin(AdminState.DISABLED, 0, "test", System.nanoTime());
    HttpResponse<String> r = tether.get("/");
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.headers().firstValue("retry-after")).hasValue("1");
    assertThat(a.served()).hasValue(0);
  }

  @Test
  void refusedConnectionGets502Fast() throws Exception {
    // (a connect timeout of 10 s: a refusal that waited for it could not pass the 5 s bound)
    tether = TetherHarness.start(upstream("round_robin",
        "{name: dead, address: \"127.0.0.1:" + closedPort() + "\"}") + "timeouts: {connect: 10s}\n");
    long start = System.nanoTime();
    assertThat(tether.get("/").statusCode()).isEqualTo(502);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void connectFailureMovesEvenAPostWithItsBodyToAnotherServer() throws Exception {
    List<String> received = new ArrayList<>();
    Backends.Backend live = backends.start("live", req -> req.body().onSuccess(body -> {
      synchronized (received) {
        received.add(body.toString());
      }
      req.response().end("got " + body.length());
    }));
    tether = TetherHarness.start(upstream("round_robin",
        "{name: dead, address: \"127.0.0.1:" + closedPort() + "\"}", server(live)));
    String payload = "x".repeat(1024 * 1024);
    for (int i = 0; i < 4; i++) {
      HttpResponse<String> r = tether.send(HttpRequest.newBuilder(URI.create(tether.url("/order")))
          .POST(HttpRequest.BodyPublishers.ofString(payload)).build());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).isEqualTo("got " + payload.length());
    }
    assertThat(received).hasSize(4).allMatch(payload::equals);
  }

  @Test
  void slowBackendGets504() throws Exception {
    var wireMock = new com.github.tomakehurst.wiremock.WireMockServer(
        com.github.tomakehurst.wiremock.core.WireMockConfiguration.options().dynamicPort().bindAddress("127.0.0.1"));
    wireMock.start();
    try {
      wireMock.stubFor(com.github.tomakehurst.wiremock.client.WireMock.any(
              com.github.tomakehurst.wiremock.client.WireMock.anyUrl())
          .willReturn(com.github.tomakehurst.wiremock.client.WireMock.ok("late").withFixedDelay(15000)));
      tether = TetherHarness.start(upstream("round_robin",
          "{name: slow, address: \"127.0.0.1:" + wireMock.port() + "\"}")
          + "timeouts: {connect: 1s, response_header: 500ms, idle: 60s}\n");
      long start = System.nanoTime();
      assertThat(tether.get("/").statusCode()).isEqualTo(504);
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(8000)); // (15 s: waited)
    } finally {
      wireMock.stop();
    }
  }

  /** A backend on a raw socket that answers every connection with {@code reply} and then closes. */
  private static ServerSocket rawBackend(String reply) throws IOException {
    ServerSocket server = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
    Thread t = new Thread(() -> {
      while (!server.isClosed()) {
        try (Socket s = server.accept()) {
          InputStream in = s.getInputStream();
          byte[] buf = new byte[8192];
          StringBuilder seen = new StringBuilder();
          while (!seen.toString().contains("\r\n\r\n")) {
            int n = in.read(buf);
            if (n < 0) {
              break;
            }
            seen.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
          }
          OutputStream out = s.getOutputStream();
          out.write(reply.getBytes(StandardCharsets.ISO_8859_1));
          out.flush();
        } catch (IOException e) {
          // next connection
        }
      }
    }, "raw-backend");
    t.setDaemon(true);
    t.start();
    return server;
  }

  @Test
  void backendDyingMidBodyLeavesTheClientWithATruncatedResponse() throws Exception {
    try (ServerSocket lengthBackend = rawBackend("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + "a".repeat(100));
         ServerSocket chunkedBackend = rawBackend("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
             + "64\r\n" + "b".repeat(100) + "\r\n")) {
      tether = TetherHarness.start("""
          upstreams:
            len: { servers: [{name: len, address: "127.0.0.1:%d"}] }
            chunk: { servers: [{name: chunk, address: "127.0.0.1:%d"}] }
          routes:
            - { path: /len, upstream: len }
            - { path: /chunk, upstream: chunk }
          """.formatted(lengthBackend.getLocalPort(), chunkedBackend.getLocalPort()));
      try (RawHttp raw = new RawHttp(tether.port())) {
        RawHttp.Read read = raw.send("GET /len HTTP/1.1\r\nHost: x\r\n\r\n").readUntilCloseOrQuiet(5000);
        assertThat(read.closed()).isTrue();
        assertThat(read.text()).startsWith("HTTP/1.1 200").containsIgnoringCase("content-length: 1000");
        assertThat(read.text().substring(read.text().indexOf("\r\n\r\n") + 4)).hasSize(100);
      }
      try (RawHttp raw = new RawHttp(tether.port())) {
        RawHttp.Read read = raw.send("GET /chunk HTTP/1.1\r\nHost: x\r\n\r\n").readUntilCloseOrQuiet(5000);
        assertThat(read.closed()).isTrue();
        assertThat(read.text()).startsWith("HTTP/1.1 200").contains("b".repeat(100)).doesNotEndWith("0\r\n\r\n");
      }
    }
  }

  @Test
  void weightedRoundRobinHonoursWeights() {
    Backends.Backend a = backends.start("a");
    Backends.Backend b = backends.start("b");
    Backends.Backend c = backends.start("c");
    tether = TetherHarness.start(upstream("round_robin", server(a), server(b),
        "{name: c, address: \"" + c.address() + "\", weight: 2}"));
    List<String> served = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      served.add(tether.get("/").body());
    }
    Map<String, Long> counts = served.stream().collect(Collectors.groupingBy(s -> s, Collectors.counting()));
    assertThat(counts).containsEntry("a", 10L).containsEntry("b", 10L).containsEntry("c", 20L);
  }

  @Test
  void leastConnSendsLessToASlowBackend() {
    Backends.Backend slow = backends.start("slow",
        req -> backends.vertx().setTimer(400, t -> req.response().end("slow")));
    Backends.Backend fast = backends.start("fast");
    tether = TetherHarness.start(upstream("least_conn", server(slow), server(fast)));
    // four clients in closed loops: one stuck on slow leaves the other three to find fast less loaded
    List<CompletableFuture<Void>> clients = new ArrayList<>();
    for (int c = 0; c < 4; c++) {
      clients.add(CompletableFuture.runAsync(() -> {
        for (int i = 0; i < 30; i++) {
          assertThat(tether.get("/").statusCode()).isEqualTo(200);
        }
      }));
    }
    clients.forEach(CompletableFuture::join);
    assertThat(fast.served().get()).isGreaterThan(3 * slow.served().get());
  }

  @Test
  void pipelinedRequestsAreAnsweredInOrder() throws Exception {
    Backends.Backend a = backends.start("a", req -> {
      long delay = req.path().equals("/1") ? 300 : 1;
      backends.vertx().setTimer(delay, t -> req.response().end("path" + req.path()));
    });
    tether = TetherHarness.start(upstream("round_robin", server(a)));
    try (RawHttp raw = new RawHttp(tether.port())) {
      String text = raw.send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n"
          + "GET /3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").readUntilCloseOrQuiet(5000).text();
      assertThat(text.indexOf("path/1")).isPositive().isLessThan(text.indexOf("path/2"));
      assertThat(text.indexOf("path/2")).isLessThan(text.indexOf("path/3"));
    }
  }

  @Test
  void listenerSeesEveryExchange() {
    Backends.Backend a = backends.start("a");
    List<ExchangeRecord> records = new java.util.concurrent.CopyOnWriteArrayList<>();
    MultiMap unused = MultiMap.caseInsensitiveMultiMap();
    tether = TetherHarness.start(upstream("round_robin", server(a)), 1, List.of(new ProxyListener() {
      @Override
      public void exchangeEnded(ExchangeRecord r) {
        records.add(r);
      }
    }));
    tether.get("/x?y=1");
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> !records.isEmpty());
    ExchangeRecord r = records.get(0);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.server()).isEqualTo("a");
    assertThat(r.uri()).isEqualTo("/x?y=1");
    assertThat(r.bytesSent()).isEqualTo(1);
    assertThat(unused.isEmpty()).isTrue();
  }
}
