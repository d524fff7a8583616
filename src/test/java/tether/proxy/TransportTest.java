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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tether.config.IoTransport;
import tether.testing.ProxyTestBase;
import tether.testing.TetherHarness;

/**
 * {@code transport}: every event-loop transport carries both request paths, and {@code auto} takes io_uring where
 * the kernel allows it. The rest of the suite runs on {@code auto} (io_uring here), so the fallbacks are run here.
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

  @Test
  void autoTakesIoUringWhereTheKernelAllowsItElseEpoll() {
    IoTransport expected = IoTransport.IO_URING.available() ? IoTransport.IO_URING
        : IoTransport.EPOLL.available() ? IoTransport.EPOLL : IoTransport.NIO;
    assertThat(IoTransport.AUTO.resolve()).isEqualTo(expected);
    assertThat(IoTransport.AUTO.available()).isTrue();
    assertThat(IoTransport.EPOLL.resolve()).isEqualTo(IoTransport.EPOLL);
    assertThat(IoTransport.NIO.unavailableBecause()).isNull();
  }
}
