package tether.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.awaitility.Awaitility;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tether.config.IoTransport;
import tether.testing.Backends;
import tether.testing.PrometheusText;
import tether.testing.ProxyTestBase;
import tether.testing.RawHttp;
import tether.testing.TetherHarness;

/**
 * A client that resets (SO_LINGER 0) at a chosen moment of its exchange leaves no request in flight to the server
 * ({@code tether_upstream_in_flight} back to 0): every attempt ends exactly once, with its exchange. The moments are
 * made certain by the backend, not by timing: it holds the response until the test releases it (the reset comes
 * while the head is awaited), or it writes until its own write queue is full, which only happens once Tether stopped
 * reading it because the client does not read (the reset comes while the relay is paused on backpressure). GET takes
 * the fast path; POST (streamed body) and PUT (small body held for retries) the Vert.x path.
 */
class ClientResetInFlightTest extends ProxyTestBase {

  private static final Buffer CHUNK = Buffer.buffer(new byte[64 * 1024]);
  /** What the pump writes at most (the buffers between backend and client hold a few MiB). */
  private static final long PUMP_LIMIT = 256L * 1024 * 1024;

  private final RecordingListener rec = new RecordingListener();

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({"epoll,GET", "epoll,POST", "epoll,PUT", "io_uring,GET", "io_uring,POST", "io_uring,PUT"})
  void aResetWhileTheResponseHeadIsAwaitedLeavesNothingInFlight(String transport, String method) throws Exception {
    Queue<HttpServerRequest> held = new ConcurrentLinkedQueue<>();
    start(transport, backends.start("b", req -> req.body().onSuccess(x -> {
      if (req.path().equals("/hold")) {
        held.add(req);
      } else {
        req.response().end("small");
      }
    })));
    try (Socket s = resetOnClose()) {
      write(s, request(method, "/hold"));
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> held.size() == 1);
    }
    awaitRecord(0, 499);
    HttpServerRequest late = held.poll();
    late.response().exceptionHandler(err -> { }); // its connection may be reset already
    late.response().end(Buffer.buffer(new byte[1024 * 1024])); // the answer comes after the client left
    awaitNothingInFlight();
    assertThat(answer(method)).startsWith("HTTP/1.1 200").endsWith("small");
    awaitRecord(1, 200);
    awaitNothingInFlight();
    assertThat(rec.blamed).as("failures counted against the backend").isEmpty();
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({"epoll,GET", "epoll,POST", "epoll,PUT", "io_uring,GET", "io_uring,POST", "io_uring,PUT"})
  void aResetWhileTheRelayIsPausedLeavesNothingInFlight(String transport, String method) throws Exception {
    AtomicBoolean full = new AtomicBoolean();
    start(transport, backends.start("b", req -> req.body().onSuccess(x -> {
      if (req.path().equals("/pump")) {
        HttpServerResponse r = req.response().setChunked(true);
        r.exceptionHandler(err -> { }); // Tether resets it once the client is gone
        pump(r, full, new long[1]);
      } else {
        req.response().end("small");
      }
    })));
    try (Socket s = resetOnClose()) {
      write(s, request(method, "/pump"));
      // the backend's queue fills only once Tether stopped reading it: its relay is paused for this client
      Awaitility.await().atMost(Duration.ofSeconds(20)).untilTrue(full);
    }
    awaitRecord(0, 499);
    awaitNothingInFlight();
    assertThat(answer(method)).startsWith("HTTP/1.1 200").endsWith("small");
    awaitRecord(1, 200);
    awaitNothingInFlight();
    assertThat(rec.blamed).as("failures counted against the backend").isEmpty();
  }

  /** Writes chunks until the write queue is full (then says so), and again on each drain; stops once closed. */
  private static void pump(HttpServerResponse r, AtomicBoolean full, long[] written) {
    while (!r.closed() && !r.writeQueueFull() && written[0] < PUMP_LIMIT) {
      r.write(CHUNK);
      written[0] += CHUNK.length();
    }
    if (r.writeQueueFull()) {
      full.set(true);
      r.drainHandler(v -> pump(r, full, written));
    } else if (!r.closed()) {
      r.end();
    }
  }

  private void start(String transport, Backends.Backend b) {
    assumeTrue(IoTransport.valueOf(transport.toUpperCase(Locale.ROOT)).available(), transport + " not available");
    tether = TetherHarness.start("transport: " + transport + "\nadmin: {address: 127.0.0.1, port: 0}\n"
        + upstream("", b), 1, List.of(rec));
  }

  /** A client socket whose close is a reset (SO_LINGER 0), reading nothing unless asked. */
  private Socket resetOnClose() throws IOException {
    Socket s = new Socket("127.0.0.1", tether.port());
    s.setSoTimeout(10_000);
    s.setSoLinger(true, 0);
    return s;
  }

  private static void write(Socket s, String text) throws IOException {
    OutputStream out = s.getOutputStream();
    out.write(text.getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
  }

  /** The request line and headers (and a 10-byte body but for GET). */
  private static String request(String method, String path) {
    boolean body = !method.equals("GET");
    return method + " " + path + " HTTP/1.1\r\nHost: x\r\n" + (body ? "Content-Length: 10\r\n\r\n" + "b".repeat(10)
        : "\r\n");
  }

  /** A follow-up request on a new connection: the server is served as before. */
  private String answer(String method) throws IOException {
    try (RawHttp c = new RawHttp(tether.port())) {
      String req = request(method, "/small").replace("Host: x\r\n", "Host: x\r\nConnection: close\r\n");
      return c.send(req).readUntilCloseOrQuiet(10_000).text();
    }
  }

  private void awaitRecord(int index, int status) {
    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> rec.records.size() == index + 1);
    assertThat(rec.records.get(index).status()).isEqualTo(status);
  }

  private void awaitNothingInFlight() {
    Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      Map<String, Double> m = PrometheusText.parse(tether.admin("GET", "/metrics").body());
      double inFlight = m.entrySet().stream().filter(e -> e.getKey().startsWith("tether_upstream_in_flight{"))
          .mapToDouble(Map.Entry::getValue).sum();
      assertThat(inFlight).as("requests in flight to the server").isZero();
    });
  }
}
