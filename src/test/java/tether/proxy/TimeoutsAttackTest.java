package tether.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tether.testing.Backends;
import tether.testing.ProxyTestBase;
import tether.testing.RawHttp;
import tether.testing.ScriptedBackends;
import tether.testing.TetherHarness;
import tether.upstream.Backend;

/**
 * Today's timeout changes attacked: the fast path's one silence timer per connection, a client that does not read
 * (backpressure) against a backend that is silent or dies, held request bodies (HTTP/1.1 and h2c) and every
 * Connection line read on responses.
 */
class TimeoutsAttackTest extends ProxyTestBase {

  @TempDir
  Path dir;

  private final ScriptedBackends scripted = new ScriptedBackends();
  private final RecordingListener recorder = new RecordingListener();
  private final List<ExchangeRecord> records = recorder.records;
  private final List<String> blamed = recorder.blamed;
  private HttpClientAgent client;

  @AfterEach
  void closeScripted() throws IOException {
    if (client != null) {
      client.close().await();
    }
    scripted.close();
  }

  private int scripted(Function<String, String> reply, Queue<String> seen) throws IOException {
    return scripted.start(reply, seen);
  }

  private void start(String yaml) {
    tether = TetherHarness.start(yaml, 1, List.of(recorder));
  }

  private static String upstream(String name, int port, String extra) {
    return "  " + name + ": {servers: [{name: " + name + ", address: \"127.0.0.1:" + port + "\"}],"
        + " max_attempts: 1, passive: {max_fails: 0}" + extra + "}\n";
  }

  private ExchangeRecord record(String uri) {
    return records.stream().filter(r -> r.uri().equals(uri)).findFirst().orElse(null);
  }

  private void awaitNothingInFlight() {
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
        tether.tether().proxy().snapshot().upstreams().values().forEach(u -> u.backends().forEach(s ->
            assertThat(s.state().inFlight()).as("in flight on " + s.name()).isZero())));
  }

  /** The response to {@code path} was cut (logged truncated) and counted once against the server, nothing left. */
  private void awaitCutAndBlamedOnce(String path) {
    await().atMost(Duration.ofSeconds(5)).until(() -> record(path) != null);
    assertThat(record(path).truncated()).isTrue();
    assertThat(blamed).containsExactly("app:broken_response");
    awaitNothingInFlight();
  }

  private static String sleepThen(long millis, String reply) {
    try {
      Thread.sleep(millis); // the backend's slowness: the scenario
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return reply;
  }

  // ---- 1. the fast path's one silence timer per connection ----

  /**
   * Pipelined on one keep-alive connection: a slow (but in time) answer, then a request whose backend is silent.
   * The silent one must be cut about {@code response_header} after it was sent (504), not hang, and the slow one
   * must arrive whole first.
   */
  @Test
  void aSilentRequestPipelinedBehindASlowOneIsCutInTime() throws Exception {
    Queue<String> seen = new ConcurrentLinkedQueue<>();
    int slow = scripted(h -> sleepThen(700, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow"), seen);
    int silent = scripted(h -> null, seen);
    start("upstreams:\n" + upstream("slow", slow, "") + upstream("silent", silent, "")
        + "routes:\n  - {path: /silent, upstream: silent}\n  - {path: /, upstream: slow}\n"
        + "timeouts: {response_header: 1s}\n");
    try (RawHttp raw = new RawHttp(tether.port())) {
      long started = System.nanoTime();
      raw.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /silent HTTP/1.1\r\nHost: x\r\n\r\n"
          + "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
      String text = raw.readUntil("slow", 8000);
      text += raw.readUntil("504 Gateway Timeout", 8000);
      text += raw.readUntil("slow", 8000);
      Duration took = Duration.ofNanos(System.nanoTime() - started);
      assertThat(text).startsWith("HTTP/1.1 200").contains("HTTP/1.1 504").endsWith("slow");
      assertThat(text.indexOf("HTTP/1.1 504")).isGreaterThan(text.indexOf("slow"));
      assertThat(took).as("0.7 + 1 + 0.7 s, not a hang").isLessThan(Duration.ofMillis(4500));
    }
    assertThat(blamed).contains("silent:timeout");
    awaitNothingInFlight();
  }

  /**
   * Many quick requests on one keep-alive connection, then one whose backend never answers, then quick ones again:
   * the silent one fails over to the other server within about {@code response_header} of being sent, every time.
   */
  @Test
  void aSilentServerAmongManyQuickRequestsOnOneConnectionFailsOverInTime() throws Exception {
    Queue<String> seen = new ConcurrentLinkedQueue<>();
    int silent = scripted(h -> h.startsWith("GET /hang") ? null
        : "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nquick", seen);
    Backends.Backend good = backends.start("good", req -> req.response().end("good"));
    start("upstreams:\n  app: {servers: [{name: silent, address: \"127.0.0.1:" + silent + "\"}, {name: good, "
        + "address: \"" + good.address() + "\", backup: true}], passive: {max_fails: 0}}\n"
        + "timeouts: {response_header: 1s}\n");
    try (RawHttp raw = new RawHttp(tether.port())) {
      for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 10; i++) {
          assertThat(raw.send("GET /q HTTP/1.1\r\nHost: x\r\n\r\n").readUntil("quick", 5000)).endsWith("quick");
        }
        long started = System.nanoTime();
        assertThat(raw.send("GET /hang HTTP/1.1\r\nHost: x\r\n\r\n").readUntil("good", 5000))
            .as("round " + round).startsWith("HTTP/1.1 200").endsWith("good");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).as("round " + round)
            .isBetween(Duration.ofMillis(900), Duration.ofMillis(4000)); // (not the 5 s read bound)
      }
    }
    assertThat(blamed).containsOnly("silent:timeout");
    awaitNothingInFlight();
  }

  /**
   * A reload that shortens {@code response_header} (it rebinds the listeners: the old connections finish their
   * requests and close) while a request waits on a silent server: the waiting request still fails over to the
   * other server and is answered, on either path (keep-alive: fast; Connection: close: Vert.x), before its
   * connection closes.
   */
  @Test
  void aVertxRequestWaitingThroughAReloadStillFailsOver() throws Exception {
    requestWaitingThroughAReloadFailsOver(false);
  }

  /** The same on the fast path (keep-alive GET). */
  @Test
  void aFastRequestWaitingThroughAReloadStillFailsOver() throws Exception {
    requestWaitingThroughAReloadFailsOver(true);
  }

  private void requestWaitingThroughAReloadFailsOver(boolean keepAlive) throws Exception {
    Queue<String> seen = new ConcurrentLinkedQueue<>();
    int silent = scripted(h -> null, seen);
    Backends.Backend good = backends.start("good", req -> req.response().end("good"));
    Path file = dir.resolve("tether.yaml");
    String base = "listen: [{address: 127.0.0.1, port: 0}]\nadmin: {enabled: false}\nworkers: 1\n"
        + "access_log: {enabled: false}\nshutdown_timeout: 10s\n"
        + "upstreams:\n  app: {servers: [{name: silent, address: \"127.0.0.1:" + silent + "\"}, {name: good, "
        + "address: \"" + good.address() + "\", backup: true}], passive: {max_fails: 0}}\n";
    Files.writeString(file, base + "timeouts: {response_header: 2s}\n");
    tether = TetherHarness.startFromFile(file);
    try (RawHttp raw = new RawHttp(tether.port())) {
      raw.send("GET /hang HTTP/1.1\r\nHost: x\r\n" + (keepAlive ? "" : "Connection: close\r\n") + "\r\n");
      await().atMost(Duration.ofSeconds(5)).until(() -> seen.size() == 1);
      Files.writeString(file, base + "timeouts: {response_header: 1s}\n");
      assertThat(tether.tether().reload().await()).isEmpty();
      RawHttp.Read r = raw.readUntilCloseOrQuiet(6000);
      assertThat(r.text()).startsWith("HTTP/1.1 200").endsWith("good");
    }
  }

  /** A backend that sends its head and then nothing: cut after response_header, truncated, the server blamed. */
  @Test
  void aBackendSilentForeverAfterTheHeadIsCutAndBlamed() throws Exception {
    Queue<String> seen = new ConcurrentLinkedQueue<>();
    int port = scripted(h -> "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhead-only", seen);
    start("upstreams:\n" + upstream("app", port, "") + "timeouts: {response_header: 1s}\n");
    try (RawHttp raw = new RawHttp(tether.port())) {
      long started = System.nanoTime();
      RawHttp.Read r = raw.send("GET /h HTTP/1.1\r\nHost: x\r\n\r\n").readUntilCloseOrQuiet(6000);
      assertThat(r.closed()).isTrue();
      assertThat(r.text()).startsWith("HTTP/1.1 200").endsWith("head-only");
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isBetween(Duration.ofMillis(900),
          Duration.ofMillis(3000));
    }
    awaitCutAndBlamedOnce("/h");
  }

  // ---- 2. a client that does not read ----

  /**
   * A client that reads steadily but slower than the backend sends, for longer than {@code timeouts.idle} and
   * {@code response_header}: the backend is paused for it again and again, never timed out, and the body arrives
   * whole on either path (keep-alive: fast; Connection: close: Vert.x).
   */
  @ParameterizedTest(name = "keep-alive {0}")
  @ValueSource(booleans = {true, false})
  void aSlowButSteadyReaderGetsTheWholeBody(boolean keepAlive) throws Exception {
    long chunks = 256; // 16 MiB, far more than the sockets' buffers
    long size = chunks * StreamingTest.CHUNK;
    Backends.Backend big = backends.start("big", req -> StreamingTest.writeChunks(
        req.response().putHeader("Content-Length", Long.toString(size)), 0, chunks));
    start(upstream("", big) + "timeouts: {response_header: 1s, idle: 2s}\n");
    try (Socket s = ClientPacingTest.slowReader(tether.port())) {
      s.getOutputStream().write(("GET /big HTTP/1.1\r\nHost: x\r\n" + (keepAlive ? "" : "Connection: close\r\n")
          + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
      InputStream in = s.getInputStream();
      byte[] buf = new byte[64 * 1024];
      long read = 0;
      long slowUntil = System.nanoTime() + Duration.ofSeconds(5).toNanos();
      int n = 0;
      while (System.nanoTime() - slowUntil < 0 && (n = in.read(buf, 0, 32 * 1024)) >= 0) {
        read += n;
        Thread.sleep(20); // at most 1.6 MB/s: the scenario, a reader slower than the backend
      }
      assertThat(n).as("still open after 5 s of slow reading").isNotNegative();
      while (read < size + 100 && (n = in.read(buf)) >= 0) {
        read += n;
      }
      assertThat(read).as("head and body").isGreaterThan(size);
    }
    assertThat(blamed).isEmpty();
  }

  /**
   * A backend that dies mid-body (chunked, no last chunk) while the client is not reading: once it reads, the
   * client sees a truncated response and a closed connection, never the last chunk.
   */
  @ParameterizedTest(name = "keep-alive {0}")
  @ValueSource(booleans = {true, false})
  void aBackendDyingWhileTheClientDoesNotReadLeavesATruncatedResponse(boolean keepAlive) throws Exception {
    Queue<String> seen = new ConcurrentLinkedQueue<>();
    String chunk = "x".repeat(16 * 1024);
    StringBuilder body = new StringBuilder("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 128; i++) { // 2 MiB, then the connection closes without the last chunk
      body.append(Integer.toHexString(chunk.length())).append("\r\n").append(chunk).append("\r\n");
    }
    String reply = body + "#CLOSE";
    int port = scripted(h -> reply, seen);
    start("upstreams:\n" + upstream("app", port, "") + "timeouts: {response_header: 1s, idle: 5s}\n");
    try (Socket s = new Socket()) {
      s.setReceiveBufferSize(16 * 1024);
      s.connect(new InetSocketAddress("127.0.0.1", tether.port()), 5000);
      s.getOutputStream().write(("GET /die HTTP/1.1\r\nHost: x\r\n" + (keepAlive ? "" : "Connection: close\r\n")
          + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
      await().atMost(Duration.ofSeconds(5)).until(() -> seen.size() == 1);
      Thread.sleep(2000); // the client reads nothing while the backend writes and dies: the scenario
      s.setSoTimeout(10_000);
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      InputStream in = s.getInputStream();
      byte[] buf = new byte[64 * 1024];
      int n;
      try {
        while ((n = in.read(buf)) >= 0) {
          got.write(buf, 0, n);
        }
      } catch (SocketTimeoutException e) {
        throw new AssertionError("the connection was never closed", e);
      } catch (IOException e) {
        // reset: closed too
      }
      String text = got.toString(StandardCharsets.ISO_8859_1);
      assertThat(text).startsWith("HTTP/1.1 200").doesNotEndWith("\r\n0\r\n\r\n");
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> record("/die") != null);
    assertThat(record("/die").truncated()).isTrue();
    awaitNothingInFlight();
  }

  /**
   * Graceful shutdown while a fast response is paused for a client that stopped reading: the connection is cut at
   * {@code shutdown_timeout}, not held until {@code timeouts.idle}, and the shutdown completes.
   */
  @Test
  void shutdownCutsAFastResponsePausedForAClientThatStoppedReading() throws Exception {
    long chunks = 512;
    long size = chunks * StreamingTest.CHUNK;
    Backends.Backend big = backends.start("big", req -> StreamingTest.writeChunks(
        req.response().putHeader("Content-Length", Long.toString(size)), 0, chunks));
    start(upstream("", big) + "timeouts: {response_header: 1s, idle: 30s}\nshutdown_timeout: 1s\n");
    try (Socket s = ClientPacingTest.slowReader(tether.port())) {
      s.getOutputStream().write("GET /big HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      InputStream in = s.getInputStream();
      long read = in.readNBytes(100_000).length;
      long started = System.nanoTime();
      var done = tether.tether().shutdown();
      await().atMost(Duration.ofSeconds(6)).until(done::isComplete);
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(4));
      byte[] buf = new byte[64 * 1024];
      int n;
      try {
        while ((n = in.read(buf)) >= 0) {
          read += n;
        }
      } catch (IOException e) {
        // reset: closed
      }
      assertThat(read).as("cut short").isLessThan(size);
    } finally {
      tether = null;
    }
  }

  // ---- 4. hop-by-hop headers on responses ----

  /**
   * Response headers named on any Connection line, with odd spacing and empty tokens, are dropped on both paths
   * (keep-alive: fast; Connection: close: Vert.x), the others kept.
   */
  @ParameterizedTest(name = "keep-alive {0}")
  @ValueSource(booleans = {true, false})
  void responseHeadersNamedOnAnyConnectionLineAreDropped(boolean keepAlive) throws Exception {
    Queue<String> seen = new ConcurrentLinkedQueue<>();
    int port = scripted(h -> "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nConnection: , ,x-a\r\n"
        + "Connection:x-b ,\tX-C\r\nX-A: 1\r\nX-B: 2\r\nX-C: 3\r\nX-D: 4\r\nContent-Length: 2\r\n\r\nok", seen);
    start("upstreams:\n" + upstream("app", port, ""));
    try (RawHttp raw = new RawHttp(tether.port())) {
      String text = raw.send("GET / HTTP/1.1\r\nHost: x\r\n" + (keepAlive ? "" : "Connection: close\r\n") + "\r\n")
          .readUntil("ok", 5000);
      String head = text.substring(0, text.indexOf("\r\n\r\n")).toLowerCase(java.util.Locale.ROOT);
      assertThat(head).contains("x-d: 4").doesNotContain("x-a:").doesNotContain("x-b:").doesNotContain("x-c:");
      assertThat(text).endsWith("\r\n\r\nok");
    }
  }

  /**
   * {@code Transfer-Encoding: chunked} on answers that have no body (304, 204, a HEAD's): the client gets no body
   * and no framing that promises one, and the keep-alive connection serves the next request.
   */
  @ParameterizedTest
  @ValueSource(strings = {"GET 304 Not Modified", "GET 204 No Content", "HEAD 200 OK"})
  void bodilessAnswersAnnouncingChunkedLeaveTheConnectionUsable(String kind) throws Exception {
    String method = kind.substring(0, kind.indexOf(' '));
    String status = kind.substring(kind.indexOf(' ') + 1);
    Queue<String> seen = new ConcurrentLinkedQueue<>();
    int port = scripted(h -> h.startsWith("GET /next") ? "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext"
        : "HTTP/1.1 " + status + "\r\nTransfer-Encoding: chunked\r\nETag: \"e\"\r\n\r\n", seen);
    start("upstreams:\n" + upstream("app", port, "") + "timeouts: {response_header: 2s}\n");
    try (RawHttp raw = new RawHttp(tether.port())) {
      raw.send(method + " /x HTTP/1.1\r\nHost: x\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n");
      String text = raw.readUntil("next", 5000);
      assertThat(text).startsWith("HTTP/1.1 " + status).endsWith("\r\n\r\nnext");
      String first = text.substring(0, text.indexOf("HTTP/1.1 200", 1) < 0 ? text.length()
          : text.indexOf("HTTP/1.1 200", 1));
      assertThat(first.toLowerCase(java.util.Locale.ROOT)).doesNotContain("transfer-encoding").endsWith("\r\n\r\n");
    }
    assertThat(blamed).isEmpty();
  }

  /**
   * An HTTP/1.0 backend answering without Content-Length, its body ended by its close: through the fast path the
   * client gets the whole body framed (chunked here, then the connection goes on), never a hang.
   */
  @Test
  void aCloseDelimitedHttp10AnswerIsRelayedWholeAndFramed() throws Exception {
    Queue<String> seen = new ConcurrentLinkedQueue<>();
    String big = "b".repeat(100_000);
    int port = scripted(h -> h.startsWith("GET /big") ? "HTTP/1.0 200 OK\r\n\r\n" + big + "#CLOSE"
        : "HTTP/1.0 200 OK\r\n\r\nbody#CLOSE", seen);
    start("upstreams:\n" + upstream("app", port, "") + "timeouts: {response_header: 2s}\n");
    try (RawHttp raw = new RawHttp(tether.port())) {
      String text = raw.send("GET /small HTTP/1.1\r\nHost: x\r\n\r\n").readUntil("\r\n0\r\n\r\n", 5000);
      assertThat(text).startsWith("HTTP/1.1 200").containsIgnoringCase("transfer-encoding: chunked")
          .endsWith("\r\n\r\n4\r\nbody\r\n0\r\n\r\n");
      text = raw.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n").readUntil("\r\n0\r\n\r\n", 5000);
      assertThat(text).startsWith("HTTP/1.1 200").endsWith("\r\n0\r\n\r\n");
      String body = text.substring(text.indexOf("\r\n\r\n") + 4);
      assertThat(ChunkedDecode.decode(body)).isEqualTo(big);
    }
    assertThat(blamed).isEmpty();
    awaitNothingInFlight();
  }

  /** Decodes a chunked body well formed by Tether (test-only, no extensions). */
  static final class ChunkedDecode {
    static String decode(String chunked) {
      StringBuilder out = new StringBuilder();
      int at = 0;
      for (int guard = 0; guard < 1_000_000; guard++) {
        int eol = chunked.indexOf("\r\n", at);
        int size = Integer.parseInt(chunked.substring(at, eol), 16);
        if (size == 0) {
          return out.toString();
        }
        out.append(chunked, eol + 2, eol + 2 + size);
        at = eol + 2 + size + 2;
      }
      throw new AssertionError("too many chunks");
    }
  }

  // ---- 3. held request bodies ----

  /**
   * A PUT body exactly {@code retry_buffer} long is held: its first server resets, and the next server gets it
   * intact. One byte more is streamed: not replayed, a 502.
   */
  @Test
  void aHeldBodyAtRetryBufferIsReplayedIntactAndOneByteMoreIsNot() throws Exception {
    Queue<String> seen = new ConcurrentLinkedQueue<>();
    int resets = scripted(h -> "CLOSE", seen); // reads head and body, then closes unanswered
    List<String> got = new CopyOnWriteArrayList<>();
    Backends.Backend echo = backends.bodies("echo", got);
    start("upstreams:\n  app: {servers: [{name: resets, address: \"127.0.0.1:" + resets + "\"}, {name: echo, "
        + "address: \"" + echo.address() + "\", backup: true}], retry_buffer: 1024, passive: {max_fails: 0}}\n"
        + "timeouts: {response_header: 2s}\n");
    StringBuilder body = new StringBuilder();
    for (int i = 0; body.length() < 1024; i++) {
      body.append(i).append(',');
    }
    String exact = body.substring(0, 1024);
    try (RawHttp raw = new RawHttp(tether.port())) {
      RawHttp.Read r = raw.send("PUT /held HTTP/1.1\r\nHost: x\r\nContent-Length: 1024\r\nConnection: close\r\n\r\n"
          + exact).readUntilCloseOrQuiet(5000);
      assertThat(r.text()).startsWith("HTTP/1.1 200").endsWith("got 1024");
    }
    assertThat(got).containsExactly(exact);
    try (RawHttp raw = new RawHttp(tether.port())) {
      RawHttp.Read r = raw.send("PUT /streamed HTTP/1.1\r\nHost: x\r\nContent-Length: 1025\r\nConnection: close"
          + "\r\n\r\n" + exact + "!").readUntilCloseOrQuiet(5000);
      assertThat(r.text()).startsWith("HTTP/1.1 502");
    }
    assertThat(got).hasSize(1);
    awaitNothingInFlight();
  }

  /** A held body announced with Expect: 100-continue, then stalled: 100 Continue at once, then 408 and a close. */
  @Test
  void aHeldBodyAfter100ContinueThatStallsGets408() throws Exception {
    List<String> whole = new CopyOnWriteArrayList<>();
    Backends.Backend echo = backends.bodies("echo", whole);
    start(upstream("", echo) + "timeouts: {response_header: 5s, body: 1s}\n");
    try (RawHttp raw = new RawHttp(tether.port())) {
      raw.send("PUT /up HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n");
      assertThat(raw.readUntil("\r\n\r\n", 5000)).isEqualTo("HTTP/1.1 100 Continue\r\n\r\n");
      RawHttp.Read r = raw.send("abc").readUntilCloseOrQuiet(6000);
      assertThat(r.text()).startsWith("HTTP/1.1 408");
      assertThat(r.closed()).isTrue();
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> record("/up") != null);
    assertThat(record("/up").status()).isEqualTo(408);
    assertThat(whole.size()).isZero();
  }

  private HttpClientAgent h2c() {
    return backends.vertx().httpClientBuilder().with(new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2)
        .setHttp2ClearTextUpgrade(false)).with(new PoolOptions().setHttp2MaxSize(1)).build();
  }

  /**
   * HTTP/2 (h2c prior knowledge): a held PUT body that stalls gets 408 on its stream; one whose stream the client
   * resets mid-body is logged 499; the backend never gets either; the connection serves a next stream.
   */
  @Test
  void h2HeldBodiesThatStallOrAreResetAre408And499() throws Exception {
    List<String> whole = new CopyOnWriteArrayList<>();
    Backends.Backend echo = backends.bodies("echo", whole);
    start("listen: [{address: 127.0.0.1, port: 0, h2c: true}]\n" + upstream("", echo)
        + "timeouts: {response_header: 5s, body: 1s}\n");
    client = h2c();
    RequestOptions stall = new RequestOptions().setHost("127.0.0.1").setPort(tether.port()).setURI("/stall")
        .setMethod(HttpMethod.PUT);
    HttpClientRequest req = client.request(stall).await();
    req.putHeader("Content-Length", "10");
    req.write("abc").await();
    HttpClientResponse resp = req.response().await(java.util.concurrent.TimeUnit.SECONDS.toMillis(6),
        java.util.concurrent.TimeUnit.MILLISECONDS);
    assertThat(resp.statusCode()).isEqualTo(408);
    await().atMost(Duration.ofSeconds(5)).until(() -> record("/stall") != null);
    assertThat(record("/stall").status()).isEqualTo(408);

    RequestOptions reset = new RequestOptions(stall).setURI("/reset");
    HttpClientRequest r2 = client.request(reset).await();
    r2.putHeader("Content-Length", "10");
    r2.write("abc").await();
    r2.reset().await();
    await().atMost(Duration.ofSeconds(5)).until(() -> record("/reset") != null);
    assertThat(record("/reset").status()).isEqualTo(499);

    HttpClientRequest r3 = client.request(new RequestOptions(stall).setURI("/ok")).await();
    assertThat(r3.send("0123456789").compose(r -> r.body().map(b -> r.statusCode() + " " + b))
        .await(6, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo("200 got 10");
    assertThat(whole.size()).isEqualTo(1);
  }

  /**
   * A chunked PUT is streamed, never held: when its first server closes after the head, the body (partly read
   * already) must not go to another server cut short: either the whole body is served, or the client gets 502.
   */
  @Test
  void aStreamedChunkedPutIsNeverReplayedCutShort() throws Exception {
    Queue<String> seen = new ConcurrentLinkedQueue<>();
    int resets = scripted(h -> "CLOSE", seen);
    List<String> got = new CopyOnWriteArrayList<>();
    Backends.Backend echo = backends.bodies("echo", got);
    start("upstreams:\n  app: {servers: [{name: resets, address: \"127.0.0.1:" + resets + "\"}, {name: echo, "
        + "address: \"" + echo.address() + "\", backup: true}], passive: {max_fails: 0}}\n"
        + "timeouts: {response_header: 2s}\n");
    String chunk = "c".repeat(4000);
    try (RawHttp raw = new RawHttp(tether.port())) {
      raw.send("PUT /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
          + "fa0\r\n" + chunk + "\r\n");
      await().atMost(Duration.ofSeconds(5)).until(() -> seen.size() == 1);
      Thread.sleep(300); // the first server has closed: the scenario
      raw.send("fa0\r\n" + chunk + "\r\n0\r\n\r\n");
      RawHttp.Read r = raw.readUntilCloseOrQuiet(5000);
      if (r.text().startsWith("HTTP/1.1 200")) {
        assertThat(got).containsExactly(chunk + chunk);
      } else {
        assertThat(r.text()).startsWith("HTTP/1.1 502");
        assertThat(got).isEmpty();
      }
    }
    awaitNothingInFlight();
  }

  /**
   * HTTP/2: a held PUT whose stream ends before its announced Content-Length must not reach the backend announcing
   * more than it carries (the backend would wait for the rest, a timeout blamed on it).
   */
  @Test
  void h2HeldBodyShorterThanItsContentLengthNeverReachesTheBackend() throws Exception {
    List<String> whole = new CopyOnWriteArrayList<>();
    Backends.Backend echo = backends.bodies("echo", whole);
    start("listen: [{address: 127.0.0.1, port: 0, h2c: true}]\n" + upstream("", echo)
        + "timeouts: {response_header: 1s, body: 2s}\n");
    client = h2c();
    HttpClientRequest req = client.request(new RequestOptions().setHost("127.0.0.1").setPort(tether.port())
        .setURI("/short").setMethod(HttpMethod.PUT)).await();
    req.putHeader("Content-Length", "10");
    req.end("abc");
    await().atMost(Duration.ofSeconds(6)).until(() -> record("/short") != null);
    assertThat(record("/short").status()).isIn(400, 499);
    assertThat(blamed).isEmpty();
    assertThat(whole.size()).isZero();
  }

  /**
   * A backend slower than {@code timeouts.idle} but within {@code response_header}: the client waiting for its
   * answer is not an idle connection (README: idle closes an idle keep-alive connection, or one whose client stops
   * reading), so it gets the answer, on either path.
   */
  @ParameterizedTest(name = "keep-alive {0}")
  @ValueSource(booleans = {true, false})
  void aBackendSlowerThanTheIdleTimeoutButInTimeIsAnswered(boolean keepAlive) throws Exception {
    Backends.Backend slow = backends.start("slow", req -> backends.vertx().setTimer(2500,
        t -> req.response().end("late but in time")));
    start(upstream("", slow) + "timeouts: {response_header: 5s, idle: 1s}\n");
    try (RawHttp raw = new RawHttp(tether.port())) {
      RawHttp.Read r = raw.send("GET /slow HTTP/1.1\r\nHost: x\r\n" + (keepAlive ? "" : "Connection: close\r\n")
          + "\r\n").readUntilCloseOrQuiet(6000);
      assertThat(r.text()).startsWith("HTTP/1.1 200").endsWith("late but in time");
    }
  }

  /**
   * A backend answering with two Connection lines, the second {@code close}, and leaving its connection open but
   * deaf: the fast pool must not reuse it (the next request would wait on a server that no longer reads).
   */
  @Test
  void aCloseOnTheBackendsSecondConnectionLineIsNotPooled() throws Exception {
    ThreadLocal<int[]> served = ThreadLocal.withInitial(() -> new int[1]);
    Queue<String> seen = new ConcurrentLinkedQueue<>();
    int port = scripted(h -> served.get()[0]++ > 0 ? null
        : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\nConnection: close\r\n\r\nok", seen);
    start("upstreams:\n" + upstream("app", port, "") + "timeouts: {response_header: 3s}\n");
    try (RawHttp raw = new RawHttp(tether.port())) {
      assertThat(raw.send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\n").readUntil("ok", 5000)).endsWith("ok");
      long started = System.nanoTime();
      assertThat(raw.send("GET /2 HTTP/1.1\r\nHost: x\r\n\r\n").readUntil("ok", 5000)).endsWith("ok");
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofMillis(2500)); // (3 s: waited)
    }
    assertThat(blamed).isEmpty();
  }

  /**
   * A body that goes silent mid-way while the client reads normally is cut after {@code response_header} and the
   * server blamed, on either path (keep-alive: fast; Connection: close: Vert.x), even with a shorter idle timeout
   * (the client, waiting on Tether, is not idle: the response timeout is the one that ends it).
   */
  @ParameterizedTest(name = "keep-alive {0}")
  @ValueSource(booleans = {true, false})
  void aBodySilentMidWayIsCutAfterTheResponseTimeoutOnEitherPath(boolean keepAlive) throws Exception {
    Queue<String> seen = new ConcurrentLinkedQueue<>();
    int port = scripted(h -> "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + "m".repeat(300), seen);
    start("upstreams:\n" + upstream("app", port, "") + "timeouts: {response_header: 2s, idle: 1s}\n");
    try (RawHttp raw = new RawHttp(tether.port())) {
      long started = System.nanoTime();
      RawHttp.Read r = raw.send("GET /mid HTTP/1.1\r\nHost: x\r\n" + (keepAlive ? "" : "Connection: close\r\n")
          + "\r\n").readUntilCloseOrQuiet(6000);
      assertThat(r.closed()).isTrue();
      assertThat(r.text()).startsWith("HTTP/1.1 200").endsWith("m".repeat(300));
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isBetween(Duration.ofMillis(1800),
          Duration.ofMillis(4500));
    }
    awaitCutAndBlamedOnce("/mid");
  }

  /** A close-delimited HTTP/1.0 answer through Vert.x's path (the client asks to close): whole, then the close. */
  @Test
  void aCloseDelimitedHttp10AnswerIsRelayedWholeThroughVertx() throws Exception {
    Queue<String> seen = new ConcurrentLinkedQueue<>();
    String big = "v".repeat(100_000);
    int port = scripted(h -> "HTTP/1.0 200 OK\r\n\r\n" + big + "#CLOSE", seen);
    start("upstreams:\n" + upstream("app", port, "") + "timeouts: {response_header: 2s}\n");
    try (RawHttp raw = new RawHttp(tether.port())) {
      RawHttp.Read r = raw.send("GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
          .readUntilCloseOrQuiet(5000);
      assertThat(r.closed()).isTrue();
      String text = r.text();
      String body = text.substring(text.indexOf("\r\n\r\n") + 4);
      if (text.toLowerCase(java.util.Locale.ROOT).contains("transfer-encoding: chunked")) {
        assertThat(ChunkedDecode.decode(body)).isEqualTo(big);
      } else {
        assertThat(body).isEqualTo(big);
      }
    }
    assertThat(blamed).isEmpty();
  }

  /** HTTP/2: a held PUT body whose first server resets unanswered is replayed on the next server, intact. */
  @Test
  void h2HeldBodyIsReplayedIntactAfterItsServerFails() throws Exception {
    Queue<String> seen = new ConcurrentLinkedQueue<>();
    int resets = scripted(h -> "CLOSE", seen);
    List<String> got = new CopyOnWriteArrayList<>();
    Backends.Backend echo = backends.bodies("echo", got);
    start("listen: [{address: 127.0.0.1, port: 0, h2c: true}]\n"
        + "upstreams:\n  app: {servers: [{name: resets, address: \"127.0.0.1:" + resets + "\"}, {name: echo, "
        + "address: \"" + echo.address() + "\", backup: true}], passive: {max_fails: 0}}\n"
        + "timeouts: {response_header: 2s}\n");
    client = h2c();
    String body = "0123456789abcdef".repeat(200);
    HttpClientRequest req = client.request(new RequestOptions().setHost("127.0.0.1").setPort(tether.port())
        .setURI("/replay").setMethod(HttpMethod.PUT)).await();
    req.putHeader("Content-Length", Integer.toString(body.length()));
    var answer = req.response().compose(r -> r.body().map(b -> r.statusCode() + " " + b));
    req.write(body.substring(0, 1000));
    req.end(body.substring(1000));
    assertThat(answer.await(6, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo("200 got " + body.length());
    assertThat(seen).hasSize(1);
    assertThat(got).containsExactly(body);
  }
}
