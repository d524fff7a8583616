package tether.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tether.testing.LeakWatch;
import tether.testing.RawHttp;
import tether.testing.ScriptedBackends;
import tether.testing.TetherHarness;

/**
 * The fast path's hand-encoded request head ({@link ForwardedHead}) attacked end to end with a raw backend that
 * records the bytes it gets: what it refuses, what it forwards, and that it forwards what the Vert.x path forwards
 * for the same client head (the same request with {@code Connection: close}, which Vert.x serves).
 */
class ForwardedHeadAttackTest {

  private final ScriptedBackends scripted = new ScriptedBackends();
  private final Queue<String> seen = new ConcurrentLinkedQueue<>();
  private TetherHarness tether;

  @AfterEach
  void close() throws IOException {
    if (tether != null) {
      tether.close();
    }
    scripted.close();
  }

  private void start(Function<String, String> reply, String extraYaml) throws IOException {
    int port = scripted.start(reply, seen);
    tether = TetherHarness.start("upstreams:\n  app: {servers: [{name: app, address: \"127.0.0.1:" + port
        + "\"}], max_attempts: 1, passive: {max_fails: 0}}\n" + extraYaml, 1, List.of());
  }

  private void startOk() throws IOException {
    start(h -> "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", "limits: {max_header_bytes: 65536}\n");
  }

  /** What the backend got for {@code head} (without its final CRLF), and the client's answer. */
  private String[] forward(String head, boolean viaVertx) throws IOException {
    seen.clear();
    String request = head + (viaVertx ? "Connection: close\r\n" : "") + "\r\n";
    String answer;
    try (RawHttp raw = new RawHttp(tether.port())) {
      raw.send(request);
      answer = viaVertx ? raw.readUntilCloseOrQuiet(5000).text() : raw.readResponse(5000, head.startsWith("HEAD"));
    }
    if (!answer.startsWith("HTTP/1.1 200")) {
      return new String[] {null, answer};
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> !seen.isEmpty());
    return new String[] {seen.peek(), answer};
  }

  /** The head's lines but X-Request-Id's value (random) and Host (Vert.x's client writes it last). */
  private static List<String> comparable(String received) {
    List<String> lines = new ArrayList<>();
    for (String line : received.split("\r\n", -1)) {
      if (!line.regionMatches(true, 0, "host:", 0, 5)) {
        lines.add(line.regionMatches(true, 0, "x-request-id:", 0, 13) ? "X-Request-Id: *" : line);
      }
    }
    return lines;
  }

  /** Control characters, bare CR/LF, obs-fold, bad names, a second Host: 400, nothing reaches the backend. */
  @ParameterizedTest
  @ValueSource(strings = {
      "GET /a HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n",
      "GET /a HTTP/1.1\r\nHost: x\r\nX-A: a\nX-B: injected\r\n",
      "GET /a HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n",
      "GET /a HTTP/1.1\r\nHost: x\r\nX-A: a\u000bb\r\n",
      "GET /a HTTP/1.1\r\nHost: x\r\nX-A: a\u007fb\r\n",
      "GET /a HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n",
      "GET /a HTTP/1.1\r\nHost: x\r\nX-A: a\r\n\tX-B: folded\r\n",
      "GET /a HTTP/1.1\r\nHost: x\r\nX A: a\r\n",
      "GET /a HTTP/1.1\r\nHost: x\r\n: a\r\n",
      "GET /a HTTP/1.1\r\nHost: x\r\nX-\u00e9: a\r\n",
      "GET /a HTTP/1.1\r\nHost: x\r\nHost: y\r\n",
      "GET /a HTTP/1.1\r\nHost: x\r\nhost: x\r\n",
      "GET /a HTTP/1.1\r\nHost: x\r\nCookie: a=1\rX-Evil: 1\r\n",
      "GET /a\rX-Evil: 1 HTTP/1.1\r\nHost: x\r\n",
      "GET /a\tb HTTP/1.1\r\nHost: x\r\n",
      "GET /a HTTP/1.1\r\nHost: x y\r\n",
  })
  void injectionAttemptsAreRefusedOnTheFastPath(String head) throws IOException {
    startOk();
    String[] r = forward(head, false);
    assertThat(r[1]).matches("(?s)HTTP/1\\.[01] 400 .*");
    assertThat(seen).isEmpty();
  }

  /** End-to-end heads: the fast path forwards the same lines as the Vert.x path, Host first and as sent. */
  @ParameterizedTest
  @ValueSource(strings = {
      "GET /a?q=1 HTTP/1.1\r\nHost: x\r\nX-A: v\u00e9\u00ff\r\n",
      "GET /a HTTP/1.1\r\nHost: x\r\nX-E:\r\nX-F: \t \r\nX-G: a\tb\t\r\n",
      "GET /a HTTP/1.1\r\nHost: x\r\nConnection: Host, Cookie, X-Forwarded-For, keep-alive\r\nCookie: a=1\r\n"
          + "X-Forwarded-For: 1.2.3.4\r\n",
      "GET /a HTTP/1.1\r\nHost: x\r\nCookie: a=1\\r\\nX-Evil: 1; b=%0d%0a\r\nCookie: c=\"\t\"\r\n",
      "GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nVia: 1.0 p\r\nVia: 1.0 q\r\nForwarded: for=1\r\n"
          + "X-Forwarded-Host: evil\r\nX-Forwarded-Proto: https\r\nX-Request-Id: forged\r\n",
      "GET /a HTTP/1.1\r\nHost: x\r\nTE: trailers\r\nUpgrade: h2c\r\nProxy-Connection: x\r\nKeep-Alive: 1\r\n"
          + "Proxy-Authorization: secret\r\nTrailer: x\r\n",
      "HEAD /a HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n",
  })
  void theFastPathForwardsWhatTheVertxPathForwards(String head) throws IOException {
    startOk();
    String fast = forward(head, false)[0];
    String vertx = forward(head, true)[0];
    assertThat(fast).as("fast path: Host right after the request line, as the client wrote its value")
        .contains(" HTTP/1.1\r\nhost: x\r\n")
        .endsWith("\r\nconnection: keep-alive\r\n\r\n")
        .doesNotContainIgnoringCase("\r\nX-Evil").doesNotContainIgnoringCase("X-Forwarded-Host: evil")
        .doesNotContainIgnoringCase("forged").doesNotContain("1.2.3.4")
        .doesNotContainIgnoringCase("secret").doesNotContainIgnoringCase("h2c");
    assertThat(comparable(fast)).isEqualTo(comparable(vertx));
  }

  /** Many lines and a long value are forwarded whole, byte for byte. */
  @Test
  void manyHeadersAndALongValueAreForwardedWhole() throws IOException {
    startOk();
    StringBuilder head = new StringBuilder("GET /big HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 95; i++) {
      head.append("X-H-").append(i).append(": v").append(i).append("\r\n");
    }
    String longValue = "L".repeat(60_000);
    head.append("X-Long: ").append(longValue).append("\r\n");
    String fast = forward(head.toString(), false)[0];
    for (int i = 0; i < 95; i++) {
      assertThat(fast).contains("\r\nX-H-" + i + ": v" + i + "\r\n");
    }
    assertThat(fast).contains("\r\nX-Long: " + longValue + "\r\n");
    assertThat(comparable(fast)).isEqualTo(comparable(forward(head.toString(), true)[0]));
  }

  /** A HEAD's answer has no body though it announces one: the next request on the backend connection is read right. */
  @Test
  void aHeadAnswerIsDecodedWithoutBodyOnAReusedConnection() throws IOException {
    start(h -> h.startsWith("HEAD") ? "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n"
        : "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nafter", "");
    try (RawHttp raw = new RawHttp(tether.port())) {
      raw.send("HEAD /h HTTP/1.1\r\nHost: x\r\n\r\nGET /g HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(raw.readResponse(5000, true)).startsWith("HTTP/1.1 200").containsIgnoringCase("content-length: 7");
      assertThat(raw.readResponse(5000, false)).startsWith("HTTP/1.1 200").endsWith("after");
    }
    assertThat(scripted.accepted()).isEqualTo(1); // (one backend connection: the HEAD's was reused)
  }

  /**
   * Backends that close after an answer without saying so, or close on a reused connection once they read the head:
   * heads written to pooled connections that are closing or closed are all released; no buffer leaks.
   */
  @Test
  void headsWrittenToClosingBackendConnectionsAreReleased() throws Exception {
    java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
    start(h -> switch (n.incrementAndGet() % 3) {
      case 0 -> "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok#CLOSE"; // closes unannounced after answering
      case 1 -> "CLOSE"; // reads the head, closes unanswered
      default -> "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    }, "");
    int answered = 0;
    int failed = 0;
    try (LeakWatch leaks = LeakWatch.start()) {
      for (int c = 0; c < 20; c++) {
        try (RawHttp raw = new RawHttp(tether.port())) {
          for (int i = 0; i < 10; i++) {
            String r = raw.send("GET /r" + c + "-" + i + " HTTP/1.1\r\nHost: x\r\n\r\n").readResponse(5000, false);
            if (!r.startsWith("HTTP/1.1 ")) {
              break; // (the client connection was closed)
            }
            answered += r.startsWith("HTTP/1.1 200") ? 1 : 0;
            failed += r.startsWith("HTTP/1.1 502") ? 1 : 0;
          }
        } catch (java.net.SocketException e) {
          // (the client connection was reset)
        }
      }
      leaks.assertNone();
    }
    assertThat(answered).as("answered 200").isGreaterThan(20);
    assertThat(failed).as("502 after a close on reuse (max_attempts 1)").isGreaterThan(20);
  }

  /**
   * A request target outside visible ASCII (a control character, a byte above 0x7E) is refused with 400 on both
   * paths and reaches no backend: left through, a NUL reached the backend, and a raw {@code é} was written raw by one
   * path and as UTF-8 by the other (one request, two request targets).
   */
  @ParameterizedTest
  @ValueSource(strings = {"/a\u00e9b", "/a\u00c0\u00afb", "/%2e\u00ff", "/a\u0000b", "/a\u0001b\u007f", "/a?x=\u0008",
      "/a\u007f"})
  void requestTargetsOutsideVisibleAsciiAreRefusedOnBothPaths(String uri) throws IOException {
    startOk();
    for (boolean viaVertx : new boolean[] {false, true}) {
      String[] r = forward("GET " + uri + " HTTP/1.1\r\nHost: x\r\n", viaVertx);
      assertThat(r[1]).as("via Vert.x: %s", viaVertx).matches("(?s)HTTP/1\\.[01] 400 .*");
      assertThat(seen).isEmpty();
    }
  }
}
