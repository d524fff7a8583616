package tether.hardening;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tether.testing.Cli;
import tether.testing.RawHttp;
import tether.testing.RecordingBackend;
import tether.testing.TetherHarness;

/**
 * {@link ClientHardeningTest}'s table on an {@code h2c: true} listener, where HTTP/1.1 comes in through Vert.x's
 * h2c detection (its own request decoder reads the first head): as the connection's first request, and after a good
 * request pipelined in the same packet.
 */
class H2cListenerHardeningTest {

  private static final String GOOD = "GET /first HTTP/1.1\r\nHost: x\r\n\r\n";

  private RecordingBackend backend;
  private TetherHarness tether;

  @BeforeEach
  void start() throws Exception {
    backend = new RecordingBackend();
    tether = TetherHarness.start("listen: [{address: 127.0.0.1, port: 0, h2c: true}]\n"
        + "upstreams:\n  app:\n    servers: [{name: rec, address: \"127.0.0.1:" + backend.port() + "\"}]\n"
        + "limits: {max_header_bytes: 4096, max_uri_bytes: 1024, max_header_count: 20, max_body_bytes: 1000}\n");
  }

  @AfterEach
  void stop() throws Exception {
    tether.close();
    backend.close();
  }

  /** Every row as the first and as the second request, but an obs-fold in the first head (see below). */
  static Stream<Arguments> rejected() {
    return ClientHardeningTest.rejected().flatMap(row -> Stream.of("first", "second")
            .map(which -> Arguments.of(row.get()[0], row.get()[1], row.get()[2], which)))
        .filter(row -> !(row.get()[0].equals("obs-fold") && row.get()[3].equals("first")));
  }

  @ParameterizedTest(name = "{0} ({3} request)")
  @MethodSource("rejected")
  void rejectedWithTheRightStatusAndClosed(String name, String request, int status, String which) throws Exception {
    boolean second = which.equals("second");
    try (RawHttp raw = new RawHttp(tether.port())) {
      RawHttp.Read read = raw.send(second ? GOOD + request : request).readUntilCloseOrQuiet(3000);
      assertThat(read.text()).as(name).matches("(?s)" + (second ? "HTTP/1\\.1 200 .*" : "")
          + "HTTP/1\\.[01] " + status + " .*");
      assertThat(read.closed()).as(name + ": connection closed").isTrue();
    }
    assertThat(backend.received()).as(name + ": nothing smuggled to the backend").doesNotContain("SMUGGLED")
        .as(name + ": never a complete chunked body").doesNotContain("\r\n0\r\n\r\n");
  }

  /**
   * The first head is read by Vert.x's decoder, which unfolds an obs-fold: replaced with a space before the value is
   * forwarded (the other answer RFC 9112 §5.2 allows a proxy), never passed on folded.
   */
  @Test
  void anObsFoldInTheFirstHeadIsUnfolded() throws Exception {
    try (RawHttp raw = new RawHttp(tether.port())) {
      assertThat(raw.send("GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n folded\r\n\r\n").readUntilCloseOrQuiet(3000).text())
          .startsWith("HTTP/1.1 200");
    }
    assertThat(backend.received()).containsIgnoringCase("x-a: 1 folded\r\n").doesNotContain("\r\n folded");
  }

  /** The first request's chunked body is the strict decoder's: a bad chunk after the forwarded head is a 400. */
  @Test
  void aMalformedChunkInTheFirstRequestAfterItsHeadWasForwardedIs400() throws Exception {
    ClientHardeningTest.malformedChunkAfterTheHeadWasForwarded(tether.port(), backend);
  }

  /** A good chunked first request and a GET pipelined behind it in one packet: both answered, in order. */
  @Test
  void aChunkedFirstRequestAndAPipelinedOneAreBothAnswered() throws Exception {
    try (RawHttp raw = new RawHttp(tether.port())) {
      String text = raw.send("POST /one HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
          .readUntilCloseOrQuiet(5000).text();
      assertThat(text).matches("(?s)HTTP/1\\.1 200 .*HTTP/1\\.1 200 .*");
    }
    assertThat(backend.received()).contains("POST /one HTTP/1.1").contains("abc").contains("GET /two HTTP/1.1")
        .doesNotContain("ext=1");
  }

  /** HTTP/2 with prior knowledge still works on the same listener (the take-over is for HTTP/1 only). */
  @Test
  void http2WithPriorKnowledgeIsStillServed() {
    Cli.Result r = Cli.run(20, "curl", "-sS", "--http2-prior-knowledge", "-o",
        "/dev/null", "-w", "%{http_version} %{http_code}", "http://127.0.0.1:" + tether.port() + "/h2");
    assertThat(r.output()).isEqualTo("2 200");
  }
}
