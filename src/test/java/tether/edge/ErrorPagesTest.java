package tether.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import tether.admin.AdminServer;
import tether.testing.Backends;
import tether.testing.CookieClient;
import tether.testing.ProxyTestBase;
import tether.testing.TetherHarness;
import tether.upstream.AdminState;

/**
 * Tether's own 502, 503 and 504 on real sockets: the configured HTML page for browsers, one line of plain text for
 * API clients, never an upstream's or a server's name; the maintenance switch answers 503 with the page and
 * Retry-After without touching the user's pin, and switched off the user is back on its server.
 */
class ErrorPagesTest extends ProxyTestBase {

  /** What Chromium sends for a page. */
  static final String BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

  @TempDir
  Path dir;

  private final ListAppender<ILoggingEvent> logged = new ListAppender<>();

  @AfterEach
  void detach() {
    ((Logger) LoggerFactory.getLogger("tether.proxy.ErrorResponses")).detachAppender(logged);
    ((Logger) LoggerFactory.getLogger(AdminServer.class)).detachAppender(logged);
  }

  private void listen() {
    logged.start();
    ((Logger) LoggerFactory.getLogger("tether.proxy.ErrorResponses")).addAppender(logged);
    ((Logger) LoggerFactory.getLogger(AdminServer.class)).addAppender(logged);
  }

  private List<String> lines() {
    synchronized (logged) { // ListAppender appends under this lock, on the event loop
      return logged.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }
  }

  private Path page(String name, String html) throws IOException {
    return Files.writeString(dir.resolve(name), html);
  }

  static int closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Test
  void browsersGetThePageForEach5xxAndApiClientsPlainTextNamingNothing() throws Exception {
    String[] html = {"<!doctype html><h1>502 page</h1>", "<!doctype html><h1>503 page</h1>",
        "<!doctype html><h1>504 page</h1>"};
    page("502.html", html[0]);
    page("503.html", html[1]);
    page("504.html", html[2]);
    Backends.Backend silent = backends.start("silent_one", req -> { }); // never answers
    Backends.Backend off = backends.start("off_one");
    tether = TetherHarness.start("""
        timeouts: {response_header: 300ms}
        error_pages: {502: "%1$s/502.html", 503: "%1$s/503.html", 504: "%1$s/504.html"}
        upstreams:
          dead_pool: {passive: {max_fails: 0}, servers: [{name: dead_one, address: "127.0.0.1:%2$d"}]}
          slow_pool: {passive: {max_fails: 0}, servers: [{name: silent_one, address: "%3$s"}]}
          off_pool: {servers: [{name: off_one, address: "%4$s"}]}
        routes:
          - {path: /dead, upstream: dead_pool}
          - {path: /slow, upstream: slow_pool}
          - {path: /off, upstream: off_pool}
        """.formatted(dir, closedPort(), silent.address(), off.address()));
    tether.tether().proxy().snapshot().upstreams().get("off_pool").byName("off_one").state()
        .admin(AdminState.DISABLED, 0, "test", System.nanoTime());

    String[][] cases = {{"/dead", "502", "Bad Gateway"}, {"/off", "503", "Service Unavailable"},
        {"/slow", "504", "Gateway Timeout"}};
    for (int i = 0; i < cases.length; i++) {
      String path = cases[i][0];
      int status = Integer.parseInt(cases[i][1]);
      HttpResponse<String> browser = tether.get(path, "Accept", BROWSER);
      assertThat(browser.statusCode()).as(path).isEqualTo(status);
      assertThat(browser.headers().firstValue("content-type")).hasValue("text/html; charset=utf-8");
      assertThat(browser.body()).isEqualTo(html[i]);
      assertThat(browser.headers().firstValue("vary")).hasValue("Accept");
      assertThat(browser.headers().firstValue("cache-control")).hasValue("no-store");

      for (String accept : new String[] {"application/json", "*/*"}) {
        HttpResponse<String> api = tether.get(path, "Accept", accept);
        assertThat(api.statusCode()).as(path + " " + accept).isEqualTo(status);
        assertThat(api.headers().firstValue("content-type")).hasValue("text/plain; charset=utf-8");
        assertThat(api.body()).isEqualTo(status + " " + cases[i][2] + "\n");
      }
      HttpResponse<String> none = tether.get(path); // no Accept at all
      assertThat(none.body()).isEqualTo(status + " " + cases[i][2] + "\n");
      assertThat(browser.body() + none.body()).doesNotContain("pool", "_one", "127.0.0.1", "upstream");
    }
    assertThat(tether.get("/off", "Accept", BROWSER).headers().firstValue("retry-after")).hasValue("1");
  }

  @Test
  void withoutPagesEveryoneGetsPlainTextAndTheDetailGoesToTheLogOnly() {
    Backends.Backend a = backends.start("a");
    tether = TetherHarness.start("upstreams:\n  secret_cluster:\n    servers: [{name: db_host_7, address: \""
        + a.address() + "\"}]\n");
    tether.tether().proxy().snapshot().upstreams().get("secret_cluster").byName("db_host_7").state()
        .admin(AdminState.DISABLED, 0, "test", System.nanoTime());
    listen();
    // one line a second at most, for the whole process: another test may just have had one
    await().atMost(Duration.ofSeconds(5)).until(() -> {
      HttpResponse<String> r = tether.get("/", "Accept", BROWSER);
      assertThat(r.statusCode()).isEqualTo(503);
      assertThat(r.headers().firstValue("content-type")).hasValue("text/plain; charset=utf-8");
      assertThat(r.headers().firstValue("vary")).isEmpty();
      assertThat(r.body()).isEqualTo("503 Service Unavailable\n");
      return lines().stream().anyMatch(l -> l.startsWith("503 for GET /: upstream secret_cluster: no server"
          + " available (request_id "));
    });
  }

  @Test
  void anUpstreamsOwnPageWinsOverTheGlobalOne() throws Exception {
    page("global.html", "<h1>global</h1>");
    page("shop.html", "<h1>the shop is closed</h1>");
    int dead = closedPort();
    tether = TetherHarness.start("""
        error_pages: {502: global.html, 503: global.html}
        upstreams:
          shop: {error_pages: {503: shop.html}, servers: [{name: s, address: "127.0.0.1:%1$d"}],
                 health: {interval: 200ms, start_down: true}}
          blog: {servers: [{name: b, address: "127.0.0.1:%1$d"}], health: {interval: 200ms, start_down: true}}
        routes: [{path: /shop, upstream: shop}, {path: /, upstream: blog}]
        """.formatted(dead).replace("global.html", dir + "/global.html").replace("shop.html", dir + "/shop.html"));
    assertThat(tether.get("/shop", "Accept", BROWSER).body()).isEqualTo("<h1>the shop is closed</h1>");
    assertThat(tether.get("/blog", "Accept", BROWSER).body()).isEqualTo("<h1>global</h1>");
  }

  @Test
  void maintenanceAnswers503WithThePageAndRetryAfterAndThePinnedUserGoesBackToItsServer() throws Exception {
    page("maintenance.html", "<h1>maintenance</h1>");
    Backends.Backend web1 = backends.start("web1");
    Backends.Backend web2 = backends.start("web2");
    tether = TetherHarness.start("admin: {address: 127.0.0.1, port: 0}\nerror_pages: {503: \"" + dir
        + "/maintenance.html\"}\n" + upstream("    sticky: {mode: cookie, secret: s}\n    debug_header: true\n",
        web1, web2));
    CookieClient user = new CookieClient(tether);
    user.get("/");
    String home = user.debug().split(";")[0];
    String cookie = user.cookieHeader();
    assertThat(cookie).startsWith("TETHER=");
    listen();

    HttpResponse<String> on = tether.admin("POST", "/upstreams/app/maintenance/on?retry_after=10m");
    assertThat(on.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(on.body()).getBoolean("maintenance")).isTrue();
    assertThat(new JsonObject(tether.admin("GET", "/status").body()).getJsonArray("upstreams").getJsonObject(0)
        .getBoolean("maintenance")).isTrue();
    int served = web1.served().get() + web2.served().get();

    HttpResponse<String> page = tether.get("/cart?id=3", "Accept", BROWSER, "Cookie", cookie);
    assertThat(page.statusCode()).isEqualTo(503);
    assertThat(page.headers().firstValue("retry-after")).hasValue("600");
    assertThat(page.body()).isEqualTo("<h1>maintenance</h1>");
    assertThat(page.headers().allValues("set-cookie")).as("the pin is neither dropped nor rewritten").isEmpty();
    HttpResponse<String> api = tether.get("/api", "Accept", "application/json", "Cookie", cookie);
    assertThat(api.statusCode()).isEqualTo(503);
    assertThat(api.headers().firstValue("retry-after")).hasValue("600");
    assertThat(api.body()).isEqualTo("503 Service Unavailable\n");
    assertThat(web1.served().get() + web2.served().get()).as("no backend reached").isEqualTo(served);

    // a reload keeps the switch, as it keeps servers' admin states
    assertThat(tether.tether().reload().await()).isEmpty();
    assertThat(tether.get("/", "Cookie", cookie).statusCode()).isEqualTo(503);

    assertThat(tether.admin("POST", "/upstreams/app/maintenance/off").statusCode()).isEqualTo(200);
    for (int i = 0; i < 4; i++) {
      HttpResponse<String> back = user.get("/");
      assertThat(back.statusCode()).isEqualTo(200);
      assertThat(user.debug()).isEqualTo(home + "; sticky=hit");
    }
    assertThat(user.cookieHeader()).isEqualTo(cookie);
    assertThat(lines()).anySatisfy(l -> assertThat(l).startsWith("admin maintenance on app?retry_after=10m from")
        .endsWith("(token: none): accepted (200)"));
    assertThat(lines()).anySatisfy(l -> assertThat(l).startsWith("admin maintenance off app from")
        .endsWith("accepted (200)"));
  }

  @Test
  void theMaintenanceSwitchRefusesUnknownUpstreamsAndActions() {
    Backends.Backend a = backends.start("a");
    tether = TetherHarness.start("admin: {address: 127.0.0.1, port: 0}\n" + upstream("", a));
    assertThat(tether.admin("POST", "/upstreams/nope/maintenance/on").statusCode()).isEqualTo(404);
    assertThat(tether.admin("POST", "/upstreams/app/maintenance/maybe").statusCode()).isEqualTo(400);
    assertThat(tether.admin("POST", "/upstreams/app/maintenance/on?retry_after=soon").statusCode()).isEqualTo(400);
    assertThat(tether.admin("POST", "/upstreams/app/maintenance/on?retry_after=0s").statusCode()).isEqualTo(400);
    assertThat(tether.get("/").statusCode()).isEqualTo(200);
    HttpResponse<String> on = tether.admin("POST", "/upstreams/app/maintenance/on");
    assertThat(new JsonObject(on.body()).getLong("retry_after_s")).isEqualTo(300);
    assertThat(tether.get("/").headers().firstValue("retry-after")).hasValue("300");
  }
}
