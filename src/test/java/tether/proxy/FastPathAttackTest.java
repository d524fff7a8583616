package tether.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tether.testing.Backends;
import tether.testing.LeakWatch;
import tether.testing.PrometheusText;
import tether.testing.ProxyTestBase;
import tether.testing.RawHttp;
import tether.testing.ScriptedBackends;
import tether.testing.TetherHarness;
import tether.upstream.Backend;

/**
 * The fast path ({@link FastPath}) attacked: pipelined requests behind a fast one when its client leaves or its
 * backend breaks, interim responses before a HEAD's answer, graceful shutdown with a fast request stuck, and the
 * in-flight counts after each.
 */
class FastPathAttackTest extends ProxyTestBase {

  private final ScriptedBackends scripted = new ScriptedBackends();
  private final RecordingListener recorder = new RecordingListener();
  private final List<ExchangeRecord> records = recorder.records;
  private final List<String> blamed = recorder.blamed;

  @AfterEach
  void closeScripted() throws IOException {
    scripted.close();
  }

  private int scripted(Function<String, String> reply, Queue<String> seen) throws IOException {
    return scripted.start(reply, seen);
  }

  private void start(String yaml) {
    tether = TetherHarness.start(yaml, 1, List.of(recorder));
  }

  private static String upstream(String name, int port) {
    return "  " + name + ": {servers: [{name: " + name + ", address: \"127.0.0.1:" + port + "\"}],"
        + " max_attempts: 1, passive: {max_fails: 0}}\n";
  }

  /** Every server's in-flight count is back to 0 (each attempt ended once). */
  private void awaitNothingInFlight() {
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
        tether.tether().proxy().snapshot().upstreams().values().forEach(u -> u.backends().forEach(s ->
            assertThat(s.state().inFlight()).as("in flight on " + s.name()).isZero())));
  }

  private ExchangeRecord record(String uri) {
    return records.stream().filter(r -> r.uri().equals(uri)).findFirst().orElse(null);
  }

  /**
   * A client that pipelines a second GET behind a slow fast one, then leaves: the second must never reach a
   * backend (its client is gone), and the first is logged 499.
   */
  @Test
  void aPipelinedRequestQueuedBehindAFastOneIsNotSentAfterTheClientLeft() throws Exception {
    AtomicInteger second = new AtomicInteger();
    Backends.Backend a = backends.start("a", req -> {
      if (req.path().equals("/second")) {
        second.incrementAndGet();
        req.response().end("second");
      } else {
        backends.vertx().setTimer(1500, t -> req.response().end("slow"));
      }
    });
    start(upstream("", a));
    try (RawHttp raw = new RawHttp(tether.port())) {
      raw.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\n\r\n");
      await().atMost(Duration.ofSeconds(5)).until(() -> a.served().get() == 1);
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> record("/slow") != null);
    assertThat(record("/slow").status()).isEqualTo(499);
    await().during(Duration.ofMillis(800)).atMost(Duration.ofSeconds(3)).until(() -> second.get() == 0);
    assertThat(record("/second")).as("no exchange for the request of a client gone").satisfiesAnyOf(
        r -> assertThat(r).isNull(), r -> assertThat(r.status()).isEqualTo(499));
    awaitNothingInFlight();
  }

  /**
   * A client that pipelines many GETs and reads nothing: requests behind the fast one are started only while the
   * client takes what was written (its connection writable), so what waits for it is bounded by the kernel's
   * buffers plus one response, not by how many requests it sent. Once it reads, every request is answered, in
   * order, each once. The same for requests Vert.x serves (a POST: Vert.x's own pipelining).
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"GET /p HTTP/1.1\r\nHost: x\r\n\r\n",
      "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx"})
  void pipelinedRequestsWaitWhileTheClientTakesNothingAndAreAllAnsweredWhenItReads(String request)
      throws Exception {
    int requests = 400;
    String body = "a".repeat(60 * 1024); // (each under Netty's 64 KiB high-water mark: only the sum is too much)
    Backends.Backend a = backends.start("a", req -> req.response().end(body));
    start(upstream("", a));
    try (RawHttp client = new RawHttp(tether.port(), 4096)) {
      // 400 x 60 KiB is 24 MB: more than loopback's send buffer (at most 4 MiB) and the client's window hold
      client.send(request.repeat(requests));
      await().atMost(Duration.ofSeconds(10)).until(() -> a.served().get() > 0);
      await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(15))
          .until(() -> a.served().get() < requests / 2); // (before the fix: all 400 within ~0.1 s)
      for (int i = 0; i < requests; i++) {
        assertThat(client.readResponse(10_000, false)).as("response " + i).startsWith("HTTP/1.1 200").endsWith(body);
      }
    }
    assertThat(a.served().get()).isEqualTo(requests);
    await().atMost(Duration.ofSeconds(5)).until(() -> records.size() == requests);
    assertThat(records).allSatisfy(r -> assertThat(r.status()).isEqualTo(200));
    awaitNothingInFlight();
  }

  /**
   * Clients that pipeline GETs (fast) and POSTs with 8 KiB bodies (Vert.x's), then reset with most of it unread:
   * every connection closes and no buffer leaks (what Vert.x 5.0.7 queued for a connection was not released when it
   * closed; requests behind one Vert.x serves now wait in the fast path's queue, which a close releases).
   */
  @Test
  void clientsThatPipelineBodiesAndResetLeakNoBuffer() throws Exception {
    Backends.Backend a = backends.start("a", req -> req.body().onSuccess(b -> req.response().end("ok")));
    tether = TetherHarness.start("admin: {address: 127.0.0.1, port: 0}\n" + upstream("", a), 1, List.of(recorder));
    String post = "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 8192\r\n\r\n" + "z".repeat(8192);
    String get = "GET /g HTTP/1.1\r\nHost: x\r\n\r\n";
    try (LeakWatch leaks = LeakWatch.start()) {
      for (int client = 0; client < 5; client++) {
        RawHttp raw = new RawHttp(tether.port(), 4096);
        raw.send((get + get + post).repeat(150));
        int before = a.served().get();
        await().atMost(Duration.ofSeconds(10)).until(() -> a.served().get() > before); // (it is being served)
        raw.reset();
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> PrometheusText.parse(tether.admin("GET", "/metrics").body())
          .getOrDefault("tether_client_connections", -1.0) == 0.0);
      leaks.assertNone();
    }
    awaitNothingInFlight();
  }

  /**
   * A fast response cut short by its backend closes the client connection: a GET pipelined behind it must not be
   * sent to a backend meanwhile (on a pooled connection, at once) for a client connection being closed.
   */
  @Test
  void aPipelinedRequestIsNotSentWhenTheFastResponseBeforeItBroke() throws Exception {
    Queue<String> seen = new ConcurrentLinkedQueue<>();
    int broken = scripted(head -> "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial#CLOSE", seen);
    Queue<String> appSeen = new ConcurrentLinkedQueue<>();
    int app = scripted(head -> "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", appSeen);
    start("upstreams:\n" + upstream("brk", broken) + upstream("app", app)
        + "routes:\n  - {path: /brk, upstream: brk}\n  - {path: /, upstream: app}\n");
    try (RawHttp warm = new RawHttp(tether.port())) { // (a fast request: Java's client would ask for h2c)
      assertThat(warm.send("GET /warm HTTP/1.1\r\nHost: x\r\n\r\n").readUntil("ok", 5000)).endsWith("ok");
    } // a pooled connection to app, idle
    try (RawHttp raw = new RawHttp(tether.port())) {
      RawHttp.Read r = raw.send("GET /brk HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\n\r\n")
          .readUntilCloseOrQuiet(5000);
      assertThat(r.closed()).isTrue();
      assertThat(r.text()).startsWith("HTTP/1.1 200").doesNotContain("ok");
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> record("/brk") != null);
    await().during(Duration.ofMillis(800)).atMost(Duration.ofSeconds(3))
        .until(() -> appSeen.stream().noneMatch(h -> h.startsWith("GET /second")));
    awaitNothingInFlight();
  }

  /**
   * A 103 Early Hints before the answer to a HEAD: the answer's Content-Length announces no body (RFC 9110 §9.3.2),
   * so the HEAD is answered whole, the connection serves the next request, and the server is not blamed.
   */
  @Test
  void aHeadAnsweredAfterEarlyHintsIsWholeAndTheConnectionGoesOn() throws Exception {
    Queue<String> seen = new ConcurrentLinkedQueue<>();
    int port = scripted(head -> head.startsWith("HEAD")
        ? "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
        : "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nafter", seen);
    start("upstreams:\n" + upstream("app", port) + "timeouts: {response_header: 2s}\n");
    try (RawHttp raw = new RawHttp(tether.port())) {
      raw.send("HEAD /h HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n");
      String text = raw.readUntil("after", 5000);
      assertThat(text).startsWith("HTTP/1.1 200").containsIgnoringCase("content-length: 1000").endsWith("after");
    }
    assertThat(blamed).isEmpty();
    awaitNothingInFlight();
  }

  /**
   * Graceful shutdown with a fast request whose backend never answers: the connection is closed at the end of
   * {@code shutdown_timeout}, as Vert.x closes its own, not held open until the response timeout.
   */
  @Test
  void shutdownClosesAStuckFastRequestAtTheGracePeriod() throws Exception {
    Queue<String> seen = new ConcurrentLinkedQueue<>();
    int port = scripted(head -> null, seen);
    start("upstreams:\n" + upstream("app", port) + "timeouts: {response_header: 8s}\nshutdown_timeout: 1s\n");
    try (RawHttp raw = new RawHttp(tether.port())) {
      raw.send("GET /stuck HTTP/1.1\r\nHost: x\r\n\r\n");
      await().atMost(Duration.ofSeconds(5)).until(() -> seen.size() == 1);
      long started = System.nanoTime();
      var done = tether.tether().shutdown();
      await().atMost(Duration.ofSeconds(5)).until(() -> done.isComplete());
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(4));
      assertThat(raw.readUntilCloseOrQuiet(2000).closed()).isTrue();
    } finally {
      tether = null;
    }
  }

  /**
   * Hostile or broken backends behind fast GETs: a body that stalls between chunks past the response timeout
   * reads as truncated (closed, no last chunk, logged truncated); a 101 nobody asked for is a 502; both end their
   * attempts.
   */
  @Test
  void aStalledBodyReadsTruncatedAndAnUnaskedSwitchIs502() throws Exception {
    Queue<String> seen = new ConcurrentLinkedQueue<>();
    int stall = scripted(head -> "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n", seen);
    int upgrade = scripted(head -> "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\n"
        + "Upgrade: websocket\r\n\r\nraw bytes", seen);
    start("upstreams:\n" + upstream("stall", stall) + upstream("up", upgrade)
        + "routes:\n  - {path: /stall, upstream: stall}\n  - {path: /, upstream: up}\n"
        + "timeouts: {response_header: 1s}\n");
    try (RawHttp raw = new RawHttp(tether.port())) {
      RawHttp.Read r = raw.send("GET /stall HTTP/1.1\r\nHost: x\r\n\r\n").readUntilCloseOrQuiet(5000);
      assertThat(r.closed()).isTrue();
      assertThat(r.text()).startsWith("HTTP/1.1 200").contains("first").doesNotEndWith("0\r\n\r\n");
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> record("/stall") != null);
    assertThat(record("/stall").truncated()).isTrue();
    try (RawHttp raw = new RawHttp(tether.port())) {
      RawHttp.Read r = raw.send("GET /up HTTP/1.1\r\nHost: x\r\n\r\n").readUntilCloseOrQuiet(5000);
      assertThat(r.text()).startsWith("HTTP/1.1 502").doesNotContain("raw bytes");
    }
    awaitNothingInFlight();
  }

  /**
   * A client that leaves in the middle of a large fast response: logged 499, its backend connection is closed
   * (never pooled half-read), and the next request gets a whole answer.
   */
  @Test
  void aClientLeavingMidBodyIs499AndTheBackendConnectionIsNotReused() throws Exception {
    // the large body comes in 64 KiB pieces every 5 ms (at most 400): still coming when the client leaves, however
    // much the kernel buffers (a 4 MiB body sent at once could sit whole in the sockets' buffers: a 200)
    io.vertx.core.buffer.Buffer piece = io.vertx.core.buffer.Buffer.buffer("y".repeat(64 * 1024));
    AtomicInteger connections = new AtomicInteger();
    io.vertx.core.http.HttpServer server = backends.vertx().createHttpServer()
        .connectionHandler(c -> connections.incrementAndGet())
        .requestHandler(req -> {
          if (!req.path().equals("/big")) {
            req.response().end("small");
            return;
          }
          req.response().setChunked(true).write(piece);
          AtomicInteger sent = new AtomicInteger(1);
          backends.vertx().setPeriodic(5, id -> {
            if (req.response().closed() || sent.incrementAndGet() > 400) {
              backends.vertx().cancelTimer(id);
              if (!req.response().closed()) {
                req.response().end();
              }
            } else {
              req.response().write(piece);
            }
          });
        });
    server.listen(0, "127.0.0.1").await();
    start("upstreams:\n" + upstream("app", server.actualPort()));
    try (RawHttp raw = new RawHttp(tether.port())) {
      raw.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(raw.readUntil("yyyy", 5000)).startsWith("HTTP/1.1 200");
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> record("/big") != null);
    assertThat(record("/big").status()).isEqualTo(499);
    try (RawHttp raw = new RawHttp(tether.port())) {
      assertThat(raw.send("GET /next HTTP/1.1\r\nHost: x\r\n\r\n").readUntil("small", 5000))
          .startsWith("HTTP/1.1 200").endsWith("small");
    }
    assertThat(connections.get()).isEqualTo(2);
    awaitNothingInFlight();
  }

  /** Forwarded headers, Via and the request id are those of the Vert.x path (a POST with a body goes there). */
  @Test
  void aFastRequestIsForwardedAsTheVertxPathForwardsIt() throws Exception {
    Queue<String> seen = new ConcurrentLinkedQueue<>();
    int port = scripted(head -> head.startsWith("POST") ? null
        : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", seen);
    start("upstreams:\n" + upstream("app", port));
    String common = "Host: example.com:8080\r\nX-Forwarded-For: 6.6.6.6\r\nVia: 1.0 evil\r\n"
        + "Forwarded: for=6.6.6.6\r\nX-Request-Id: mine\r\nConnection: keep-alive\r\n";
    try (RawHttp raw = new RawHttp(tether.port())) {
      raw.send("GET /fast HTTP/1.1\r\n" + common + "\r\n").readUntil("ok", 5000);
    }
    try (RawHttp raw = new RawHttp(tether.port())) {
      raw.send("POST /slow HTTP/1.1\r\n" + common + "Content-Length: 1\r\n\r\nz");
      await().atMost(Duration.ofSeconds(5)).until(() -> seen.size() == 2);
    }
    List<String> heads = new ArrayList<>(seen);
    assertThat(forwarded(heads.get(0))).isEqualTo(forwarded(heads.get(1)));
  }

  /**
   * Graceful shutdown while a fast request waits, and its backend then drops the connection unanswered: Vert.x
   * takes no request once it shuts a connection down, so the handover would be dropped (no answer, the attempt
   * never ended, the connection open until {@code shutdown_timeout}); the asked close is carried out at once
   * instead, the attempt ends and the request is logged 502.
   */
  @Test
  void aFastRequestFailingDuringShutdownClosesItsConnectionAndEndsItsAttempt() throws Exception {
    Queue<String> seen = new ConcurrentLinkedQueue<>();
    int port = scripted(head -> {
      try {
        Thread.sleep(700);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return "CLOSE";
    }, seen);
    start("upstreams:\n" + upstream("app", port) + "shutdown_timeout: 8s\n");
    try (RawHttp raw = new RawHttp(tether.port())) {
      raw.send("GET /dropped HTTP/1.1\r\nHost: x\r\n\r\n");
      await().atMost(Duration.ofSeconds(5)).until(() -> seen.size() == 1);
      long started = System.nanoTime();
      var done = tether.tether().shutdown();
      RawHttp.Read r = raw.readUntilCloseOrQuiet(5000);
      assertThat(r.closed()).as("closed at once").isTrue();
      assertThat(record("/dropped")).isNotNull();
      assertThat(record("/dropped").status()).isEqualTo(502);
      awaitNothingInFlight();
      await().atMost(Duration.ofSeconds(10)).until(done::isComplete);
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
    } finally {
      tether = null;
    }
  }

  /** The head's lines but the request line, the body's and the request id (random), sorted, lower case. */
  /** The header lines of a request as the backend read it (its body, if any, left out), sorted. */
  private static List<String> forwarded(String request) {
    String head = request.substring(0, request.indexOf("\r\n\r\n"));
    return head.lines().skip(1).map(l -> l.toLowerCase(java.util.Locale.ROOT))
        .filter(l -> !l.isEmpty() && !l.startsWith("content-length") && !l.startsWith("x-request-id"))
        .sorted().toList();
  }

  /** A fast attempt that fails and is retried through Vert.x keeps its request id: both backends see one. */
  @Test
  void aRequestRetriedAfterTheFastPathKeepsItsRequestId() throws Exception {
    Queue<String> seen = new ConcurrentLinkedQueue<>();
    int resets = scripted(head -> "CLOSE", seen); // reads the head, then closes: reset before any response
    Backends.Backend echo = backends.start("echo", req -> req.response().end(req.getHeader("X-Request-Id")));
    start("upstreams:\n  app: {servers: [{name: a, address: \"127.0.0.1:" + resets + "\"}, {name: b, address: \""
        + echo.address() + "\"}], balance: round_robin, passive: {max_fails: 0}}\n");
    for (int i = 0; i < 4; i++) {
      int before = records.size();
      try (RawHttp raw = new RawHttp(tether.port())) {
        raw.send("GET /id HTTP/1.1\r\nHost: x\r\n\r\n");
        await().atMost(Duration.ofSeconds(5)).until(() -> records.size() > before); // answered, then closed
      }
    }
    List<String> sentToA = seen.stream().map(h -> h.replaceAll("(?s).*X-Request-Id: (\\w+).*", "$1")).toList();
    assertThat(sentToA).isNotEmpty();
    for (String id : sentToA) {
      // the retry on b carried the id a got, and the access log names it
      assertThat(records).anySatisfy(r -> {
        assertThat(r.requestId()).isEqualTo(id);
        assertThat(r.upstreamStatuses()).isEqualTo("reset, 200");
      });
    }
    awaitNothingInFlight();
  }

  /** {@code Connection: close} on a second Connection line still closes after the response (as Vert.x does). */
  @Test
  void aCloseOnAnyConnectionLineClosesAfterTheResponse() throws Exception {
    Backends.Backend echo = backends.start("echo");
    start(ProxyTest.upstream("round_robin", ProxyTest.server(echo)));
    try (RawHttp raw = new RawHttp(tether.port())) {
      RawHttp.Read r = raw.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n"
          + "Connection: close\r\n\r\n").readUntilCloseOrQuiet(5000);
      assertThat(r.text()).startsWith("HTTP/1.1 200");
      assertThat(r.closed()).isTrue();
    }
  }

  /** A response that streams on past a graceful shutdown is cut at shutdown_timeout, never waited for unbounded. */
  @Test
  void aResponseStreamingThroughAShutdownIsCutAtTheGracePeriod() throws Exception {
    Backends.Backend drip = backends.start("drip", req -> {
      req.response().setChunked(true).write("first");
      long timer = backends.vertx().setPeriodic(100, t -> req.response().write("more"));
      req.response().closeHandler(v -> backends.vertx().cancelTimer(timer));
    });
    start(ProxyTest.upstream("round_robin", ProxyTest.server(drip)) + "shutdown_timeout: 1s\n");
    try (RawHttp raw = new RawHttp(tether.port())) {
      assertThat(raw.send("GET /drip HTTP/1.1\r\nHost: x\r\n\r\n").readUntil("first", 5000)).contains("200");
      long started = System.nanoTime();
      var done = tether.tether().shutdown();
      await().atMost(Duration.ofSeconds(8)).until(done::isComplete);
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
      RawHttp.Read rest = raw.readUntilCloseOrQuiet(3000);
      assertThat(rest.closed()).isTrue();
      assertThat(rest.text()).doesNotEndWith("0\r\n\r\n"); // cut: never passed off as complete
    } finally {
      tether = null;
    }
  }
}
