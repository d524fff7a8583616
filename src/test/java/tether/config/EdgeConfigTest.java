package tether.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tether.edge.ServerHeader;
import tether.testing.TetherProcess;

/**
 * The edge keys as {@code tether check} sees them: error pages read at load (a file that is missing, empty or a
 * directory is an error at its line), redirects, rewrites and header rules checked once, every error at once.
 */
class EdgeConfigTest {

  private static final String UP = "upstreams: {app: {servers: [{name: a, address: \"127.0.0.1:1\"}]}}\n";

  @TempDir
  Path dir;

  private List<String> errors(String yaml) throws Exception {
    Path file = dir.resolve("t.yaml");
    Files.writeString(file, yaml);
    try {
      new ConfigLoader(Map.of("PAGES", dir.toString())::get).load(file);
    } catch (ConfigException e) {
      return e.errors().stream().map(l -> l.replace(dir + "/", "")).toList();
    }
    throw new AssertionError("expected errors");
  }

  @Test
  void pagesAreReadAtLoadRelativeToTheConfigFileAndFallBackToTheGlobalOnes() throws Exception {
    Files.writeString(dir.resolve("503.html"), "<h1>global 503</h1>");
    Files.createDirectories(dir.resolve("pages"));
    Files.writeString(dir.resolve("pages/shop.html"), "<h1>shop</h1>");
    Path file = dir.resolve("t.yaml");
    Files.writeString(file, """
        error_pages: {503: 503.html, 502: "${PAGES}/503.html"}
        upstreams:
          shop: {error_pages: {503: pages/shop.html}, servers: [{name: a, address: "127.0.0.1:1"}]}
          blog: {servers: [{name: b, address: "127.0.0.1:2"}]}
        routes: [{path: /shop, upstream: shop}, {path: /, upstream: blog}]
        """);
    TetherConfig c = new ConfigLoader(Map.of("PAGES", dir.toString())::get).load(file);
    assertThat(new String(c.upstreams().get("shop").errorPages().html(503))).isEqualTo("<h1>shop</h1>");
    assertThat(new String(c.upstreams().get("shop").errorPages().html(502))).isEqualTo("<h1>global 503</h1>");
    assertThat(new String(c.upstreams().get("blog").errorPages().html(503))).isEqualTo("<h1>global 503</h1>");
    assertThat(c.upstreams().get("blog").errorPages().html(504)).isNull();
    assertThat(c.errorPages().files()).containsEntry(503, dir.resolve("503.html").toString());
    assertThat(c.serverHeader()).isEqualTo(ServerHeader.TETHER);
    // a page read at load: changing the file changes nothing until a reload reads it again
    Files.writeString(dir.resolve("503.html"), "changed");
    assertThat(new String(c.upstreams().get("blog").errorPages().html(503))).isEqualTo("<h1>global 503</h1>");
  }

  @Test
  void everyEdgeErrorAtOnceWithItsLine() throws Exception {
    Files.createDirectories(dir.resolve("adir"));
    Files.writeString(dir.resolve("empty.html"), "");
    assertThat(errors("""
        error_pages:
          503: missing.html
          502: adir
          504: empty.html
          404: notfound.html
        server_header: hide
        upstreams:
          app:
            servers: [{name: a, address: "127.0.0.1:1"}]
            error_pages: {503: "/nowhere/503.html"}
        routes:
          - path: /old
            redirect: {status: 200, to: "https://example.com"}
          - path: /x
            redirect: {to: "example.com/x"}
            upstream: app
          - path: /y
            upstream: app
            rewrite: {strip_prefix: api}
          - path: /z
            upstream: app
            rewrite: {}
            headers:
              request:
                set: {X-Real-IP: $remote_addr, Host: example.com, x-lower: 1}
                remove: [X-Real-IP, "Bad Name"]
              response: {add: {Transfer-Encoding: chunked}, sett: {}}
          - {path: /r, redirect: {to: /a}, rewrite: {add_prefix: /b}, headers: {request: {set: {X-A: b}}}}
        """)).containsExactly(
        "t.yaml:2: error_pages.503: no such file: missing.html (a relative path is read from the configuration"
            + " file's directory, " + dir + ")",
        "t.yaml:3: error_pages.502: adir is a directory (expected: an HTML file)",
        "t.yaml:4: error_pages.504: empty.html is empty (expected: an HTML page of 1 to 1048576 bytes, its"
            + " images and styles inline)",
        "t.yaml:5: error_pages.404: no page for 404: pages are for the 502, 503 and 504 Tether answers itself"
            + " when backends fail it (expected: 502, 503 or 504)",
        "t.yaml:6: server_header: expected one of pass | tether | remove, got \"hide\"",
        "t.yaml:10: upstreams.app.error_pages.503: no such file: /nowhere/503.html",
        "t.yaml:13: routes[0].redirect.status: expected one of 301, 302, 303, 307, 308, got 200",
        "t.yaml:15: routes[1].redirect.to: \"example.com/x\" is not an absolute http(s) URL (expected: an"
            + " absolute http(s) URL such as https://example.com, or a path starting with /)",
        "t.yaml:16: routes[1].upstream: a redirect route forwards nothing (expected: upstream or redirect, not"
            + " both)",
        "t.yaml:19: routes[2].rewrite.strip_prefix: expected a path starting with /, got \"api\"",
        "t.yaml:22: routes[3].rewrite: expected strip_prefix, add_prefix or both",
        "t.yaml:25: routes[3].headers.request.set.x-lower: keys starting with x- are ignored (extension fields):"
            + " write the header with a capital, X-lower",
        "t.yaml:25: routes[3].headers.request.set.X-Real-IP: unknown variable $remote_addr (expected:"
            + " $client_ip, $request_id, $scheme, $host; $$ for a literal $)",
        "t.yaml:25: routes[3].headers.request.set.Host: managed by Tether for each connection, cannot be"
            + " changed by a rule",
        "t.yaml:26: routes[3].headers.request.remove[0]: X-Real-IP is named by set already (expected: one rule"
            + " per header)",
        "t.yaml:26: routes[3].headers.request.remove[1]: \"Bad Name\" is not a header name (expected letters,"
            + " digits and !#$%&'*+.^_`|~-)",
        "t.yaml:27: routes[3].headers.response.add.Transfer-Encoding: managed by Tether for each connection,"
            + " cannot be changed by a rule",
        "t.yaml:27: routes[3].headers.response.sett: unknown key (did you mean set?)",
        "t.yaml:28: routes[4].headers.request: a redirect route forwards no request (expected: response rules"
            + " only)",
        "t.yaml:28: routes[4].rewrite: a redirect route forwards no request: nothing to rewrite (expected:"
            + " redirect or rewrite, not both)");
  }

  @Test
  void tetherCheckReportsAMissingPageAndABadRedirectWithFileAndLineAndExits1() throws Exception {
    Path file = dir.resolve("tether.yaml");
    Files.writeString(file, UP + """
        error_pages: {503: /srv/www/errors/503.html}
        routes:
          - {host: old.example, redirect: {status: 303, to: "https://new.example"}}
          - {host: older.example, redirect: {status: 200, to: "https://new.example"}}
          - {path: /, upstream: app}
        """);
    try (TetherProcess check = TetherProcess.start(dir, "check", "--config", file.toString())) {
      assertThat(check.exitCode(Duration.ofSeconds(60))).isEqualTo(1);
      assertThat(check.stderr().lines().toList()).containsExactly(
          file + ":2: error_pages.503: no such file: /srv/www/errors/503.html",
          file + ":5: routes[1].redirect.status: expected one of 301, 302, 303, 307, 308, got 200",
          file + ": 2 error(s)");
    }
  }
}
