package tether.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tether.testing.ProxyTestBase;
import tether.testing.RawHttp;
import tether.testing.ScriptedBackends;
import tether.testing.TetherHarness;
import tether.upstream.Backend;
import tether.upstream.BackendState;

/**
 * A backend that answers {@code 101 Switching Protocols} to a request that asked for no switch (a plain GET, HEAD or
 * POST): nginx's "upstream sent invalid header", Envoy's upstream protocol error. The client gets a 502 and nothing of
 * the switch; the attempt is a failed one ({@code upstream_status} {@code invalid_response}), counted against the
 * server (passive health, {@code tether_upstream_errors_total{kind="invalid_response"}}); the backend connection is
 * closed, never pooled; the request is not sent elsewhere (the server answered: it ran there), so a sticky user stays
 * pinned, and moves only once passive health ejects the server. The same on the fast path (GET, HEAD) and the Vert.x
 * path (POST, a GET asking {@code Connection: close}).
 */
class UnaskedSwitchTest extends ProxyTestBase {

  private static final String SECRET = "s3cret-s3cret-s3cret";
  private static final String SWITCH = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
      + "Upgrade: websocket\r\n\r\nraw bytes of another protocol";

  private final ScriptedBackends badServers = new ScriptedBackends();
  private final ScriptedBackends goodServers = new ScriptedBackends();
  private final RecordingListener recorder = new RecordingListener();
  /** While set, the server "bad" answers every request with an unasked 101; else a 200 saying "bad". */
  private final AtomicBoolean switching = new AtomicBoolean();
  private final Queue<String> badSeen = new ConcurrentLinkedQueue<>();
  private final Queue<String> goodSeen = new ConcurrentLinkedQueue<>();
  private int badPort;

  @AfterEach
  void closeScripted() throws IOException {
    badServers.close();
    goodServers.close();
  }

  /** "bad" the primary, "good" a backup: a new user goes to bad, and only a failover or an ejection reaches good. */
  private void start(int maxFails) throws IOException {
    // (its 200s close their connection: every connection Tether closes is then the switched one)
    badPort = badServers.start(head -> switching.get() ? SWITCH
        : "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbad#CLOSE", badSeen);
    int goodPort = goodServers.start(head -> "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ngood", goodSeen);
    tether = TetherHarness.start("upstreams:\n  app:\n    max_attempts: 2\n"
        + "    passive: {max_fails: " + maxFails + ", fail_window: 1m, eject_for: 1m}\n"
        + "    sticky: {mode: cookie, secret: " + SECRET + "}\n"
        + "    servers:\n"
        + "      - {name: bad, address: \"127.0.0.1:" + badPort + "\"}\n"
        + "      - {name: good, address: \"127.0.0.1:" + goodPort + "\", backup: true}\n", 1, List.of(recorder));
  }

  /** The cookie a first request to bad (while it still answers) pins; it names bad. */
  private String pinnedToBad() throws IOException {
    try (RawHttp raw = new RawHttp(tether.port())) {
      String r = raw.send("GET /pin HTTP/1.1\r\nHost: x\r\n\r\n").readResponse(5000, false);
      assertThat(r).startsWith("HTTP/1.1 200").endsWith("bad");
      String line = r.lines().filter(l -> l.regionMatches(true, 0, "set-cookie:", 0, 11)).findFirst().orElseThrow();
      return line.substring(11).trim().split(";")[0];
    }
  }

  private ExchangeRecord record(String uri) {
    return recorder.records.stream().filter(r -> r.uri().equals(uri)).findFirst().orElse(null);
  }

  private Backend server(String name) {
    return tether.tether().proxy().snapshot().upstreams().get("app").byName(name);
  }

  private void awaitNothingInFlight() {
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
      assertThat(server("bad").state().inFlight()).as("in flight on bad").isZero();
      assertThat(server("good").state().inFlight()).as("in flight on good").isZero();
    });
  }

  /**
   * One row: {@code request} (its first line and headers but the cookie) gets an unasked 101 from the user's
   * server. {@code path} says which of Tether's paths serves it, by {@link FastExchange#admit}'s rules.
   */
  @ParameterizedTest(name = "{0} {1} ({2} path), sticky cookie: {3}")
  @CsvSource({
      "GET,  /get,       fast,  false",
      "GET,  /get,       fast,  true",
      "HEAD, /head,      fast,  false",
      "HEAD, /head,      fast,  true",
      "POST, /post,      vertx, false",
      "POST, /post,      vertx, true",
      "GET,  /get-close, vertx, true",
  })
  void anUnaskedSwitchIsA502AndAFailedAttemptOfThatServer(String method, String uri, String path, boolean cookie)
      throws Exception {
    String headers = method.equals("POST") ? "Content-Length: 3\r\n"
        : uri.endsWith("-close") ? "Connection: close\r\n" : ""; // (Connection: close keeps a GET off the fast path)
    start(5);
    String pin = cookie ? pinnedToBad() : null;
    int connectionsBefore = badServers.accepted();
    recorder.records.clear();
    switching.set(true);
    String body = method.equals("POST") ? "a=1" : "";
    try (RawHttp raw = new RawHttp(tether.port())) {
      String r = raw.send(method + " " + uri + " HTTP/1.1\r\nHost: x\r\n" + headers
          + (pin == null ? "" : "Cookie: " + pin + "\r\n") + "\r\n" + body).readResponse(5000, method.equals("HEAD"));
      assertThat(r).as("what the client got").startsWith("HTTP/1.1 502").doesNotContain("raw bytes")
          .doesNotContainIgnoringCase("upgrade:").doesNotContainIgnoringCase("set-cookie:");
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> record(uri) != null);
    ExchangeRecord log = record(uri);
    assertThat(log.status()).isEqualTo(502);
    assertThat(log.server()).isEqualTo("bad");
    assertThat(log.upstreamAddresses()).isEqualTo("127.0.0.1:" + badPort);
    assertThat(log.upstreamStatuses()).as("a failed attempt, as the access log says it").isEqualTo("invalid_response");
    assertThat(log.attempts()).as("not sent elsewhere: the server answered, the request ran there").isEqualTo(1);
    assertThat(recorder.blamed).as("counted against that server").containsExactly("bad:invalid_response");
    BackendState bad = server("bad").state();
    assertThat(tether.tether().metrics().errors(bad)).containsEntry("invalid_response", 1L);
    assertThat(goodSeen).as("no other server got the request").isEmpty();
    assertThat(badServers.accepted()).as("connections to bad").isEqualTo(connectionsBefore + 1);
    await("the switched backend connection closed by Tether").atMost(Duration.ofSeconds(5))
        .until(() -> badServers.closedByPeer() == 1);
    awaitNothingInFlight();

    // the server answers again, and the user was not moved
    switching.set(false);
    try (RawHttp raw = new RawHttp(tether.port())) {
      String r = raw.send("GET /after HTTP/1.1\r\nHost: x\r\n" + (pin == null ? "" : "Cookie: " + pin + "\r\n")
          + "\r\n").readResponse(5000, false);
      assertThat(r).startsWith("HTTP/1.1 200").endsWith("bad");
    }
    if (cookie) {
      await().atMost(Duration.ofSeconds(5)).until(() -> record("/after") != null);
      assertThat(record("/after").sticky()).as("still pinned to bad").isEqualTo("hit");
    }
  }

  /**
   * Passive health counts unasked switches like any failure: {@code max_fails} of them eject the server, and its
   * pinned user moves then (re-pinned to the backup), not before. A 101 was a success before: it ended any run of
   * failures.
   */
  @Test
  void unaskedSwitchesEjectTheServerAndOnlyThenIsThePinnedUserMoved() throws Exception {
    start(2);
    String pin = pinnedToBad();
    switching.set(true);
    for (String uri : List.of("/one", "/two")) {
      try (RawHttp raw = new RawHttp(tether.port())) {
        assertThat(raw.send("GET " + uri + " HTTP/1.1\r\nHost: x\r\nCookie: " + pin + "\r\n\r\n")
            .readResponse(5000, false)).startsWith("HTTP/1.1 502");
      }
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> record("/two") != null);
    assertThat(server("bad").state().status(System.nanoTime())).isEqualTo(BackendState.Status.EJECTED);
    assertThat(goodSeen).isEmpty();
    try (RawHttp raw = new RawHttp(tether.port())) {
      String r = raw.send("GET /three HTTP/1.1\r\nHost: x\r\nCookie: " + pin + "\r\n\r\n").readResponse(5000, false);
      assertThat(r).startsWith("HTTP/1.1 200").endsWith("good").containsIgnoringCase("set-cookie:");
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> record("/three") != null);
    assertThat(record("/three").sticky()).isEqualTo("repin");
    awaitNothingInFlight();
  }
}
