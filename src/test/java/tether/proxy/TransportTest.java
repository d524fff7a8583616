package tether.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.vertx.core.internal.VertxInternal;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import tether.config.IoTransport;
import tether.testing.Cli;
import tether.testing.ProxyTestBase;
import tether.testing.RawH2;
import tether.testing.TestCertificates;
import tether.testing.TetherHarness;

/**
 * {@code transport}: every event-loop transport carries both request paths, and {@code auto} is epoll. The rest of
 * the suite runs on {@code auto} (epoll); the request-path suites run again on io_uring ({@code *OnIoUringTest}).
 */
class TransportTest extends ProxyTestBase {

  @ParameterizedTest
  @ValueSource(strings = {"io_uring", "epoll", "nio"})
  void eachTransportServesBothRequestPathsOnParallelKeepAliveConnections(String transport) throws Exception {
    IoTransport chosen = IoTransport.valueOf(transport.toUpperCase(Locale.ROOT));
    assumeTrue(chosen.available(), transport + " does not work on this machine");
    var a = backends.start("a", req -> req.body().onSuccess(b ->
        req.response().end(req.method() + " " + b.length())));
    tether = TetherHarness.start("transport: " + transport + "\n" + upstream("", a));
    assertThat(((VertxInternal) tether.tether().vertx()).transport().getClass().getSimpleName())
        .startsWithIgnoringCase(transport.replace("_", ""));

    for (int round = 0; round < 5; round++) {
      // a page's parallel requests: new connections and reused ones in one burst (fast path: plain GETs)
      List<CompletableFuture<HttpResponse<String>>> burst = IntStream.range(0, 12)
          .mapToObj(i -> tether.http().sendAsync(HttpRequest.newBuilder(URI.create(tether.url("/asset" + i)))
              .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()))
          .toList();
      assertThat(burst.stream().map(f -> f.join().body()).toList()).as(transport + " round " + round)
          .hasSize(12).containsOnly("GET 0");
    }
    // a body streamed both ways (the Vert.x path), 1 MiB
    HttpResponse<String> post = tether.http().send(HttpRequest.newBuilder(URI.create(tether.url("/upload")))
            .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[1 << 20])).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(post.body()).isEqualTo("POST " + (1 << 20));
  }

  /**
   * {@code timeouts.idle} never closes a client that waits on a slow backend (within {@code response_header}),
   * whatever the transport and over TLS: the handler that holds the idle event back sits where the pipeline differs
   * (the idle handler comes first on io_uring and on TLS listeners, after the HTTP codec on plain epoll and NIO).
   */
  @ParameterizedTest(name = "{0} tls={1}")
  @CsvSource({"io_uring,false", "io_uring,true", "epoll,false", "epoll,true", "nio,false", "nio,true"})
  void aBackendSlowerThanTheIdleTimeoutIsAnswered(String transport, boolean tls, @TempDir Path dir) {
    assertThat(slowAnswerThrough(transport, tls, "--http1.1", false, dir)).isEqualTo("late, in time 1.1");
  }

  /**
   * The same for HTTP/1.1 on an {@code h2c: true} listener, where Vert.x announces the connection only after reading
   * its first head (the idle holder was not installed there: closed at 1 s, curl "Empty reply from server").
   */
  @ParameterizedTest
  @ValueSource(strings = {"io_uring", "epoll"})
  void anHttp11ClientOfAnH2cListenerWaitingOnASlowBackendIsAnswered(String transport, @TempDir Path dir) {
    assertThat(slowAnswerThrough(transport, false, "--http1.1", true, dir)).isEqualTo("late, in time 1.1");
  }

  /**
   * The same over HTTP/2 (TLS with ALPN, and h2c with prior knowledge): Vert.x closed the whole connection at
   * {@code timeouts.idle} while a stream waited on the backend (curl: "stream 1 was not closed cleanly").
   */
  @ParameterizedTest(name = "{0} tls={1}")
  @CsvSource({"io_uring,false", "io_uring,true", "epoll,false", "epoll,true"})
  void anHttp2StreamWaitingOnASlowBackendOutlivesTheIdleTimeout(String transport, boolean tls, @TempDir Path dir) {
    assertThat(slowAnswerThrough(transport, tls, tls ? "--http2" : "--http2-prior-knowledge", !tls, dir))
        .isEqualTo("late, in time 2");
  }

  /**
   * What curl ({@code protocol}: its flag) gets through Tether on {@code transport} (TLS, or plain, h2c or not) from
   * a backend that answers after 1.5 s, with {@code timeouts.idle} 1 s and {@code response_header} 5 s: the body and
   * the HTTP version, or curl's error.
   */
  private String slowAnswerThrough(String transport, boolean tls, String protocol, boolean h2c, Path dir) {
    assumeTrue(IoTransport.valueOf(transport.toUpperCase(Locale.ROOT)).available(), transport + " does not work here");
    var slow = backends.start("slow", req -> backends.vertx().setTimer(1500, t -> req.response().end("late, in time")));
    TestCertificates certs = TestCertificates.in(dir);
    TestCertificates.Pair localhost = certs.leaf("localhost", "localhost", "127.0.0.1");
    String listen = "listen: [{address: 127.0.0.1, port: 0" + (tls ? ", tls: {cert: \"" + localhost.cert()
        + "\", key: \"" + localhost.key() + "\"}" : h2c ? ", h2c: true" : "") + "}]\n";
    tether = TetherHarness.start(listen + "transport: " + transport + "\n" + upstream("", slow)
        + "timeouts: {response_header: 5s, idle: 1s}\n");
    String url = (tls ? "https://localhost:" : "http://localhost:") + tether.port() + "/slow";
    return Cli.run(20, "curl", "-sS", protocol, "-w", " %{http_version}", "--max-time", "10", "--cacert",
        certs.caCert().toString(), "--resolve", "localhost:" + tether.port() + ":127.0.0.1", url).output();
  }

  /**
   * ... but an HTTP/2 client that stops reading (grants no flow-control window: Tether's data waits in flow control)
   * is still closed at {@code timeouts.idle}, as on HTTP/1.1 (nginx's {@code send_timeout}).
   */
  @ParameterizedTest
  @ValueSource(strings = {"io_uring", "epoll"})
  void anHttp2ClientThatStopsReadingIsStillClosedAtTheIdleTimeout(String transport) throws Exception {
    assumeTrue(IoTransport.valueOf(transport.toUpperCase(Locale.ROOT)).available(), transport + " does not work here");
    io.vertx.core.buffer.Buffer big = io.vertx.core.buffer.Buffer.buffer(new byte[1 << 20]);
    var a = backends.start("a", req -> req.response().end(big));
    tether = TetherHarness.start("listen: [{address: 127.0.0.1, port: 0, h2c: true}]\ntransport: " + transport + "\n"
        + upstream("", a) + "timeouts: {response_header: 5s, idle: 1s}\n");
    try (RawH2 h2 = new RawH2(tether.port())) {
      assertThat(h2.awaitSettings(5000)).isTrue();
      h2.headers(1, RawH2.get("localhost"), true); // then never a WINDOW_UPDATE: 64 KiB at most
      h2.flush();
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> h2.responses() == 1);
      assertThat(h2.awaitClose(5000)).as("closed at the idle timeout").isTrue();
    }
  }

  @Test
  void autoIsEpollWhereItLoadsElseNioAndIoUringOnlyWhenNamed() {
    IoTransport expected = IoTransport.EPOLL.available() ? IoTransport.EPOLL : IoTransport.NIO;
    assertThat(IoTransport.AUTO.resolve()).isEqualTo(expected);
    assertThat(IoTransport.AUTO.available()).isTrue();
    assertThat(IoTransport.IO_URING.resolve()).isEqualTo(IoTransport.IO_URING);
    assertThat(IoTransport.NIO.unavailableBecause()).isNull();
  }
}
