package tether.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import tether.testing.Backends;
import tether.testing.ProxyTestBase;
import tether.testing.RawHttp;
import tether.testing.TetherHarness;

/** What must pass through as it came (issue 11 items 7-8): bodiless responses' headers, and the app's cookies. */
class PassThroughTest extends ProxyTestBase {

  /** RFC 9110 §8.6: no Content-Length is invented for a 304 (or a 204, or a HEAD); a real one is kept. */
  @ParameterizedTest(name = "{0} {1} with content-length [{2}] -> [{3}]")
  @CsvSource(delimiter = '|', value = {
      "GET  | 304 |      | ",
      "GET  | 304 | 1234 | 1234",
      "GET  | 204 |      | ",
      "HEAD | 200 | 5000 | 5000",
      "GET  | 200 | 2    | 2",
  })
  void bodilessResponsesKeepTheirHeaders(String method, int status, String length, String expected) throws Exception {
    Backends.Backend app = backends.start("app", req -> {
      var resp = req.response().setStatusCode(status).putHeader("ETag", "\"abc\"");
      if (length != null) {
        resp.putHeader("Content-Length", length);
      }
      if (status == 200 && method.equals("GET")) {
        resp.end("ok");
      } else {
        resp.end();
      }
    });
    tether = TetherHarness.start(upstream("", app));
    try (RawHttp raw = new RawHttp(tether.port())) {
      String reply = raw.send(method + " /f HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"abc\"\r\n"
          + "Connection: close\r\n\r\n").readUntilCloseOrQuiet(5000).text().toLowerCase();
      String head = reply.substring(0, reply.indexOf("\r\n\r\n"));
      assertThat(head).startsWith("http/1.1 " + status).contains("etag: \"abc\"");
      if (expected == null) {
        assertThat(head).doesNotContain("content-length").doesNotContain("transfer-encoding");
      } else {
        assertThat(head).contains("content-length: " + expected);
      }
    }
  }

  @Test
  void splitCookieLinesReachTheAppAsOneWithTheStickyCookieStripped() throws Exception {
    AtomicReference<java.util.List<String>> cookies = new AtomicReference<>();
    Backends.Backend app = backends.start("app", req -> {
      cookies.set(req.headers().getAll("Cookie"));
      req.response().end("ok");
    });
    tether = TetherHarness.start(upstream("    sticky: {mode: cookie, secret: s3cret-s3cret-s3cret}\n", app));
    String pin = tether.get("/").headers().firstValue("set-cookie").orElseThrow().split(";", 2)[0];
    try (RawHttp raw = new RawHttp(tether.port())) {
      assertThat(raw.send("GET / HTTP/1.1\r\nHost: x\r\nCookie: a=1\r\nCookie: " + pin + "; PHPSESSID=abc\r\n"
          + "Cookie: b=2\r\nConnection: close\r\n\r\n").readUntilCloseOrQuiet(5000).text()).startsWith("HTTP/1.1 200")
          .doesNotContainIgnoringCase("set-cookie"); // the pin in the second line was found
    }
    assertThat(cookies.get()).containsExactly("a=1; PHPSESSID=abc; b=2");
  }
}
