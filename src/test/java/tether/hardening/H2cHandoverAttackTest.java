package tether.hardening;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.buffer.Buffer;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tether.testing.LeakWatch;
import tether.testing.Backends;
import tether.testing.Cli;
import tether.testing.PrometheusText;
import tether.testing.RecordingBackend;
import tether.testing.TetherHarness;
import tether.testing.WebSocketBackend;

/**
 * Attacks on the h2c listener's hand-over from Vert.x's lenient HTTP/1 decoder to Tether's strict one: bodies in
 * pieces around the take-over, 100-continue, pipelining split across packets, HTTP/1.0, keep-alive reuse,
 * WebSocket and h2c upgrades, clients that leave during the hold, and the timeouts that guard these connections.
 */
class H2cHandoverAttackTest {

  private static final String SMUGGLED = "GET /SMUGGLED HTTP/1.1\r\nHost: x\r\n\r\n";
  private static final String CHUNKED_HEAD = "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  private static final String HANDSHAKE = "GET /chat HTTP/1.1\r\nHost: chat.example\r\nConnection: Upgrade\r\n"
      + "Upgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

  private final Backends backends = new Backends();
  private RecordingBackend recording;
  private TetherHarness tether;
  private final List<WebSocketBackend> webSockets = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    if (tether != null) {
      tether.close();
    }
    if (recording != null) {
      recording.close();
    }
    webSockets.forEach(WebSocketBackend::stop);
    backends.close();
  }

  // ---------------------------------------------------------------------------------------------- set-up helpers

  private void startOn(String address, String extra) {
    tether = TetherHarness.start("listen: [{address: 127.0.0.1, port: 0, h2c: true}]\n"
        + "admin: {address: 127.0.0.1, port: 0}\n"
        + "upstreams:\n  app:\n    servers: [{name: s, address: \"" + address + "\"}]\n"
        + (extra.contains("limits:") ? "" : "limits: {max_header_bytes: 4096, max_uri_bytes: 1024, "
        + "max_header_count: 20, max_body_bytes: 100000}\n") + extra);
  }

  private void startRecording(String extra) throws IOException {
    recording = new RecordingBackend();
    startOn("127.0.0.1:" + recording.port(), extra);
  }

  /** A keep-alive Vert.x backend answering "METHOD PATH BODYLENGTH" (it reads the body whole). */
  private void startEcho(String extra) {
    Backends.Backend echo = backends.start("echo", req -> req.body().onSuccess(b ->
        req.response().end(req.method() + " " + req.path() + " " + b.length() + (b.length() > 0 ? " " + b : ""))));
    startOn(echo.address(), extra);
  }

  private Map<String, Double> metrics() {
    return PrometheusText.parse(tether.admin("GET", "/metrics").body());
  }

  private double clientConnections() {
    return metrics().getOrDefault("tether_client_connections", -1.0);
  }

  private void assertNothingSmuggledNorCompleted() {
    assertThat(recording.received()).as("nothing smuggled to the backend").doesNotContain("SMUGGLED")
        .as("never a complete chunked body").doesNotContain("\r\n0\r\n\r\n");
  }

  // ------------------------------------------------------------------------------- a chunked first request in pieces

  /** Head and a partial chunk (held), the rest of the chunk after the release, then a chunk longer than its size. */
  @Test
  void aChunkedFirstRequestInPiecesAroundTheTakeOverWithALaterOverlongChunkIs400() throws Exception {
    startRecording("");
    try (Client c = new Client(tether.port())) {
      c.send(CHUNKED_HEAD + "5\r\nhel");
      await().atMost(Duration.ofSeconds(10)).until(() -> recording.received().contains("hel"));
      c.send("lo\r\n");
      await().atMost(Duration.ofSeconds(10)).until(() -> recording.received().contains("lo\r\n"));
      c.send("3\r\nwor");
      await().atMost(Duration.ofSeconds(10)).until(() -> recording.received().contains("wor"));
      Client.Read read = c.send("ld\r\n0\r\n\r\n" + SMUGGLED).readUntilCloseOrQuiet(3000);
      assertThat(read.text()).startsWith("HTTP/1.1 400");
      assertThat(read.closed()).isTrue();
    }
    assertThat(recording.received()).startsWith("POST /a HTTP/1.1").doesNotContain("ld");
    assertNothingSmuggledNorCompleted();
  }

  /** The head alone first (the decoder holds nothing), then an invalid chunk size once the head was forwarded. */
  @Test
  void aChunkedFirstHeadAloneThenAnInvalidChunkSizeIs400() throws Exception {
    startRecording("");
    try (Client c = new Client(tether.port())) {
      c.send(CHUNKED_HEAD);
      // (Tether sends a chunked head upstream with its first chunk, on any listener: wait for the connection instead)
      await().atMost(Duration.ofSeconds(10)).until(() -> clientConnections() == 1.0);
      Client.Read read = c.send("zz\r\nhello\r\n0\r\n\r\n" + SMUGGLED).readUntilCloseOrQuiet(3000);
      assertThat(read.text()).startsWith("HTTP/1.1 400");
      assertThat(read.closed()).isTrue();
    }
    assertNothingSmuggledNorCompleted();
  }

  /** A 64-bit overflowing chunk size split across two packets (half of it held, half after the release). */
  @Test
  void aChunkSizeOverflowSplitAcrossPacketsIs400() throws Exception {
    startRecording("");
    try (Client c = new Client(tether.port())) {
      c.send(CHUNKED_HEAD + "5\r\nhello\r\n1000000");
      await().atMost(Duration.ofSeconds(10)).until(() -> recording.received().contains("hello"));
      Client.Read read = c.send("0000000005\r\nworld\r\n0\r\n\r\n" + SMUGGLED).readUntilCloseOrQuiet(3000);
      assertThat(read.text()).startsWith("HTTP/1.1 400");
      assertThat(read.closed()).isTrue();
    }
    assertThat(recording.received()).doesNotContain("world");
    assertNothingSmuggledNorCompleted();
  }

  /** A good chunked first request and a pipelined GET, one byte per packet: the sniffer and the hold see crumbs. */
  @Test
  void aChunkedFirstRequestOneBytePerPacketIsServed() throws Exception {
    startEcho("");
    String request = "POST /one HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world"
        + "\r\n0\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\n\r\n";
    try (Client c = new Client(tether.port())) {
      for (char ch : request.toCharArray()) {
        c.send(String.valueOf(ch));
        Thread.sleep(2);
      }
      assertThat(c.readResponse().body()).isEqualTo("POST /one 11 hello world");
      assertThat(c.readResponse().body()).isEqualTo("GET /two 0");
    }
  }

  /** The same, one byte per packet, with a bare LF after a chunk's data: 400, never complete. */
  @Test
  void aMalformedChunkedFirstRequestOneBytePerPacketIs400() throws Exception {
    startRecording("");
    String request = CHUNKED_HEAD + "5\r\nhello\n0\r\n\r\n" + SMUGGLED;
    try (Client c = new Client(tether.port())) {
      for (char ch : request.toCharArray()) {
        if (!c.offer(String.valueOf(ch))) {
          break; // Tether closed already
        }
        Thread.sleep(2);
      }
      Client.Read read = c.readUntilCloseOrQuiet(3000);
      assertThat(read.text()).startsWith("HTTP/1.1 400");
      assertThat(read.closed()).isTrue();
    }
    assertNothingSmuggledNorCompleted();
  }

  // ------------------------------------------------------------------------------------------------- 100-continue

  @Test
  void expectContinueOnAChunkedFirstRequestThenAGoodBodyIsServed() throws Exception {
    startEcho("");
    try (Client c = new Client(tether.port())) {
      c.send("POST /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n");
      assertThat(c.readResponse().status()).isEqualTo(100);
      c.send("5\r\nhello\r\n");
      c.send("0\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(c.readResponse().body()).isEqualTo("POST /e 5 hello");
      assertThat(c.readResponse().body()).isEqualTo("GET /after 0");
    }
  }

  @Test
  void expectContinueOnAChunkedFirstRequestThenAMalformedChunkIs400() throws Exception {
    startRecording("");
    try (Client c = new Client(tether.port())) {
      c.send("POST /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n");
      assertThat(c.readResponse().status()).isEqualTo(100);
      c.send("5\r\nhello\r\n");
      await().atMost(Duration.ofSeconds(10)).until(() -> recording.received().contains("hello"));
      Client.Read read = c.send("5x\r\nworld\r\n0\r\n\r\n" + SMUGGLED).readUntilCloseOrQuiet(3000);
      assertThat(read.text()).startsWith("HTTP/1.1 400");
      assertThat(read.closed()).isTrue();
    }
    assertNothingSmuggledNorCompleted();
  }

  /** Expect on a chunked first request whose client does not wait for the 100 (body in the same packet). */
  @Test
  void expectContinueWithTheMalformedBodySentAtOnceIs400() throws Exception {
    startRecording("");
    try (Client c = new Client(tether.port())) {
      Client.Read read = c.send("POST /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
          + "Transfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n" + SMUGGLED).readUntilCloseOrQuiet(3000);
      assertThat(read.text()).matches("(?s)(HTTP/1\\.1 100 Continue\r\n\r\n)?HTTP/1\\.1 400 .*");
      assertThat(read.closed()).isTrue();
    }
    assertNothingSmuggledNorCompleted();
  }

  @Test
  void expectContinueOnAContentLengthFirstRequestThenPipelinedRequests() throws Exception {
    startEcho("");
    try (Client c = new Client(tether.port())) {
      c.send("POST /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
      assertThat(c.readResponse().status()).isEqualTo(100);
      c.send("hel");
      c.send("loGET /two HTTP/1.1\r\nHost: x\r\n\r\nGET /thr");
      c.send("ee HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(c.readResponse().body()).isEqualTo("POST /e 5 hello");
      assertThat(c.readResponse().body()).isEqualTo("GET /two 0");
      assertThat(c.readResponse().body()).isEqualTo("GET /three 0");
    }
  }

  // -------------------------------------------------------------------------------------------------- pipelining

  @Test
  void aContentLengthFirstRequestAndTwoPipelinedOnesInOnePacketAreAnsweredInOrder() throws Exception {
    startEcho("");
    try (Client c = new Client(tether.port())) {
      c.send("POST /one HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
          + "GET /two HTTP/1.1\r\nHost: x\r\n\r\n"
          + "POST /three HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n");
      assertThat(c.readResponse().body()).isEqualTo("POST /one 5 hello");
      assertThat(c.readResponse().body()).isEqualTo("GET /two 0");
      assertThat(c.readResponse().body()).isEqualTo("POST /three 2 hi");
    }
  }

  /** The same, split at awkward places: inside the first head, inside its body, inside the second head. */
  @Test
  void aContentLengthFirstRequestAndPipelinedOnesSplitAcrossPacketsAreAnsweredInOrder() throws Exception {
    startEcho("");
    try (Client c = new Client(tether.port())) {
      c.send("POST /one HTTP/1.1\r\nHost: x\r\nCont");
      Thread.sleep(30);
      c.send("ent-Length: 5\r\n\r\nhe");
      Thread.sleep(30);
      c.send("lloGET /two HTTP/1.1\r\nHo");
      Thread.sleep(30);
      c.send("st: x\r\n\r\nPOST /three HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n");
      Thread.sleep(30);
      c.send("hi\r\n0\r\n\r\n");
      assertThat(c.readResponse().body()).isEqualTo("POST /one 5 hello");
      assertThat(c.readResponse().body()).isEqualTo("GET /two 0");
      assertThat(c.readResponse().body()).isEqualTo("POST /three 2 hi");
    }
  }

  static Stream<Arguments> smugglingRows() {
    return ClientHardeningTest.rejected()
        .filter(row -> row.get()[0].toString().matches("CL and TE|TE and CL|two differing CL|CL list"
            + "|TE not final chunked|TE identity|TE chunked twice|TE in HTTP/1.0|obs-fold|space before colon on TE"
            + "|invalid chunk size|chunk size overflowing 64 bits|chunk data longer than its size"
            + "|chunk size with junk|chunk size line with a bare LF|chunk data with a bare LF|trailer without a colon"))
        .flatMap(row -> Stream.of("first", "second").map(which -> Arguments.of(row.get()[0], row.get()[1],
            row.get()[2], which)))
        .filter(row -> !(row.get()[0].equals("obs-fold") && row.get()[3].equals("first")));
  }

  /**
   * ClientHardeningTest's smuggling rows with the bad request split in three packets (inside its head, right at
   * the end of its head, in the middle of what follows), as first request and behind a good Content-Length one.
   */
  @ParameterizedTest(name = "{0} ({3} request, split)")
  @MethodSource("smugglingRows")
  void smugglingRowsSplitAcrossPacketsAreRejected(String name, String request, int status, String which)
      throws Exception {
    startRecording("");
    boolean second = which.equals("second");
    String good = "POST /good HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd";
    int headEnd = request.indexOf("\r\n\r\n") + 4;
    List<String> parts = List.of(request.substring(0, 10), request.substring(10, headEnd),
        request.substring(headEnd, headEnd + (request.length() - headEnd) / 2),
        request.substring(headEnd + (request.length() - headEnd) / 2));
    try (Client c = new Client(tether.port())) {
      c.send(second ? good + parts.get(0) : parts.get(0));
      for (String part : parts.subList(1, parts.size())) {
        Thread.sleep(30);
        if (!part.isEmpty() && !c.offer(part)) {
          break;
        }
      }
      Client.Read read = c.readUntilCloseOrQuiet(3000);
      assertThat(read.text()).as(name).matches("(?s)" + (second ? "HTTP/1\\.1 200 .*" : "")
          + "HTTP/1\\.[01] " + status + " .*");
      assertThat(read.closed()).as(name + ": closed").isTrue();
    }
    assertNothingSmuggledNorCompleted();
  }

  @Test
  void aMalformedThirdRequestIs400AfterTwoGoodOnes() throws Exception {
    startRecording("");
    try (Client c = new Client(tether.port())) {
      c.send("GET /one HTTP/1.1\r\nHost: x\r\n\r\nPOST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"
          + "POST /three HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n" + SMUGGLED);
      assertThat(c.readResponse().status()).isEqualTo(200);
      assertThat(c.readResponse().status()).isEqualTo(200);
      assertThat(c.readResponse().status()).isEqualTo(400);
      assertThat(c.readUntilCloseOrQuiet(3000).closed()).isTrue();
    }
    assertThat(recording.received()).contains("GET /one", "POST /two").doesNotContain("hello");
    assertNothingSmuggledNorCompleted();
  }

  /** A Content-Length first request, then a chunked second one whose later chunk (next packet) is malformed. */
  @Test
  void aChunkedSecondRequestWithAMalformedChunkInALaterPacketIs400() throws Exception {
    startRecording("");
    try (Client c = new Client(tether.port())) {
      c.send("POST /one HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi" + CHUNKED_HEAD + "5\r\nhello\r\n");
      assertThat(c.readResponse().status()).isEqualTo(200);
      await().atMost(Duration.ofSeconds(10)).until(() -> recording.received().contains("hello"));
      Client.Read read = c.send("5\r\nworld\n0\r\n\r\n" + SMUGGLED).readUntilCloseOrQuiet(3000);
      assertThat(read.text()).startsWith("HTTP/1.1 400");
      assertThat(read.closed()).isTrue();
    }
    assertNothingSmuggledNorCompleted();
  }

  // ----------------------------------------------------------------------------------------------------- HTTP/1.0

  @Test
  void anHttp10FirstRequestIsAnsweredAndClosed() throws Exception {
    startEcho("");
    try (Client c = new Client(tether.port())) {
      Client.Read read = c.send("GET /old HTTP/1.0\r\n\r\n").readUntilCloseOrQuiet(5000);
      assertThat(read.text()).startsWith("HTTP/1.").contains(" 200 ").endsWith("GET /old 0");
      assertThat(read.closed()).isTrue();
    }
  }

  /** An HTTP/1.0 keep-alive first request; the next head is the strict decoder's: an obs-fold there is a 400. */
  @Test
  void anHttp10KeepAliveFirstRequestThenAnObsFoldIs400() throws Exception {
    startEcho("");
    try (Client c = new Client(tether.port())) {
      c.send("POST /old HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi");
      Client.Response r = c.readResponse();
      assertThat(r.body()).isEqualTo("POST /old 2 hi");
      c.send("GET /two HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n folded\r\n\r\n");
      assertThat(c.readResponse().status()).isEqualTo(400);
      assertThat(c.readUntilCloseOrQuiet(3000).closed()).isTrue();
    }
    assertThat(backends.get("echo").served().get()).isEqualTo(1);
  }

  // -------------------------------------------------------------------------------------------------- keep-alive

  /** 50 sequential requests on one connection (chunked bodies in two packets every third one), then a bad one. */
  @Test
  void fiftySequentialRequestsOnOneConnectionThenTheStrictRulesStillHold() throws Exception {
    startEcho("");
    try (Client c = new Client(tether.port())) {
      for (int i = 0; i < 50; i++) {
        if (i % 3 == 0) {
          c.send("POST /n" + i + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n");
          c.send("0\r\n\r\n");
          assertThat(c.readResponse().body()).isEqualTo("POST /n" + i + " 3 abc");
        } else {
          c.send("GET /n" + i + " HTTP/1.1\r\nHost: x\r\n\r\n");
          assertThat(c.readResponse().body()).isEqualTo("GET /n" + i + " 0");
        }
      }
      c.send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n");
      assertThat(c.readResponse().status()).isEqualTo(400);
      assertThat(c.readUntilCloseOrQuiet(3000).closed()).isTrue();
    }
    assertThat(backends.get("echo").served().get()).isEqualTo(50);
    await().atMost(Duration.ofSeconds(5)).until(() -> clientConnections() == 0.0);
  }

  // --------------------------------------------------------------------------------------------------- WebSocket

  private void startWebSocket() {
    WebSocketBackend echo = WebSocketBackend.echo(backends.vertx(), "ws");
    webSockets.add(echo);
    startOn(echo.address(), "");
  }

  /** A masked text frame (RFC 6455 §5.2). */
  private static String maskedText(String text) {
    byte[] mask = {1, 2, 3, 4};
    StringBuilder f = new StringBuilder().append((char) 0x81).append((char) (0x80 | text.length()));
    for (byte b : mask) {
      f.append((char) b);
    }
    for (int i = 0; i < text.length(); i++) {
      f.append((char) (text.charAt(i) ^ mask[i % 4]));
    }
    return f.toString();
  }

  @Test
  void aWebSocketUpgradeAsTheFirstRequestOfAnH2cListenerTunnels() throws Exception {
    startWebSocket();
    try (Client c = new Client(tether.port())) {
      assertThat(c.send(HANDSHAKE).readUntil("\r\n\r\n", 10_000)).startsWith("HTTP/1.1 101");
      assertThat(c.send(maskedText("hi")).readUntil("ws:hi", 10_000)).endsWith("ws:hi");
      assertThat(c.send(maskedText("again")).readUntil("ws:again", 10_000)).endsWith("ws:again");
    }
  }

  @Test
  void aWebSocketUpgradeAsTheSecondRequestOfAnH2cListenerTunnels() throws Exception {
    startWebSocket();
    try (Client c = new Client(tether.port())) {
      c.send("POST /plain HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n");
      assertThat(c.readResponse().body()).isEqualTo("ws");
      assertThat(c.send(HANDSHAKE).readUntil("\r\n\r\n", 10_000)).startsWith("HTTP/1.1 101");
      assertThat(c.send(maskedText("hi")).readUntil("ws:hi", 10_000)).endsWith("ws:hi");
    }
  }

  // ------------------------------------------------------------------------------------------------ h2c upgrade

  @Test
  void curlsUpgradeToH2cStillGetsHttp2() {
    startEcho("");
    Cli.Result get = Cli.run(20, "curl", "-sS", "--http2", "-w", " %{http_version} %{http_code}",
        "http://127.0.0.1:" + tether.port() + "/up");
    assertThat(get.output()).isEqualTo("GET /up 0 2 200");
    Cli.Result again = Cli.run(20, "curl", "-sS", "--http2", "-w", " %{http_version} %{http_code}",
        "http://127.0.0.1:" + tether.port() + "/a", "http://127.0.0.1:" + tether.port() + "/b");
    assertThat(again.output()).isEqualTo("GET /a 0 2 200GET /b 0 2 200");
  }

  /** A GET upgrade has no body: none is invented (no Transfer-Encoding towards the backend). */
  @Test
  void aGetUpgradeToH2cIsForwardedWithoutABody() throws Exception {
    startRecording("");
    Cli.Result get = Cli.run(20, "curl", "-sS", "--http2", "-w", " %{http_version} %{http_code}",
        "http://127.0.0.1:" + tether.port() + "/up");
    assertThat(get.output()).isEqualTo("ok 2 200");
    assertThat(recording.received()).startsWith("GET /up HTTP/1.1").doesNotContainIgnoringCase("transfer-encoding")
        .doesNotContainIgnoringCase("content-length");
  }

  @Test
  void anUpgradeToH2cWithABodyStillDeliversTheBody() {
    startEcho("");
    Cli.Result post = Cli.run(20, "curl", "-sS", "--http2", "--data-binary", "payload", "-w",
        " %{http_version} %{http_code}", "http://127.0.0.1:" + tether.port() + "/up");
    assertThat(post.output()).endsWith(" 200").startsWith("POST /up 7 payload");
  }

  /**
   * {@code Upgrade: h2c} without {@code HTTP2-Settings}: Vert.x's h2c handler answers 400 with
   * {@code Connection: close}. The connection must then be closed: what follows is never served (a front proxy
   * that saw the 400 and Connection: close expects nothing more on it).
   */
  @Disabled("bug (Vert.x 5.0.7 Http1xUpgradeToH2CHandler, before Tether hears of the connection): the 400 it writes"
      + " says 'connection: close' but the connection stays open and the request pipelined behind is served by"
      + " Tether (got '400 Bad Request / connection: close' then '200 OK ... ok', backend received GET /SMUGGLED)")
  @Test
  void anH2cUpgradeWithoutSettingsIsAnsweredAndNothingAfterItIsServed() throws Exception {
    startRecording("");
    try (Client c = new Client(tether.port())) {
      Client.Read read = c.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
          + SMUGGLED).readUntilCloseOrQuiet(3000);
      assertThat(read.text()).as("answered, once").matches("(?s)HTTP/1\\.1 [0-9]{3} .*")
          .doesNotContainPattern("(?s)HTTP/1\\.1.*HTTP/1\\.1");
      assertThat(read.closed()).as("closed").isTrue();
    }
    assertThat(recording.received()).doesNotContain("SMUGGLED");
  }

  /**
   * The same with a body framed both ways (Transfer-Encoding and Content-Length): Vert.x's lenient decoder drops
   * the Content-Length and reads the chunked body, so what follows the zero chunk would be a request of its own.
   */
  @Disabled("bug (Vert.x 5.0.7 Http1xUpgradeToH2CHandler): 400 'connection: close' but not closed (3 s quiet, open);"
      + " the body is read by Vert.x's lenient decoder (Content-Length dropped for the chunked coding); its"
      + " HttpContent is dropped unreleased")
  @Test
  void anH2cUpgradeWithoutSettingsAndBothFramingsSmugglesNothing() throws Exception {
    startRecording("");
    try (Client c = new Client(tether.port())) {
      Client.Read read = c.send("POST / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n"
          + "Transfer-Encoding: chunked\r\nContent-Length: " + ("0\r\n\r\n" + SMUGGLED).length() + "\r\n\r\n"
          + "0\r\n\r\n" + SMUGGLED).readUntilCloseOrQuiet(3000);
      assertThat(read.text()).startsWith("HTTP/1.1 400");
      assertThat(read.closed()).isTrue();
    }
    assertThat(recording.received()).doesNotContain("SMUGGLED");
  }

  private static final String H2_PREFACE_AND_SETTINGS = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\4\0\0\0\0\0";

  /**
   * A real h2c upgrade (valid settings) whose request carries both framings (Transfer-Encoding and Content-Length):
   * on any other listener a 400 (RFC 9112 §6.3, as nginx); here it must at least never reach a backend as a request
   * whose framing Tether did not check.
   */
  @Disabled("limit: the whole upgrade request is Vert.x's (lenient decoder): Transfer-Encoding plus Content-Length is"
      + " upgraded (101) with Content-Length dropped and Transfer-Encoding not passed on, so Tether's HTTP/2 stream"
      + " shows neither and cannot answer 400 as on other listeners")
  @Test
  void anH2cUpgradeWithBothFramingsIsRefused() throws Exception {
    List<String> bodies = Collections.synchronizedList(new ArrayList<>());
    startOn(backends.bodies("b", bodies).address(), "");
    try (Client c = new Client(tether.port())) {
      Client.Read read = c.send("POST / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
          + "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n"
          + "Transfer-Encoding: chunked\r\nContent-Length: 10\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
          + H2_PREFACE_AND_SETTINGS).readUntilCloseOrQuiet(3000);
      assertThat(read.text()).doesNotStartWith("HTTP/1.1 101");
    }
    assertThat(backends.get("b").served().get()).isZero();
  }

  /**
   * A good h2c upgrade whose request body is chunked (curl --http2 with Transfer-Encoding: chunked): the backend
   * must get the whole body, never a shorter one passed off as complete.
   */
  @Test
  void anH2cUpgradeWithAChunkedBodyDeliversTheWholeBody() {
    List<String> bodies = Collections.synchronizedList(new ArrayList<>());
    startOn(backends.bodies("b", bodies).address(), "");
    Cli.Result post = Cli.run(20, "curl", "-sS", "--http2", "-H", "Transfer-Encoding: chunked", "--data-binary",
        "payload", "-w", " %{http_version} %{http_code}", "http://127.0.0.1:" + tether.port() + "/up");
    assertThat(bodies).as("curl: " + post.output()).containsExactly("payload");
  }

  /** The same with a raw client: a chunked upgrade body in two chunks. */
  @Test
  void anH2cUpgradeWithARawChunkedBodyDeliversTheWholeBody() throws Exception {
    List<String> bodies = Collections.synchronizedList(new ArrayList<>());
    startOn(backends.bodies("b", bodies).address(), "");
    try (Client c = new Client(tether.port())) {
      c.send("POST /up HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
          + "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n"
          + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n" + H2_PREFACE_AND_SETTINGS);
      assertThat(c.readUntil("\r\n\r\n", 5000)).startsWith("HTTP/1.1 101");
      await().atMost(Duration.ofSeconds(10)).until(() -> !bodies.isEmpty());
      assertThat(bodies).containsExactly("hello world");
    }
  }

  // ------------------------------------------------------------------------------ clients that leave in the hold

  /**
   * 200 clients (8 at a time) send a chunked head and part of a chunk in one packet (the new decoder holds it) and
   * reset at once; 200 more half-close instead. Every connection is closed (the gauge returns to 0), no backend
   * sees a complete body, and no buffer leaks (Netty's detector, paranoid for this test: every buffer tracked; the
   * build's default samples one in 128, which costs half as much on the streaming tests).
   */
  @Test
  void clientsThatResetOrHalfCloseDuringTheHoldLeaveNothingBehind() throws Exception {
    startRecording("");
    try (LeakWatch leaks = LeakWatch.start()) {
      ExecutorService pool = Executors.newFixedThreadPool(8);
      AtomicInteger halfClosedAnswered = new AtomicInteger();
      try {
        List<Future<?>> done = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
          boolean reset = i % 2 == 0;
          done.add(pool.submit(() -> {
            try (Socket s = new Socket("127.0.0.1", tether.port())) {
              s.setTcpNoDelay(true);
              s.setSoTimeout(10_000);
              s.getOutputStream().write((CHUNKED_HEAD + "a\r\nhello").getBytes(StandardCharsets.ISO_8859_1));
              s.getOutputStream().flush();
              if (reset) {
                s.setSoLinger(true, 0);
              } else {
                s.shutdownOutput();
                InputStream in = s.getInputStream();
                while (in.read() >= 0) {
                  halfClosedAnswered.incrementAndGet();
                }
              }
            }
            return null;
          }));
        }
        for (Future<?> f : done) {
          f.get(60, TimeUnit.SECONDS);
        }
      } finally {
        pool.shutdownNow();
      }
      await().atMost(Duration.ofSeconds(20)).until(() -> clientConnections() == 0.0);
      assertThat(recording.received()).doesNotContain("\r\n0\r\n\r\n");
      leaks.assertNone();
    }
    // Tether is still serving
    try (Client c = new Client(tether.port())) {
      assertThat(c.send("GET /still HTTP/1.1\r\nHost: x\r\n\r\n").readResponse().status()).isEqualTo(200);
    }
  }

  // ----------------------------------------------------------------------------------------------------- timeouts

  @Test
  void anIdleKeepAliveClientIsClosedAtTheIdleTimeout() throws Exception {
    startEcho("timeouts: {idle: 1s, response_header: 5s}\n");
    try (Client c = new Client(tether.port())) {
      c.send("POST /one HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n");
      assertThat(c.readResponse().body()).isEqualTo("POST /one 2 hi");
      long start = System.nanoTime();
      Client.Read read = c.readUntilCloseOrQuiet(6000);
      assertThat(read.closed()).as("closed while idle").isTrue();
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofMillis(500), Duration.ofSeconds(4));
    }
  }

  @Test
  void aClientThatStopsReadingALargeResponseIsClosedAtTheIdleTimeout() throws Exception {
    Buffer big = Buffer.buffer(new byte[32 << 20]);
    Backends.Backend a = backends.start("big", req -> req.response().end(big));
    startOn(a.address(), "timeouts: {idle: 1s, response_header: 5s}\n");
    try (Socket s = new Socket("127.0.0.1", tether.port())) {
      s.setReceiveBufferSize(4096);
      s.getOutputStream().write("GET /big HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      s.getOutputStream().flush();
      await().atMost(Duration.ofSeconds(5)).until(() -> clientConnections() == 1.0);
      // never read: at the idle timeout the connection goes
      await().atMost(Duration.ofSeconds(10)).pollDelay(Duration.ofMillis(500)).until(() -> clientConnections() == 0.0);
    }
  }

  @Test
  void aSlowBackendWithinResponseHeaderIsWaitedForOnTheFirstAndALaterRequest() throws Exception {
    Backends.Backend slow = backends.start("slow", req -> req.body().onSuccess(b ->
        backends.vertx().setTimer(2200, t -> req.response().end("late " + b.length()))));
    startOn(slow.address(), "timeouts: {idle: 1s, response_header: 5s}\n");
    try (Client c = new Client(tether.port())) {
      c.send("POST /one HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n");
      assertThat(c.readResponse().body()).isEqualTo("late 2");
      c.send("GET /two HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(c.readResponse().body()).isEqualTo("late 0");
      c.send("POST /three HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
      assertThat(c.readResponse().body()).isEqualTo("late 3");
    }
  }

  /** Same with a Content-Length first request (the take-over at its end) and a GET first request. */
  @Test
  void aSlowBackendIsWaitedForOnAGetFirstRequest() throws Exception {
    Backends.Backend slow = backends.start("slow", req ->
        backends.vertx().setTimer(2200, t -> req.response().end("late")));
    startOn(slow.address(), "timeouts: {idle: 1s, response_header: 5s}\n");
    try (Client c = new Client(tether.port())) {
      c.send("GET /one HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(c.readResponse().body()).isEqualTo("late");
    }
  }

  /**
   * A client that connects and sends nothing: on other listeners closed at timeouts.header. On an h2c listener
   * Tether is not told of the connection before its first head.
   */
  @Disabled("limit (README 'Limits of this version'): on an h2c listener Tether hears of an HTTP/1.1 connection only"
      + " at its first head, so timeouts.header never applies to it; only timeouts.idle closes it (measured: not closed"
      + " within 8 s with header 1s, idle 30s; closed at 2.0 s with idle 2s)")
  @Test
  void aSilentConnectionIsClosedAtTheHeaderTimeout() throws Exception {
    startEcho("timeouts: {header: 1s, idle: 30s}\n");
    try (Client c = new Client(tether.port())) {
      long start = System.nanoTime();
      Client.Read read = c.readUntilCloseOrQuiet(8000);
      assertThat(read.closed()).as("closed, not silent for 8 s").isTrue();
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(4));
    }
  }

  /** A first head trickled (slowloris) a byte every 300 ms: closed at timeouts.header (1 s), well before idle. */
  @Disabled("limit (README 'Limits of this version'): a first head trickled a byte every 300 ms on an h2c listener"
      + " is still open after 6 s with timeouts.header 1s (idle 30s): only the idle timeout guards the first head")
  @Test
  void aTrickledFirstHeadIsClosedAtTheHeaderTimeout() throws Exception {
    startEcho("timeouts: {header: 1s, idle: 30s}\n");
    try (Client c = new Client(tether.port())) {
      long start = System.nanoTime();
      boolean open = true;
      String head = "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + "a".repeat(40);
      for (int i = 0; i < head.length() && open; i++) {
        open = c.offer(head.substring(i, i + 1)) && !c.closedNow();
        Thread.sleep(300);
        if (Duration.ofNanos(System.nanoTime() - start).compareTo(Duration.ofSeconds(6)) > 0) {
          break;
        }
      }
      assertThat(open ? c.readUntilCloseOrQuiet(100).closed() : true).as("closed within 6 s").isTrue();
    }
  }

  /** What does guard the first head there: timeouts.idle closes a silent and a half-sent connection. */
  @Test
  void aSilentOrHalfSentFirstHeadIsClosedAtTheIdleTimeout() throws Exception {
    startEcho("timeouts: {header: 1s, idle: 2s}\n");
    for (String sent : List.of("", "GET / HTTP/1.1\r\nHost: x\r\n")) {
      try (Client c = new Client(tether.port())) {
        c.send(sent);
        long start = System.nanoTime();
        assertThat(c.readUntilCloseOrQuiet(6000).closed()).as("closed: [" + sent + "]").isTrue();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
      }
    }
  }

  @Disabled("bug: on an h2c listener clientConnected (the max_connections count) runs only at the first head;"
      + " 6 connections that sent 'GET / HTTP/1.1\\r\\n' with max_connections 2 all stay open (5 s), uncounted")
  /**
   * limits.max_connections on an h2c listener: connections that have not sent a full first head are not counted
   * (Tether hears of them only at that head), so the limit does not bound them.
   */
  @Test
  void connectionsWithoutAFirstHeadCountAgainstMaxConnections() throws Exception {
    startEcho("limits: {max_connections: 2}\ntimeouts: {header: 10s, idle: 30s}\n");
    List<Client> held = new ArrayList<>();
    try {
      for (int i = 0; i < 6; i++) {
        Client c = new Client(tether.port());
        held.add(c);
        c.send("GET / HTTP/1.1\r\n");
      }
      // over the limit, a connection is closed at once: at most two of these six stay open
      await().atMost(Duration.ofSeconds(5)).until(() -> held.stream().filter(Client::closedNow).count() >= 4);
    } finally {
      for (Client c : held) {
        c.close();
      }
    }
  }

  // -------------------------------------------------------------------------------------------------- raw client

  /** A raw socket with Nagle off (each send is its own packet on loopback), with an HTTP/1.1 response reader. */
  static final class Client implements AutoCloseable {

    record Read(String text, boolean closed) {}

    record Response(int status, Map<String, String> headers, String body) {}

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    Client(int port) throws IOException {
      socket = new Socket("127.0.0.1", port);
      socket.setTcpNoDelay(true);
      socket.setSoTimeout(10_000);
      in = new BufferedInputStream(socket.getInputStream());
      out = socket.getOutputStream();
    }

    /** False if the peer had closed (the write failed). */
    boolean offer(String text) {
      try {
        out.write(text.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        return true;
      } catch (IOException e) {
        return false;
      }
    }

    Client send(String text) throws IOException {
      out.write(text.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      return this;
    }

    /** Whether the peer closed: a read that sees end of stream within 50 ms (consumes what is there). */
    boolean closedNow() {
      try {
        socket.setSoTimeout(50);
        while (true) {
          int b = in.read();
          if (b < 0) {
            return true;
          }
        }
      } catch (SocketTimeoutException e) {
        return false;
      } catch (IOException e) {
        return true;
      }
    }

    Read readUntilCloseOrQuiet(int quietMillis) throws IOException {
      socket.setSoTimeout(quietMillis);
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      byte[] buf = new byte[8192];
      boolean closed;
      try {
        int n;
        while ((n = in.read(buf)) >= 0) {
          got.write(buf, 0, n);
        }
        closed = true;
      } catch (SocketTimeoutException e) {
        closed = false;
      } catch (IOException e) {
        closed = true;
      }
      return new Read(got.toString(StandardCharsets.ISO_8859_1), closed);
    }

    String readUntil(String suffix, int timeoutMillis) throws IOException {
      socket.setSoTimeout(timeoutMillis);
      StringBuilder got = new StringBuilder();
      try {
        int b;
        while (!got.toString().endsWith(suffix) && (b = in.read()) >= 0) {
          got.append((char) b);
        }
      } catch (SocketTimeoutException e) {
        // what came so far
      }
      return got.toString();
    }

    private String line() throws IOException {
      StringBuilder l = new StringBuilder();
      int b;
      while ((b = in.read()) >= 0) {
        if (b == '\n') {
          break;
        }
        if (b != '\r') {
          l.append((char) b);
        }
      }
      if (b < 0 && l.length() == 0) {
        throw new IOException("closed before a response");
      }
      return l.toString();
    }

    /** One response (a 1xx has no body); bodies framed by Content-Length, chunked, or the close. */
    Response readResponse() throws IOException {
      socket.setSoTimeout(10_000);
      String status = line();
      int code = Integer.parseInt(status.split(" ")[1]);
      Map<String, String> headers = new LinkedHashMap<>();
      for (String l = line(); !l.isEmpty(); l = line()) {
        int colon = l.indexOf(':');
        headers.put(l.substring(0, colon).trim().toLowerCase(Locale.ROOT), l.substring(colon + 1).trim());
      }
      if (code / 100 == 1) {
        return new Response(code, headers, "");
      }
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      if (headers.containsKey("content-length")) {
        int n = Integer.parseInt(headers.get("content-length"));
        body.write(in.readNBytes(n));
      } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
        for (int size = Integer.parseInt(line().split(";")[0].trim(), 16); size > 0;
             size = Integer.parseInt(line().split(";")[0].trim(), 16)) {
          body.write(in.readNBytes(size));
          line();
        }
        for (String l = line(); !l.isEmpty(); l = line()) {
          // trailers
        }
      } else {
        body.write(in.readAllBytes());
      }
      return new Response(code, headers, body.toString(StandardCharsets.ISO_8859_1));
    }

    @Override
    public void close() {
      try {
        socket.close();
      } catch (IOException e) {
        // closing
      }
    }
  }
}
