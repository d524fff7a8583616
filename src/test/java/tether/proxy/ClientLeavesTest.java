package tether.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tether.testing.Backends;
import tether.testing.ProxyTestBase;
import tether.testing.TetherHarness;
import tether.upstream.Backend;

/**
 * Clients that hang up while their request waits for the server (wrk closing its connections at the end of a run,
 * a user leaving a page) are not the server's fault: the reset of their backend request is never counted against
 * the server, so it is never ejected and other clients never get 502/503 for it (it was, before the exchange
 * finished ahead of the reset).
 */
class ClientLeavesTest extends ProxyTestBase {

  @ParameterizedTest(name = "compression {0}")
  @ValueSource(booleans = {false, true})
  void clientsHangingUpNeverCountAgainstTheServer(boolean compression) throws Exception {
    byte[] page = "<tr><td>row</td><td>a table row of a PHP page</td></tr>\n".repeat(100)
        .getBytes(StandardCharsets.UTF_8);
    Backends.Backend b = backends.start("web", req -> req.response().putHeader("Content-Type", "text/html")
        .end(Buffer.buffer(page)));
    List<String> blamed = new CopyOnWriteArrayList<>();
    ProxyListener recorder = new ProxyListener() {
      @Override
      public void backendFailed(Backend backend, String reason) {
        blamed.add(reason);
      }
    };
    tether = TetherHarness.start(upstream("", b) + (compression ? "compression: {gzip: true}\n" : ""), 1,
        List.of(recorder));

    ExecutorService pool = Executors.newFixedThreadPool(16);
    try {
      List<Future<?>> done = new java.util.ArrayList<>();
      for (int i = 0; i < 16; i++) {
        done.add(pool.submit(() -> {
          for (int n = 0; n < 40; n++) {
            try (Socket s = new Socket("127.0.0.1", tether.port())) {
              s.setSoLinger(true, 0); // closed with a reset, at once
              String get = "GET /page HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n";
              for (int k = 0; k < 3; k++) { // a keep-alive connection, left in the middle of its third response
                s.getOutputStream().write(get.getBytes(StandardCharsets.ISO_8859_1));
                InputStream in = s.getInputStream();
                in.readNBytes(k < 2 ? 200 : 20);
              }
            }
            if (tether.get("/page").statusCode() != 200) {
              throw new AssertionError("a request failed after clients left");
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
    // (a reset mid-body can still be counted as broken_response: the pipe's write failure arrives before the
    // client connection's close, and the two sides' failures look alike there)
    assertThat(blamed).as("failures counted against the server").doesNotContain("reset");
    assertThat(tether.get("/page").statusCode()).isEqualTo(200);
  }

  /**
   * A client that closes or resets its connection mid-body left (499), whether its body was being held (a small
   * PUT) or streamed (POST): no 400 is written to it, nothing is counted against the server, which never gets the
   * body whole.
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"PUT reset", "PUT close", "POST reset", "POST close"})
  void aClientLeavingMidBodyIs499(String kind) throws Exception {
    java.util.concurrent.atomic.AtomicInteger whole = new java.util.concurrent.atomic.AtomicInteger();
    Backends.Backend b = backends.start("web", req -> req.body().onSuccess(body -> {
      whole.incrementAndGet();
      req.response().end("got it");
    }));
    RecordingListener recorder = new RecordingListener();
    List<ExchangeRecord> records = recorder.records;
    List<String> blamed = recorder.blamed;
    tether = TetherHarness.start(upstream("", b), 1, List.of(recorder));
    String method = kind.split(" ")[0];
    try (Socket s = new Socket("127.0.0.1", tether.port())) {
      if (kind.endsWith("reset")) {
        s.setSoLinger(true, 0);
      }
      s.setSoTimeout(5000);
      // Tether answers 100 Continue once it reads the body (held or streamed): the exchange is under way
      s.getOutputStream().write((method + " /up HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n"
          + "Expect: 100-continue\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
      byte[] interim = s.getInputStream().readNBytes("HTTP/1.1 100 Continue\r\n\r\n".length());
      assertThat(new String(interim, StandardCharsets.ISO_8859_1)).isEqualTo("HTTP/1.1 100 Continue\r\n\r\n");
      s.getOutputStream().write("abc".getBytes(StandardCharsets.ISO_8859_1));
      s.getOutputStream().flush();
      if (method.equals("POST")) {
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5)).until(() -> b.served().get() > 0);
      }
    }
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(records).hasSize(1));
    assertThat(records.get(0).status()).as(kind).isEqualTo(499);
    assertThat(whole.get()).as(kind + ": bodies the server read whole").isZero();
    assertThat(blamed).as(kind + ": failures counted against the server").isEmpty();
  }
}
