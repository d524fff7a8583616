package tether.hardening;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.http.Fault;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tether.testing.RawHttp;
import tether.testing.TetherHarness;

/** Broken backends: each gives the client the right outcome, fast, and Tether keeps serving. */
class BackendHardeningTest {

  private final WireMockServer wireMock = new WireMockServer(options().dynamicPort().bindAddress("127.0.0.1"));
  private final List<ServerSocket> raw = new ArrayList<>();
  private TetherHarness tether;

  @AfterEach
  void tearDown() throws IOException {
    if (tether != null) {
      tether.close();
    }
    wireMock.stop();
    for (ServerSocket s : raw) {
      s.close();
    }
  }

  /** A raw backend answering every connection with {@code reply}, then closing. */
  private int rawBackend(String reply) throws IOException {
    ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    raw.add(server);
    Thread t = new Thread(() -> {
      while (!server.isClosed()) {
        try (Socket s = server.accept()) {
          InputStream in = s.getInputStream();
          StringBuilder seen = new StringBuilder();
          byte[] buf = new byte[4096];
          int n;
          while (!seen.toString().contains("\r\n\r\n") && (n = in.read(buf)) >= 0) {
            seen.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
          }
          s.getOutputStream().write(reply.getBytes(StandardCharsets.ISO_8859_1));
          s.getOutputStream().flush();
        } catch (IOException e) {
          // next
        }
      }
    });
    t.setDaemon(true);
    t.start();
    return server.getLocalPort();
  }

  private void startTether(String upstreams, String routes) {
    tether = TetherHarness.start("upstreams:\n" + upstreams + "routes:\n" + routes
        + "timeouts: {connect: 1s, response_header: 1s}\n");
  }

  private static String upstream(String name, int port) {
    return "  " + name + ": {servers: [{name: " + name + ", address: \"127.0.0.1:" + port + "\"}],"
        + " passive: {max_fails: 0}}\n";
  }

  private static String route(String name) {
    return "  - {path: /" + name + ", upstream: " + name + "}\n";
  }

  /**
   * The answer to {@code GET path}. {@code keepAlive}: the request is a plain keep-alive one (Tether's fast path
   * serves it) followed by a pipelined {@code Connection: close} request to {@code /end} (Vert.x's path), whose
   * answer is cut off, so the read still ends at the close; else the request itself says {@code Connection: close}.
   */
  private RawHttp.Read get(String path) throws IOException {
    try (RawHttp client = new RawHttp(tether.port())) {
      if (!keepAlive) {
        return client.send("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .readUntilCloseOrQuiet(5000);
      }
      RawHttp.Read r = client.send("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n"
          + "GET /end HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").readUntilCloseOrQuiet(5000);
      int end = r.text().lastIndexOf("HTTP/1.1 200 OK");
      boolean marked = end > 0 && r.text().indexOf(END, end) > 0;
      return marked ? new RawHttp.Read(r.text().substring(0, end), r.closed()) : r;
    }
  }

  private static final String END = "end-of-test-marker";
  private boolean keepAlive;

  @ParameterizedTest(name = "keep-alive client (fast path): {0}")
  @ValueSource(booleans = {false, true})
  void eachBrokenBackendGetsTheRightOutcome(boolean keepAlive) throws Exception {
    this.keepAlive = keepAlive;
    wireMock.start();
    wireMock.stubFor(any(urlPathEqualTo("/end")).willReturn(aResponse().withBody(END)));
    wireMock.stubFor(any(urlPathEqualTo("/reset")).willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)));
    wireMock.stubFor(any(urlPathEqualTo("/empty")).willReturn(aResponse().withFault(Fault.EMPTY_RESPONSE)));
    wireMock.stubFor(any(urlPathEqualTo("/garbage")).willReturn(aResponse().withFault(Fault.RANDOM_DATA_THEN_CLOSE)));
    wireMock.stubFor(any(urlPathEqualTo("/badchunk")).willReturn(aResponse().withFault(Fault.MALFORMED_RESPONSE_CHUNK)));
    wireMock.stubFor(any(urlPathEqualTo("/slow")).willReturn(aResponse().withBody("late").withFixedDelay(3000)));
    wireMock.stubFor(any(urlPathEqualTo("/dribble")).willReturn(aResponse().withBody("x".repeat(1000))
        .withChunkedDribbleDelay(5, 600)));
    int hugeHeaders = rawBackend("HTTP/1.1 200 OK\r\nX-Big: " + "a".repeat(100_000) + "\r\nContent-Length: 2\r\n\r\nok");
    int untilClose = rawBackend("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nbody until close");
    int interim = rawBackend("HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
        + "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal");
    int noContent = rawBackend("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello");
    startTether("  wm: {servers: [{name: wm, address: \"127.0.0.1:" + wireMock.port() + "\"}], max_attempts: 1,"
        + " passive: {max_fails: 0}}\n" + upstream("huge", hugeHeaders) + upstream("close", untilClose)
        + upstream("interim", interim) + upstream("nocontent", noContent),
        route("huge") + route("close") + route("interim") + route("nocontent") + "  - {path: /, upstream: wm}\n");

    for (String path : List.of("/reset", "/empty", "/garbage", "/huge")) {
      long start = System.nanoTime();
      RawHttp.Read r = get(path);
      assertThat(r.text()).as(path).startsWith("HTTP/1.1 502");
      assertThat(Duration.ofNanos(System.nanoTime() - start)).as(path).isLessThan(Duration.ofSeconds(5));
    }
    assertThat(get("/slow").text()).startsWith("HTTP/1.1 504");
    RawHttp.Read badChunk = get("/badchunk");
    assertThat(badChunk.closed()).isTrue();
    assertThat(badChunk.text()).doesNotEndWith("0\r\n\r\n");
    assertThat(get("/dribble").text()).startsWith("HTTP/1.1 200").endsWith("x".repeat(100) + "\r\n0\r\n\r\n");
    RawHttp.Read close = get("/close");
    assertThat(close.text()).startsWith("HTTP/1.1 200").contains("body until close").endsWith("0\r\n\r\n");
    assertThat(get("/interim").text()).contains("HTTP/1.1 200").contains("final");
    RawHttp.Read nc = get("/nocontent");
    assertThat(nc.text()).startsWith("HTTP/1.1 204").doesNotContain("hello");
    // still serving
    wireMock.stubFor(any(urlPathEqualTo("/fine")).willReturn(aResponse().withBody("fine")));
    assertThat(get("/fine").text()).startsWith("HTTP/1.1 200").contains("fine");
  }
}
