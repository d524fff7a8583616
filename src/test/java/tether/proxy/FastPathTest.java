package tether.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.http.HttpServer;
import java.net.http.HttpResponse;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import tether.testing.Backends;
import tether.testing.ProxyTestBase;
import tether.testing.RawHttp;
import tether.testing.TetherHarness;

/**
 * The HTTP/1.1 fast path ({@link FastPath}) next to Vert.x on one connection: order kept when fast and Vert.x
 * requests are pipelined, framing of what it relays, and its own backend pool (kept alive, retired when the backend
 * says so). Failover, timeouts, truncation and hostile backends are covered for both paths by the suites that send
 * bodiless GETs over keep-alive connections (Java's HTTP client and RawHttp without {@code Connection: close} take
 * the fast path: FailoverTest, KeepAliveRaceTest, BackendHardeningTest's keep-alive case, ClientLeavesTest...), and
 * by {@link FastPathAttackTest}.
 */
class FastPathTest extends ProxyTestBase {

  /** A backend that counts the connections it accepts; {@code keepAlive} is its Keep-Alive header, or null. */
  private Backends.Backend counting(String name, AtomicInteger connections, String keepAlive) throws Exception {
    AtomicInteger served = new AtomicInteger();
    HttpServer server = backends.vertx().createHttpServer()
        .connectionHandler(c -> connections.incrementAndGet())
        .requestHandler(req -> {
          served.incrementAndGet();
          if (keepAlive != null) {
            req.response().putHeader("Keep-Alive", keepAlive);
          }
          if (req.method().name().equals("HEAD")) {
            req.response().putHeader("Content-Length", "1000").end();
          } else {
            req.body().onSuccess(b -> req.response().end(req.method() + " " + req.path() + " " + b));
          }
        });
    server.listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
    return new Backends.Backend(name, server.actualPort(), server, served);
  }

  @Test
  void pipelinedFastAndVertxRequestsAreAnsweredInOrder() throws Exception {
    Backends.Backend a = backends.start("a", req -> req.body().onSuccess(b -> {
      long delay = req.path().equals("/1") ? 300 : 1;
      backends.vertx().setTimer(delay, t -> req.response().end("<" + req.method() + req.path() + ":" + b + ">"));
    }));
    tether = TetherHarness.start(ProxyTest.upstream("round_robin", ProxyTest.server(a)));
    try (RawHttp raw = new RawHttp(tether.port())) {
      String text = raw.send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"
          + "POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody"
          + "GET /3 HTTP/1.1\r\nHost: x\r\n\r\n"
          + "HEAD /4 HTTP/1.1\r\nHost: x\r\n\r\n"
          + "GET /5 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").readUntilCloseOrQuiet(5000).text();
      int one = text.indexOf("<GET/1:>");
      int two = text.indexOf("<POST/2:body>");
      int three = text.indexOf("<GET/3:>");
      int five = text.indexOf("<GET/5:>");
      assertThat(one).isPositive();
      assertThat(two).isGreaterThan(one);
      assertThat(three).isGreaterThan(two);
      assertThat(five).isGreaterThan(three);
      assertThat(text.split("HTTP/1.1 200", -1)).hasSize(6); // five answers, the HEAD's without a body
    }
  }

  @Test
  void aHeadAnswerKeepsItsLengthAndCarriesNoBody() throws Exception {
    AtomicInteger connections = new AtomicInteger();
    Backends.Backend a = counting("a", connections, null);
    tether = TetherHarness.start(ProxyTest.upstream("round_robin", ProxyTest.server(a)));
    try (RawHttp raw = new RawHttp(tether.port())) {
      String text = raw.send("HEAD /h HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n"
          + "Connection: close\r\n\r\n").readUntilCloseOrQuiet(5000).text();
      String head = text.substring(0, text.indexOf("\r\n\r\n") + 4);
      assertThat(head).containsIgnoringCase("content-length: 1000");
      // the next response starts right after the HEAD answer's head: no body bytes, no chunk terminator
      assertThat(text.substring(head.length())).startsWith("HTTP/1.1 200");
      assertThat(text).endsWith("GET /after ");
    }
  }

  @Test
  void backendConnectionsAreKeptAliveAcrossRequests() throws Exception {
    AtomicInteger connections = new AtomicInteger();
    Backends.Backend a = counting("a", connections, null);
    tether = TetherHarness.start(ProxyTest.upstream("round_robin", ProxyTest.server(a)));
    for (int i = 0; i < 20; i++) {
      HttpResponse<String> r = tether.get("/k" + i);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).isEqualTo("GET /k" + i + " ");
    }
    assertThat(connections.get()).isEqualTo(1);
  }

  @Test
  void aBackendAnnouncingAOneSecondKeepAliveGetsAFreshConnectionEachTime() throws Exception {
    AtomicInteger connections = new AtomicInteger();
    Backends.Backend a = counting("a", connections, "timeout=1");
    tether = TetherHarness.start(ProxyTest.upstream("round_robin", ProxyTest.server(a)));
    for (int i = 0; i < 3; i++) {
      assertThat(tether.get("/one-second").statusCode()).isEqualTo(200);
    }
    // timeout=1 leaves no safe margin: the connection is closed after each response, never raced
    assertThat(connections.get()).isEqualTo(3);
  }

  @Test
  void atMostPoolSizeIdleConnectionsAreKeptPerBackend() throws Exception {
    AtomicInteger opened = new AtomicInteger();
    AtomicInteger closed = new AtomicInteger();
    HttpServer server = backends.vertx().createHttpServer()
        .connectionHandler(c -> {
          opened.incrementAndGet();
          c.closeHandler(v -> closed.incrementAndGet());
        })
        .requestHandler(req -> backends.vertx().setTimer(300, t -> req.response().end("slow")));
    server.listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
    Backends.Backend a = new Backends.Backend("a", server.actualPort(), server, new AtomicInteger());
    tether = TetherHarness.start(ProxyTest.upstream("round_robin\n    pool_size: 1", ProxyTest.server(a)));
    java.util.List<RawHttp> clients = new java.util.ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) { // three at once: three backend connections
        clients.add(new RawHttp(tether.port()).send("GET /c" + i + " HTTP/1.1\r\nHost: x\r\n\r\n"));
      }
      for (RawHttp c : clients) {
        assertThat(c.readUntil("slow", 5000)).startsWith("HTTP/1.1 200");
      }
    } finally {
      for (RawHttp c : clients) {
        c.close();
      }
    }
    assertThat(opened.get()).isEqualTo(3);
    // pool_size 1: one stays idle for the next request, the other two are closed as their responses end
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5)).until(() -> closed.get() == 2);
    assertThat(tether.get("/again").body()).isEqualTo("slow");
    assertThat(opened.get()).isEqualTo(3);
  }

  @Test
  void aConnectionPausedForASlowClientServesTheNextRequestWhenBackInThePool() throws Exception {
    AtomicInteger connections = new AtomicInteger();
    java.util.concurrent.atomic.AtomicBoolean blocked = new java.util.concurrent.atomic.AtomicBoolean();
    io.vertx.core.buffer.Buffer chunk = io.vertx.core.buffer.Buffer.buffer(new byte[64 * 1024]);
    HttpServer server = backends.vertx().createHttpServer()
        .connectionHandler(c -> connections.incrementAndGet())
        .requestHandler(req -> {
          if (req.path().equals("/small")) {
            req.response().end("small");
            return;
          }
          // 32 MiB, written as fast as Tether takes it: the client not reading makes Tether stop reading us
          io.vertx.core.http.HttpServerResponse resp = req.response().putHeader("Content-Length",
              Long.toString(512L * chunk.length()));
          int[] sent = {0};
          Runnable[] pump = new Runnable[1];
          pump[0] = () -> {
            while (sent[0] < 512 && !resp.writeQueueFull()) {
              resp.write(chunk);
              sent[0]++;
            }
            if (sent[0] < 512) {
              blocked.set(true);
              resp.drainHandler(v -> pump[0].run());
            } else {
              resp.end();
            }
          };
          pump[0].run();
        });
    server.listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
    Backends.Backend a = new Backends.Backend("a", server.actualPort(), server, new AtomicInteger());
    tether = TetherHarness.start(ProxyTest.upstream("round_robin", ProxyTest.server(a)));
    try (java.net.Socket slow = new java.net.Socket("127.0.0.1", tether.port())) {
      slow.getOutputStream().write("GET /big HTTP/1.1\r\nHost: x\r\n\r\n".getBytes());
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).untilTrue(blocked);
      long total = 0;
      byte[] buf = new byte[256 * 1024];
      java.io.InputStream in = slow.getInputStream();
      String head = null;
      while (head == null || total < 512L * chunk.length()) {
        int n = in.read(buf);
        assertThat(n).isPositive();
        if (head == null) {
          String text = new String(buf, 0, n, java.nio.charset.StandardCharsets.ISO_8859_1);
          int end = text.indexOf("\r\n\r\n");
          head = text.substring(0, end);
          total += n - end - 4;
        } else {
          total += n;
        }
      }
      assertThat(head).startsWith("HTTP/1.1 200");
    }
    // the backend connection went back to the pool after the paused response: the next request rides it
    assertThat(tether.get("/small").body()).isEqualTo("small");
    assertThat(connections.get()).isEqualTo(1);
  }

  @Test
  void aFastRequestCarriesTheForwardedHeadersAndAsksForKeepAlive() {
    Backends.Backend a = backends.start("a", req -> req.response()
        .end(req.getHeader("X-Forwarded-For") + " " + req.getHeader("Via") + " " + req.getHeader("Connection")));
    tether = TetherHarness.start(ProxyTest.upstream("round_robin", ProxyTest.server(a)));
    String fast = tether.get("/").body();
    assertThat(fast).isEqualTo("127.0.0.1 1.1 tether keep-alive");
  }

  /**
   * The backend's head is relayed edited in place: HTTP/1.1 to the client, hop-by-hop headers gone, the app's own
   * cookies kept next to the sticky cookie Tether adds, the Server policy applied.
   */
  @Test
  void theBackendsHeadIsEditedInPlace_appCookiesKeptNextToTheStickyOne() throws Exception {
    Backends.Backend a = backends.start("a", req -> {
      req.response().headers().add("Set-Cookie", "PHPSESSID=s1; Path=/").add("Set-Cookie", "theme=dark")
          .add("Server", "Apache/2.4.62").add("Connection", "keep-alive, X-Hop").add("X-Hop", "1")
          .add("Keep-Alive", "timeout=5");
      req.response().end("ok");
    });
    tether = TetherHarness.start(ProxyTest.upstream("round_robin", ProxyTest.server(a))
        + "    sticky: {mode: cookie, cookie: SRV, secret: s}\n");
    try (RawHttp raw = new RawHttp(tether.port())) {
      String text = raw.send("GET /in-place HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n"
          + "Connection: close\r\n\r\n").readUntilCloseOrQuiet(5000).text();
      String head = text.substring(0, text.indexOf("\r\n\r\n") + 2).toLowerCase();
      assertThat(head).startsWith("http/1.1 200").contains("set-cookie: phpsessid=s1; path=/\r\n",
          "set-cookie: theme=dark\r\n", "set-cookie: srv=", "server: tether\r\n", "content-length: 2\r\n");
      assertThat(head).doesNotContain("x-hop", "keep-alive", "apache");
      assertThat(text.split("HTTP/1.1 200", -1)).as("the connection served the next request too").hasSize(3);
    }
  }
}
