package tether.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tether.testing.RaceBackend;
import tether.testing.TetherHarness;

/**
 * The keep-alive race (issue 11 item 6): a pooled connection the backend closes as Tether reuses it is not the
 * server's failure. Each request here comes on a fresh client connection, as users a few seconds apart do.
 */
class KeepAliveRaceTest {

  private TetherHarness tether;
  private RaceBackend a;
  private RaceBackend b;

  @AfterEach
  void stop() throws Exception {
    if (tether != null) {
      tether.close();
    }
    for (RaceBackend r : new RaceBackend[] {a, b}) {
      if (r != null) {
        r.close();
      }
    }
  }

  private void start(String sticky, long idleCloseMillis) throws Exception {
    a = new RaceBackend("a", idleCloseMillis);
    b = new RaceBackend("b", idleCloseMillis);
    tether = TetherHarness.start("upstreams:\n  app:\n    debug_header: true\n" + sticky
        + "    servers:\n      - {name: a, address: \"" + a.address() + "\"}\n      - {name: b, address: \""
        + b.address() + "\"}\n");
  }

  /** Every request on a new client connection (Java's client would otherwise pool them). */
  private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .executor(Runnable::run).build();
    return client.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpRequest.Builder get(String cookie) {
    HttpRequest.Builder r = HttpRequest.newBuilder(java.net.URI.create(tether.url("/")));
    return cookie == null ? r : r.header("Cookie", cookie);
  }

  @Test
  void theIssuesExampleGetsTwo200sAndTheServerNoFailure() throws Exception {
    start("", 0); // every reused connection is closed as the next request arrives
    for (int i = 0; i < 6; i++) {
      assertThat(send(get(null)).statusCode()).as("request " + i).isEqualTo(200);
    }
    assertThat(a.dropped() + b.dropped()).as("the race happened").isGreaterThan(0);
    assertFailures(0);
  }

  @Test
  void aPinnedUserStaysOnItsServerAndIsNotRepinnedNorIsTheServerEjected() throws Exception {
    start("    sticky: {mode: cookie, secret: s3cret-s3cret-s3cret}\n", 0);
    HttpResponse<String> first = send(get(null));
    String cookie = first.headers().firstValue("set-cookie").orElseThrow().split(";", 2)[0];
    String server = first.headers().firstValue("x-served-by").orElseThrow();
    for (int i = 0; i < 6; i++) { // passive ejection would need 3 failures in a row
      HttpResponse<String> r = send(get(cookie));
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.headers().firstValue("x-served-by")).hasValue(server);
      assertThat(r.headers().firstValue("x-tether-upstream")).hasValue(server + "; sticky=hit");
      assertThat(r.headers().firstValue("set-cookie")).as("no re-pin").isEmpty();
    }
    assertThat(a.dropped() + b.dropped()).as("the race happened on every other request").isGreaterThanOrEqualTo(3);
    assertFailures(0);
  }

  /**
   * A POST is never resent, so it must not ride a connection idle long enough to be closing: after a gap of 1.5 s
   * (the backend drops reused connections idle 1.2 s) it goes on a fresh connection, GET and POST alike get 200.
   */
  @Test
  void afterAnIdleGapPostsTakeAFreshConnectionAndGetsAreResentOnOne() throws Exception {
    start("", 1200);
    String big = "x".repeat(200_000); // larger than retry_buffer: streamed, never replayable
    for (int round = 0; round < 2; round++) {
      assertThat(send(get(null)).statusCode()).isEqualTo(200);
      assertThat(send(get(null)).statusCode()).isEqualTo(200);
      Thread.sleep(1500); // the idle gap is the scenario
      HttpResponse<String> post = send(HttpRequest.newBuilder(java.net.URI.create(tether.url("/upload")))
          .POST(HttpRequest.BodyPublishers.ofString(big)));
      assertThat(post.statusCode()).isEqualTo(200);
      assertThat(post.body()).isEqualTo("200000");
      Thread.sleep(1500);
      assertThat(send(get(null)).statusCode()).isEqualTo(200);
      assertThat(send(HttpRequest.newBuilder(java.net.URI.create(tether.url("/form")))
          .POST(HttpRequest.BodyPublishers.ofString("a=1&b=2"))).statusCode()).isEqualTo(200);
    }
    assertFailures(0);
  }

  private void assertFailures(long expected) {
    var upstream = tether.tether().proxy().snapshot().upstreams().get("app");
    assertThat(upstream.byName("a").state().failures() + upstream.byName("b").state().failures())
        .as("passive failures").isEqualTo(expected);
  }
}
