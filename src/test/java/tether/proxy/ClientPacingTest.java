package tether.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tether.testing.Backends;
import tether.testing.ProxyTestBase;
import tether.testing.RawHttp;
import tether.testing.TetherHarness;
import tether.upstream.Backend;

/**
 * Timeouts that fit real clients (issue 11 items 4-5): a slow upload is not a slow server, and
 * {@code Expect: 100-continue} is answered by Tether as soon as it reads the body.
 */
class ClientPacingTest extends ProxyTestBase {

  private final AtomicReference<String> expectSeen = new AtomicReference<>();

  private void startEcho() {
    Backends.Backend echo = backends.start("echo", req -> {
      expectSeen.set(req.getHeader("Expect"));
      req.body().onSuccess(b -> req.response().end("got " + b.length() + ": " + b));
    });
    tether = TetherHarness.start(upstream("", echo) + "timeouts: {response_header: 1s, body: 5s}\n");
  }

  @Test
  void aSlowUploadLongerThanTheResponseTimeoutArrivesIntact() throws Exception {
    startEcho();
    try (RawHttp raw = new RawHttp(tether.port())) {
      raw.send("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nConnection: close\r\n\r\n");
      for (char c : "abcdef".toCharArray()) {
        Thread.sleep(400); // one byte every 400 ms: 2.4 s in all, the response timeout is 1 s
        raw.send(String.valueOf(c));
      }
      assertThat(raw.readUntilCloseOrQuiet(5000).text()).startsWith("HTTP/1.1 200").endsWith("got 6: abcdef");
    }
  }

  @Test
  void aSlowChunkedUploadArrivesIntact() throws Exception {
    startEcho();
    try (RawHttp raw = new RawHttp(tether.port())) {
      raw.send("POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
      for (String chunk : List.of("ab", "cd", "ef")) {
        Thread.sleep(600);
        raw.send("2\r\n" + chunk + "\r\n");
      }
      raw.send("0\r\n\r\n");
      assertThat(raw.readUntilCloseOrQuiet(5000).text()).startsWith("HTTP/1.1 200").endsWith("got 6: abcdef");
    }
  }

  @Test
  void aServerSlowAfterTheUploadStillGets504() throws Exception {
    Backends.Backend slow = backends.start("slow", req -> req.body().onSuccess(b ->
        backends.vertx().setTimer(3000, t -> req.response().end("late"))));
    tether = TetherHarness.start(upstream("", slow) + "timeouts: {response_header: 1s}\n");
    try (RawHttp raw = new RawHttp(tether.port())) {
      assertThat(raw.send("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nab")
          .readUntilCloseOrQuiet(5000)
          .text()).startsWith("HTTP/1.1 504");
    }
  }

  /** Streamed body (POST), held body (small PUT): 100 Continue at once, never the client's expect timeout. */
  @Test
  void expect100ContinueIsAnsweredByTetherForStreamedAndHeldBodies() throws Exception {
    startEcho();
    for (String method : List.of("POST", "PUT")) {
      try (RawHttp raw = new RawHttp(tether.port())) {
        raw.send(method + " /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n"
            + "Connection: close\r\n\r\n");
        // read to the end of the 100, bounded
        assertThat(raw.readUntil("\r\n\r\n", 5000)).as(method).isEqualTo("HTTP/1.1 100 Continue\r\n\r\n");
        assertThat(raw.send("hello").readUntilCloseOrQuiet(5000).text()).as(method).startsWith("HTTP/1.1 200")
            .endsWith("got 5: hello");
      }
      assertThat(expectSeen.get()).as("Expect is Tether's to answer, not forwarded").isNull();
    }
  }

  @Test
  void aRefusedRequestWithExpectGetsItsAnswerWithout100() throws Exception {
    startEcho();
    try (RawHttp raw = new RawHttp(tether.port())) {
      RawHttp.Read read = raw.send("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999\r\n"
          + "Expect: 100-continue\r\n\r\n").readUntilCloseOrQuiet(5000);
      assertThat(read.text()).startsWith("HTTP/1.1 413");
    }
  }

  /** The issue's example with a real client: curl waits up to 10 s for 100 Continue. */
  @Test
  void curlWithExpectDoesNotWaitForItsExpectTimeout(@TempDir Path dir) throws Exception {
    Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/curl")), "curl is not installed");
    Backends.Backend unauthorized = backends.start("auth", req -> {
      if (req.method().name().equals("PUT")) {
        req.response().setStatusCode(401).end("login first"); // without reading the body
      } else {
        req.body().onSuccess(b -> req.response().end("got " + b.length()));
      }
    });
    tether = TetherHarness.start(upstream("", unauthorized));
    Path body = Files.write(dir.resolve("body"), new byte[2000]);
    for (String method : List.of("POST", "PUT")) {
      Process curl = new ProcessBuilder("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--expect100-timeout",
          "10", "-H", "Expect: 100-continue", "-X", method, "--data-binary", "@" + body, tether.url("/x"))
          .redirectErrorStream(true).start();
      assertThat(curl.waitFor(8, TimeUnit.SECONDS)).as(method + " done well before curl's 10 s").isTrue();
      assertThat(new String(curl.getInputStream().readAllBytes())).isEqualTo(method.equals("PUT") ? "401" : "200");
    }
  }

  /** A body that goes silent for response_header is cut: the client connection closes, never a clean end. */
  @Test
  void aResponseBodyThatGoesSilentIsCutAfterTheResponseTimeout() throws Exception {
    Backends.Backend stalls = backends.start("stalls", req -> req.response().setChunked(true).write("partial"));
    tether = TetherHarness.start(upstream("", stalls) + "timeouts: {response_header: 1s}\n");
    try (RawHttp raw = new RawHttp(tether.port())) {
      RawHttp.Read read = raw.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n").readUntilCloseOrQuiet(5000);
      assertThat(read.text()).startsWith("HTTP/1.1 200").contains("partial").doesNotContain("\r\n0\r\n\r\n");
      assertThat(read.closed()).as("closed by Tether within the 5 s bound").isTrue();
    }
  }

  /**
   * A body that stalls gets 408 once {@code timeouts.body} passes, and the connection closes, whether Tether holds
   * it (a small PUT or DELETE: replayable) or streams it (POST, a chunked PUT); the server never gets it whole.
   */
  @ParameterizedTest
  @ValueSource(strings = {"PUT length", "DELETE length", "POST length", "PUT chunked"})
  void aStalledBodyGets408AndNeverReachesTheServerWhole(String kind) throws Exception {
    List<String> whole = new CopyOnWriteArrayList<>();
    Backends.Backend echo = backends.bodies("echo", whole);
    tether = TetherHarness.start(upstream("", echo) + "timeouts: {response_header: 5s, body: 1s}\n");
    String method = kind.split(" ")[0];
    String rest = kind.endsWith("chunked") ? "Transfer-Encoding: chunked\r\n\r\n5\r\nab" : "Content-Length: 10\r\n\r\nabc";
    try (RawHttp raw = new RawHttp(tether.port())) {
      RawHttp.Read read = raw.send(method + " /up HTTP/1.1\r\nHost: x\r\n" + rest).readUntilCloseOrQuiet(8000);
      assertThat(read.text()).as(kind + ": the body timeout's answer, not the response timeout's 504")
          .startsWith("HTTP/1.1 408");
      assertThat(read.closed()).as(kind).isTrue();
    }
    assertThat(whole.size()).as(kind + ": bodies the server read whole").isZero();
  }

  /**
   * A client that stops reading a large response for three times {@code timeouts.response_header} is not a silent
   * server: nothing is cut, nothing counts against the server, and the body arrives whole once it reads again
   * (a keep-alive GET takes the fast path, one with {@code Connection: close} Vert.x's).
   */
  @ParameterizedTest(name = "keep-alive {0}")
  @ValueSource(booleans = {true, false})
  void aClientThatStopsReadingIsNotASilentServer(boolean keepAlive) throws Exception {
    long chunks = 512; // 32 MiB: far more than the sockets' buffers hold
    long size = chunks * StreamingTest.CHUNK;
    Backends.Backend big = backends.start("big", req -> StreamingTest.writeChunks(
        req.response().putHeader("Content-Length", Long.toString(size)), 0, chunks));
    RecordingListener recorder = new RecordingListener();
    List<String> blamed = recorder.blamed;
    tether = TetherHarness.start(upstream("", big) + "timeouts: {response_header: 1s}\n", 1, List.of(recorder));
    try (Socket s = slowReader(tether.port())) {
      s.getOutputStream().write(("GET /big HTTP/1.1\r\nHost: x\r\n" + (keepAlive ? "" : "Connection: close\r\n")
          + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
      InputStream in = s.getInputStream();
      StringBuilder head = new StringBuilder();
      while (head.length() < 16_384 && !head.toString().endsWith("\r\n\r\n")) {
        int c = in.read();
        assertThat(c).as("the head").isNotNegative();
        head.append((char) c);
      }
      assertThat(head.toString()).startsWith("HTTP/1.1 200").contains("Content-Length: " + size);
      long read = in.readNBytes(100_000).length;
      Thread.sleep(3000); // the client reads nothing for three response timeouts (the scenario, not a wait)
      byte[] buf = new byte[64 * 1024];
      int n;
      while (read < size && (n = in.read(buf)) >= 0) {
        read += n;
      }
      assertThat(read).as("body bytes").isEqualTo(size);
    }
    assertThat(blamed).as("failures counted against the server").isEmpty();
  }

  /**
   * A client that stops reading altogether is ended by {@code timeouts.idle} (nginx's {@code send_timeout}), on
   * either path, not after {@code shutdown_timeout} more: its connection closes, the response cut short.
   */
  @ParameterizedTest(name = "keep-alive {0}")
  @ValueSource(booleans = {true, false})
  void aClientThatNeverReadsAgainIsClosedAfterTheIdleTimeout(boolean keepAlive) throws Exception {
    long chunks = 512;
    long size = chunks * StreamingTest.CHUNK;
    Backends.Backend big = backends.start("big", req -> StreamingTest.writeChunks(
        req.response().putHeader("Content-Length", Long.toString(size)), 0, chunks));
    tether = TetherHarness.start(upstream("", big) + "timeouts: {response_header: 1s, idle: 2s}\n"
        + "shutdown_timeout: 60s\n");
    try (Socket s = slowReader(tether.port())) {
      s.getOutputStream().write(("GET /big HTTP/1.1\r\nHost: x\r\n" + (keepAlive ? "" : "Connection: close\r\n")
          + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
      InputStream in = s.getInputStream();
      long read = in.readNBytes(100_000).length;
      Thread.sleep(4000); // the client reads nothing for twice the idle timeout (the scenario, not a wait)
      s.setSoTimeout(15_000); // (bounded: the connection was closed by the idle timeout long ago)
      byte[] buf = new byte[64 * 1024];
      int n;
      while ((n = in.read(buf)) >= 0) {
        read += n;
      }
      // a close held back until the response's end would let the whole body through once the client read again
      assertThat(read).as("bytes before the close").isLessThan(size);
    }
  }

  /**
   * A client socket to {@code port} with a small receive buffer (64 KiB: it fills at once when the client stops
   * reading) and reads bounded at 10 s.
   */
  static Socket slowReader(int port) throws java.io.IOException {
    Socket s = new Socket();
    s.setReceiveBufferSize(64 * 1024);
    s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
    s.setSoTimeout(10_000);
    return s;
  }
}
