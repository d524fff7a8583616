package tether.hardening;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tether.testing.RawHttp;
import tether.testing.RecordingBackend;
import tether.testing.TetherHarness;

/** Hostile and malformed requests, sent byte for byte; the recording backend shows what got through. */
class ClientHardeningTest {

  private RecordingBackend backend;
  private TetherHarness tether;

  @BeforeEach
  void start() throws Exception {
    backend = new RecordingBackend();
    tether = TetherHarness.start("upstreams:\n  app:\n    servers: [{name: rec, address: \"127.0.0.1:"
        + backend.port() + "\"}]\nlimits: {max_header_bytes: 4096, max_uri_bytes: 1024, max_header_count: 20,"
        + " max_body_bytes: 1000}\n");
  }

  @AfterEach
  void stop() throws Exception {
    tether.close();
    backend.close();
  }

  static Stream<Arguments> rejected() {
    String smuggled = "GET /SMUGGLED HTTP/1.1\r\nHost: x\r\n\r\n";
    String chunked = "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    return Stream.of(
        Arguments.of("CL and TE", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n"
            + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled, 400),
        Arguments.of("TE and CL", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            + "Content-Length: 40\r\n\r\n0\r\n\r\n" + smuggled, 400),
        Arguments.of("two differing CL", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
            + "Content-Length: 41\r\n\r\nhello" + smuggled, 400),
        Arguments.of("CL list", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 41\r\n\r\nhello" + smuggled, 400),
        Arguments.of("TE not final chunked", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"
            + "0\r\n\r\n" + smuggled, 400),
        Arguments.of("TE identity", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n"
            + smuggled, 400),
        Arguments.of("TE chunked twice", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled, 400),
        // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing (a smuggling vector)
        Arguments.of("TE in HTTP/1.0", "POST / HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5\r\nhello\r\n0\r\n\r\n" + smuggled, 400),
        Arguments.of("obs-fold", "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n folded\r\n\r\n", 400),
        Arguments.of("space before colon", "GET / HTTP/1.1\r\nHost: x\r\nX-A : 1\r\n\r\n", 400),
        Arguments.of("space before colon on TE", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n"
            + "Content-Length: 5\r\n\r\nhello", 400),
        Arguments.of("NUL in value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n", 400),
        Arguments.of("bare CR in value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", 400),
        Arguments.of("invalid chunk size", chunked + "zz\r\nhello\r\n0\r\n\r\n" + smuggled, 400),
        Arguments.of("chunk size overflowing 64 bits", chunked + "10000000000000005\r\nhello\r\n0\r\n\r\n"
            + smuggled, 400),
        Arguments.of("chunk data longer than its size", chunked + "3\r\nhello\r\n0\r\n\r\n" + smuggled, 400),
        Arguments.of("chunk size with junk", chunked + "5x\r\nhello\r\n0\r\n\r\n" + smuggled, 400),
        Arguments.of("chunk size line with a bare LF", chunked + "5\nhello\r\n0\r\n\r\n" + smuggled, 400),
        Arguments.of("chunk data with a bare LF", chunked + "5\r\nhello\n0\r\n\r\n" + smuggled, 400),
        Arguments.of("over-long chunk extension", chunked + "5;" + "e".repeat(5000) + "\r\nhello\r\n0\r\n\r\n"
            + smuggled, 400),
        Arguments.of("oversized trailers", chunked + "0\r\n" + "X-T: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n".repeat(200)
            + "\r\n" + smuggled, 400),
        Arguments.of("trailer without a colon", chunked + "0\r\nnot a field\r\n\r\n" + smuggled, 400),
        Arguments.of("Host with a space", "GET / HTTP/1.1\r\nHost: exa mple\r\n\r\n", 400),
        Arguments.of("Host with a slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400),
        Arguments.of("Host with userinfo", "GET / HTTP/1.1\r\nHost: user@host\r\n\r\n", 400),
        Arguments.of("Host with a non-numeric port", "GET / HTTP/1.1\r\nHost: host:abc\r\n\r\n", 400),
        Arguments.of("no Host in HTTP/1.1", "GET / HTTP/1.1\r\nX-A: 1\r\n\r\n", 400),
        Arguments.of("two Hosts", "GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400),
        Arguments.of("header too large", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(5000) + "\r\n\r\n", 431),
        Arguments.of("too many headers", "GET / HTTP/1.1\r\nHost: x\r\n" + "X-N: 1\r\n".repeat(30) + "\r\n", 431),
        Arguments.of("URI too long", "GET /" + "a".repeat(2000) + " HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        Arguments.of("declared body too large", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n", 413),
        Arguments.of("chunked body too large", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            + ("100\r\n" + "a".repeat(256) + "\r\n").repeat(5) + "0\r\n\r\n", 413));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rejected")
  void rejectedWithTheRightStatusAndClosed(String name, String request, int status) throws Exception {
    try (RawHttp raw = new RawHttp(tether.port())) {
      RawHttp.Read read = raw.send(request).readUntilCloseOrQuiet(3000);
      assertThat(read.text()).as(name).matches("(?s)HTTP/1\\.[01] " + status + " .*");
      assertThat(read.closed()).as(name + ": connection closed").isTrue();
    }
    assertThat(backend.received()).as(name + ": nothing smuggled to the backend").doesNotContain("SMUGGLED")
        .as(name + ": never a complete chunked body").doesNotContain("\r\n0\r\n\r\n");
  }

  /** The head and a good chunk were forwarded already when the bad chunk arrives: still a 400, never complete. */
  @org.junit.jupiter.api.Test
  void aMalformedChunkAfterTheHeadWasForwardedIs400AndTheUpstreamRequestNeverCompletes() throws Exception {
    malformedChunkAfterTheHeadWasForwarded(tether.port(), backend);
  }

  static void malformedChunkAfterTheHeadWasForwarded(int port, RecordingBackend backend) throws Exception {
    try (RawHttp raw = new RawHttp(port)) {
      raw.send("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
          .until(() -> backend.received().contains("hello"));
      RawHttp.Read read = raw.send("10000000000000005\r\nworld\r\n0\r\n\r\nGET /SMUGGLED HTTP/1.1\r\nHost: x\r\n\r\n")
          .readUntilCloseOrQuiet(3000);
      assertThat(read.text()).startsWith("HTTP/1.1 400");
      assertThat(read.closed()).isTrue();
    }
    assertThat(backend.received()).startsWith("POST /a HTTP/1.1").doesNotContain("SMUGGLED").doesNotContain("world")
        .doesNotContain("\r\n0\r\n\r\n");
  }

  @org.junit.jupiter.api.Test
  void absoluteFormUsesItsAuthorityAsHostAndForwardsOriginForm() throws Exception {
    try (RawHttp raw = new RawHttp(tether.port())) {
      RawHttp.Read read = raw.send("GET http://shop.example:8080/cart?x=1 HTTP/1.1\r\nHost: other\r\n"
          + "Connection: close\r\n\r\n").readUntilCloseOrQuiet(5000);
      assertThat(read.text()).startsWith("HTTP/1.1 200");
    }
    assertThat(backend.received()).startsWith("GET /cart?x=1 HTTP/1.1\r\n").containsIgnoringCase("host: shop.example:8080\r\n");
  }

  @org.junit.jupiter.api.Test
  void chunkedBodiesAreReframedByTether() throws Exception {
    try (RawHttp raw = new RawHttp(tether.port())) {
      RawHttp.Read read = raw.send("POST /u HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n"
          + "Connection: close\r\n\r\n"
          + "3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n").readUntilCloseOrQuiet(5000);
      assertThat(read.text()).startsWith("HTTP/1.1 200");
    }
    String got = backend.received();
    assertThat(got).doesNotContain("ext=1").doesNotContain("X-Trailer");
    assertThat(got.replace("\r\n", "|")).containsPattern("abc").containsPattern("de");
  }
}
