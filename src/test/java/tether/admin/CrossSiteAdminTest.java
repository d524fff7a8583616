package tether.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import tether.config.ConfigException;
import tether.config.ConfigLoader;
import tether.testing.Backends;
import tether.testing.ProxyTestBase;
import tether.testing.RawHttp;
import tether.testing.TetherHarness;

/** Issue 11 item 9 on a real Tether: cross-site and DNS-rebinding admin calls get 403, change nothing, are logged. */
class CrossSiteAdminTest extends ProxyTestBase {

  private final Logger adminLog = (Logger) LoggerFactory.getLogger(AdminServer.class);
  private final ListAppender<ILoggingEvent> logged = new ListAppender<>();

  @BeforeEach
  void captureTheAdminLog() {
    logged.start();
    adminLog.addAppender(logged);
  }

  @AfterEach
  void releaseTheAdminLog() {
    adminLog.detachAppender(logged);
  }

  private void start(String adminExtra) {
    Backends.Backend web3 = backends.start("web3");
    tether = TetherHarness.start("admin: {address: 127.0.0.1, port: 0" + adminExtra + "}\n" + upstream("", web3));
  }

  /** The exact bytes a form on http://evil.example makes the operator's browser send. */
  private String crossSiteFormPost(String host, String... extraHeaders) throws Exception {
    String body = "confirm=yes";
    String request = "POST /servers/app/web3/disable HTTP/1.1\r\n"
        + "Host: " + host + "\r\n"
        + "Origin: http://evil.example\r\n"
        + "Referer: http://evil.example/\r\n"
        + "Sec-Fetch-Site: cross-site\r\nSec-Fetch-Mode: navigate\r\nSec-Fetch-Dest: document\r\n"
        + Arrays.stream(extraHeaders).map(h -> h + "\r\n").collect(Collectors.joining())
        + "Content-Type: application/x-www-form-urlencoded\r\n"
        + "Content-Length: " + body.length() + "\r\nConnection: close\r\n\r\n" + body;
    try (RawHttp raw = new RawHttp(tether.tether().adminPort())) {
      RawHttp.Read read = raw.send(request).readUntilCloseOrQuiet(10_000);
      assertThat(read.closed()).isTrue();
      return read.text();
    }
  }

  private String get(String path, String host) throws Exception {
    try (RawHttp raw = new RawHttp(tether.tether().adminPort())) {
      return raw.send("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
          .readUntilCloseOrQuiet(10_000).text();
    }
  }

  private JsonObject web3() {
    HttpResponse<String> r = tether.admin("GET", "/status", "Authorization", "Bearer s3cret");
    assertThat(r.statusCode()).isEqualTo(200);
    JsonArray servers = new JsonObject(r.body()).getJsonArray("upstreams").getJsonObject(0).getJsonArray("servers");
    return servers.getJsonObject(0);
  }

  private List<ILoggingEvent> events() {
    synchronized (logged) { // ListAppender appends under this lock, on the event loop
      return new ArrayList<>(logged.list);
    }
  }

  private String self() {
    return "127.0.0.1:" + tether.tether().adminPort();
  }

  @Test
  void theIssuesCrossSiteFormPostIsRefusedChangesNothingAndIsLogged() throws Exception {
    start("");
    String answer = crossSiteFormPost(self());
    assertThat(answer).startsWith("HTTP/1.1 403 ").contains("application/json")
        .contains("cross-site request refused: Sec-Fetch-Site is cross-site");
    assertThat(web3().getString("admin")).isEqualTo("active");
    assertThat(web3().getString("state")).isEqualTo("up");
    await().atMost(Duration.ofSeconds(5)).until(() -> events().stream().anyMatch(e -> e.getLevel() == Level.WARN
        && e.getFormattedMessage().matches("admin disable app/web3 from 127\\.0\\.0\\.1:\\d+ \\(token: none\\):"
            + " refused \\(403: cross-site request refused: Sec-Fetch-Site is cross-site\\)")));

    // an older browser without Sec-Fetch-*: the Origin alone refuses it
    String request = "POST /servers/app/web3/disable HTTP/1.1\r\nHost: " + self() + "\r\n"
        + "Origin: http://evil.example\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        + "Content-Length: 0\r\nConnection: close\r\n\r\n";
    try (RawHttp raw = new RawHttp(tether.tether().adminPort())) {
      assertThat(raw.send(request).readUntilCloseOrQuiet(10_000).text()).startsWith("HTTP/1.1 403 ")
          .contains("Origin http://evil.example is not this admin listener");
    }
    assertThat(web3().getString("admin")).isEqualTo("active");
  }

  @Test
  void aSameOriginPostFromTheStatusPageWorksAndIsLogged() {
    start("");
    HttpResponse<String> r = tether.admin("POST", "/servers/app/web3/disable",
        "Origin", "http://" + self(), "Sec-Fetch-Site", "same-origin");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(web3().getString("admin")).isEqualTo("disabled");
    assertThat(tether.admin("POST", "/servers/app/web3/enable").statusCode()).as("curl").isEqualTo(200);
    assertThat(web3().getString("admin")).isEqualTo("active");
    assertThat(tether.admin("POST", "/reload").statusCode()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(events())
        .filteredOn(e -> e.getLevel() == Level.INFO).extracting(ILoggingEvent::getFormattedMessage)
        .anyMatch(m -> m.matches(
            "admin disable app/web3 from 127\\.0\\.0\\.1:\\d+ \\(token: none\\): accepted \\(200\\)"))
        .anyMatch(m -> m.startsWith("admin enable app/web3 from 127.0.0.1:"))
        .anyMatch(m -> m.startsWith("admin reload from 127.0.0.1:") && m.endsWith("accepted (200)")));
  }

  @Test
  void aValidTokenDoesNotExcuseACrossSitePostAndIsNeverLogged() throws Exception {
    start(", token: s3cret");
    String answer = crossSiteFormPost(self(), "Authorization: Bearer s3cret");
    assertThat(answer).startsWith("HTTP/1.1 403 ");
    assertThat(web3().getString("admin")).isEqualTo("active");
    HttpResponse<String> wrong = tether.admin("POST", "/servers/app/web3/drain", "Authorization", "Bearer nope");
    assertThat(wrong.statusCode()).isEqualTo(401);
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(events())
        .extracting(ILoggingEvent::getFormattedMessage)
        .anyMatch(m -> m.startsWith("admin disable app/web3 from 127.0.0.1:") && m.contains("(token: valid)")
            && m.contains("refused (403"))
        .anyMatch(m -> m.startsWith("admin drain app/web3 from 127.0.0.1:") && m.contains("(token: invalid)")
            && m.contains("refused (401"))
        .noneMatch(m -> m.contains("s3cret") || m.contains("nope")));
  }

  @Test
  void aForeignHostIsRefusedEvenForReadsAndAllowedHostsLetsANameIn() throws Exception {
    start(", allowed_hosts: [tether-admin.internal]");
    int port = tether.tether().adminPort();
    assertThat(get("/status", "evil.example:" + port)).startsWith("HTTP/1.1 403 ")
        .contains("Host evil.example is not a name of this admin listener");
    assertThat(get("/metrics", "evil.example:" + port)).startsWith("HTTP/1.1 403 ");
    assertThat(get("/status", "tether-admin.internal:" + port)).startsWith("HTTP/1.1 200 ").contains("\"web3\"");
    assertThat(get("/status", "localhost:" + port)).startsWith("HTTP/1.1 200 ");
    assertThat(get("/status", "[::1]:" + port)).startsWith("HTTP/1.1 200 ");
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(events())
        .extracting(ILoggingEvent::getFormattedMessage)
        .anyMatch(m -> m.startsWith("admin GET /status from 127.0.0.1:") && m.contains("refused (403: Host")));
  }

  @Test
  void allowedHostsTakesNamesWithoutPortOrScheme() throws Exception {
    String yaml = "admin:\n  allowed_hosts: [tether-admin.internal, \"http://x.example:9090\"]\n"
        + "upstreams: {app: {servers: [{name: a, address: \"127.0.0.1:1\"}]}}\n";
    assertThatThrownBy(() -> new ConfigLoader(n -> null).parse("t.yaml", yaml)).isInstanceOf(ConfigException.class)
        .hasMessageContaining("t.yaml:2: admin.allowed_hosts: expected a host name without scheme or port")
        .hasMessageContaining("http://x.example:9090");
    assertThat(new ConfigLoader(n -> null).parse("t.yaml", yaml.replace(", \"http://x.example:9090\"", ""))
        .admin().allowedHosts()).containsExactly("tether-admin.internal");
  }
}
