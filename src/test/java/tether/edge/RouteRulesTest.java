package tether.edge;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tether.testing.Backends;
import tether.testing.ProxyTestBase;
import tether.testing.RawHttp;
import tether.testing.TetherHarness;

/** A route's header rules, redirect and rewrite, and the Server policy, on real sockets. */
class RouteRulesTest extends ProxyTestBase {

  /** A backend that answers the request's URI and headers as it saw them, with headers of a stock PHP stack. */
  private Backends.Backend echo() {
    return backends.start("echo", req -> {
      StringBuilder body = new StringBuilder(req.uri()).append('\n');
      req.headers().forEach(h -> body.append(h.getKey().toLowerCase()).append(": ").append(h.getValue())
          .append('\n'));
      req.response().putHeader("Server", "Apache/2.4.62 (Debian)").putHeader("X-Powered-By", "PHP/8.2.20")
          .putHeader("Set-Cookie", "PHPSESSID=abc; path=/").putHeader("Cache-Control", "private")
          .end(body.toString());
    });
  }

  /** The raw answer to {@code request}, sent on a connection of its own. */
  private String raw(String request) throws Exception {
    try (RawHttp raw = new RawHttp(tether.port())) {
      return raw.send(request).readUntilCloseOrQuiet(3000).text();
    }
  }

  private static String head(String response) {
    return response.substring(0, response.indexOf("\r\n\r\n") + 2);
  }

  @Test
  void headerRulesSetAddAndRemoveBothWaysWithVariables() throws Exception {
    Backends.Backend echo = echo();
    tether = TetherHarness.start(upstream("", echo) + """
        trusted_proxies: [127.0.0.0/8]
        routes:
          - path: /
            upstream: app
            headers:
              request:
                set: {X-Real-IP: $client_ip, X-Scheme: $scheme, X-Original-Host: $host, X-Price: "$$5"}
                add: {X-Tag: edge}
                remove: [X-Debug, Cookie]
              response:
                set: {X-Request-Id: $request_id, X-Frame-Options: DENY, Cache-Control: no-cache}
                add: {X-Served-Via: "tether for $client_ip"}
                remove: [X-Powered-By]
        """);
    String reply = raw("GET /p?q=1 HTTP/1.1\r\nHost: Shop.Example:8443\r\nX-Forwarded-For: 198.51.100.1,"
        + " 203.0.113.9\r\nX-Forwarded-Proto: https\r\nX-Tag: client\r\nX-Debug: 1\r\nCookie: a=b\r\n"
        + "X-Real-IP: 6.6.6.6\r\nConnection: close\r\n\r\n");
    String seen = reply.substring(reply.indexOf("\r\n\r\n") + 4);
    // the client sits behind a trusted proxy: $client_ip is the first address the chain does not trust
    assertThat(seen).contains("x-real-ip: 203.0.113.9\n", "x-scheme: https\n", "x-original-host: shop.example\n",
        "x-price: $5\n", "x-tag: client\n", "x-tag: edge\n").doesNotContain("6.6.6.6", "x-debug", "cookie:");
    String requestId = seen.lines().filter(l -> l.startsWith("x-request-id: ")).findFirst().orElseThrow()
        .substring("x-request-id: ".length());
    String head = head(reply).toLowerCase();
    assertThat(head).startsWith("http/1.1 200").contains("x-request-id: " + requestId + "\r\n",
        "x-frame-options: deny\r\n", "x-served-via: tether for 203.0.113.9\r\n", "cache-control: no-cache\r\n",
        "set-cookie: phpsessid=abc; path=/\r\n").doesNotContain("x-powered-by", "cache-control: private");
  }

  @Test
  void responseRulesApplyToTethersOwnAnswersToo() throws Exception {
    tether = TetherHarness.start("""
        upstreams: {app: {passive: {max_fails: 0}, servers: [{name: dead, address: "127.0.0.1:%d"}]}}
        routes:
          - {path: /, upstream: app,
             headers: {response: {set: {X-Frame-Options: DENY, X-Id: $request_id, X-Client: $client_ip}}}}
        """.formatted(ErrorPagesTest.closedPort()));
    HttpResponse<String> r = tether.get("/", "X-Forwarded-For", "198.51.100.1");
    assertThat(r.statusCode()).isEqualTo(502);
    assertThat(r.headers().firstValue("x-frame-options")).hasValue("DENY");
    assertThat(r.headers().firstValue("x-id").orElseThrow()).matches("[0-9a-f]{32}");
    // no trusted_proxies: the client's own X-Forwarded-For is not believed
    assertThat(r.headers().firstValue("x-client")).hasValue("127.0.0.1");
  }

  @Test
  void theServerHeaderIsTethersByDefaultAndPassedOrRemovedOnRequest() throws Exception {
    Backends.Backend echo = echo();
    int dead = ErrorPagesTest.closedPort();
    String upstreams = upstream("", echo) + "  down:\n    passive: {max_fails: 0}\n    servers: [{name: d,"
        + " address: \"127.0.0.1:" + dead + "\"}]\nroutes: [{path: /down, upstream: down}, {path: /, upstream: app}]\n";
    Map<String, List<String>> expected = Map.of(
        "", List.of("tether", "tether"),
        "server_header: tether\n", List.of("tether", "tether"),
        "server_header: pass\n", List.of("Apache/2.4.62 (Debian)", "-"),
        "server_header: remove\n", List.of("-", "-"));
    for (var e : expected.entrySet()) {
      try (TetherHarness t = TetherHarness.start(e.getKey() + upstreams)) {
        HttpResponse<String> proxied = t.get("/");
        HttpResponse<String> own = t.get("/down");
        assertThat(own.statusCode()).isEqualTo(502);
        assertThat(List.of(proxied.headers().firstValue("server").orElse("-"),
            own.headers().firstValue("server").orElse("-"))).as(e.getKey()).isEqualTo(e.getValue());
        assertThat(proxied.headers().allValues("server")).hasSizeLessThanOrEqualTo(1);
      }
    }
  }

  @Test
  void redirectsKeepPathAndQueryUnlessTheTargetHasAPath() throws Exception {
    Backends.Backend echo = echo();
    tether = TetherHarness.start(upstream("", echo) + """
        routes:
          - {host: old.example, redirect: {status: 301, to: "https://new.example"},
             headers: {response: {set: {X-Moved: "$scheme://$host"}}}}
          - {path: /promo, redirect: {to: "https://shop.example/sale?from=promo"}}
          - {path: /temp, redirect: {status: 307, to: /elsewhere}}
          - {path: /perm, redirect: {status: 308, to: "http://b.example:8080"}}
          - {path: /, upstream: app}
        """);
    String moved = raw("GET /a/b%20c?x=1&y=%2F HTTP/1.1\r\nHost: old.example\r\nConnection: close\r\n\r\n");
    assertThat(moved).startsWith("HTTP/1.1 301 Moved Permanently\r\n").endsWith("\r\n\r\n")
        .contains("location: https://new.example/a/b%20c?x=1&y=%2F\r\n");
    assertThat(moved.toLowerCase()).contains("location: https://new.example/a/b%20c?x=1&y=%2f\r\n",
        "content-length: 0\r\n", "x-moved: http://old.example\r\n", "server: tether\r\n");
    assertThat(raw("GET /promo/x?y=1 HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n"))
        .startsWith("HTTP/1.1 302 Found\r\n").contains("location: https://shop.example/sale?from=promo\r\n");
    assertThat(raw("GET /temp/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"))
        .startsWith("HTTP/1.1 307 Temporary Redirect\r\n").contains("location: /elsewhere\r\n");
    assertThat(raw("GET /perm HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"))
        .startsWith("HTTP/1.1 308 Permanent Redirect\r\n").contains("location: http://b.example:8080/perm\r\n");
    // a body nobody reads: the answer closes the connection
    RawHttp.Read post = new RawHttp(tether.port()).send("POST /x HTTP/1.1\r\nHost: old.example\r\n"
        + "Content-Length: 5\r\n\r\nhello").readUntilCloseOrQuiet(3000);
    assertThat(post.text()).startsWith("HTTP/1.1 301").contains("connection: close\r\n");
    assertThat(post.closed()).isTrue();
    assertThat(echo.served()).hasValue(0);
    assertThat(tether.get("/other").statusCode()).isEqualTo(200);
  }

  @Test
  void rewritesChangeThePathTheBackendSeesAndKeepTheQuery() throws Exception {
    Backends.Backend echo = echo();
    tether = TetherHarness.start(upstream("", echo) + """
        routes:
          - {path: /api/, upstream: app, rewrite: {strip_prefix: /api, add_prefix: /v2}}
          - {path: /legacy/, upstream: app, rewrite: {strip_prefix: /legacy/}}
          - {path: /, upstream: app, rewrite: {add_prefix: /site}}
        """);
    assertThat(tether.get("/api/users?id=1&sort=name").body()).startsWith("/v2/users?id=1&sort=name\n");
    assertThat(tether.get("/legacy/old/page.php?a=%20").body()).startsWith("/old/page.php?a=%20\n");
    assertThat(tether.get("/legacy/").body()).startsWith("/\n");
    assertThat(tether.get("/").body()).startsWith("/site/\n");
    // an absolute-form request line is rewritten the same way
    assertThat(raw("GET http://h.example/api/x?q HTTP/1.1\r\nHost: h.example\r\nConnection: close\r\n\r\n"))
        .contains("\r\n\r\n/v2/x?q\n");
  }
}
