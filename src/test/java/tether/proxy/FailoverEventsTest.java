package tether.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import tether.testing.Backends;
import tether.testing.CookieClient;
import tether.testing.ProxyTestBase;
import tether.testing.TetherHarness;
import tether.upstream.AdminState;
import tether.upstream.Backend;

/**
 * Failovers seen as the order of events (OkHttp's EventRecorder is the model): what the proxy decided, in which
 * order, for one request; and the issue 12 cases: backup hand-back, a page's burst landing on one server.
 */
class FailoverEventsTest extends ProxyTestBase {

  /** Records what every listener hears, as short lines. */
  static final class EventRecorder implements ProxyListener {
    final List<String> events = Collections.synchronizedList(new ArrayList<>());

    @Override
    public void repinned(String upstream, String reason) {
      events.add("repinned " + reason);
    }

    @Override
    public void retried(Backend failed, String reason) {
      events.add("retried " + failed.name() + " " + reason);
    }

    @Override
    public void backendFailed(Backend backend, String reason) {
      events.add("failed " + backend.name() + " " + reason);
    }

    @Override
    public void backendResponded(Backend backend, int status) {
      events.add("responded " + backend.name() + " " + status);
    }

    @Override
    public void exchangeEnded(ExchangeRecord r) {
      events.add("ended " + r.status() + " " + r.server() + " sticky=" + r.sticky() + " attempts=" + r.attempts());
    }
  }

  private final EventRecorder recorder = new EventRecorder();

  private void start(String extra, Backends.Backend... servers) {
    StringBuilder y = new StringBuilder("upstreams:\n  app:\n    debug_header: true\n").append(extra)
        .append("    servers:\n");
    for (Backends.Backend b : servers) {
      y.append("      - {name: ").append(b.name()).append(", address: \"").append(b.address()).append("\"")
          .append(b.name().startsWith("spare") ? ", backup: true" : "").append("}\n");
    }
    tether = TetherHarness.start(y.toString(), 1, List.of(recorder));
  }

  /** The exchange ends after the last byte was written: the client may have it a moment before. */
  private void awaitEnded() {
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
        .until(() -> recorder.events.stream().anyMatch(e -> e.startsWith("ended")));
  }

  private Backend server(String name) {
    return tether.tether().proxy().snapshot().upstreams().get("app").byName(name);
  }

  @Test
  void aPinnedServerThatRefusesConnectionsFailsOverInThisOrder() {
    Backends.Backend a = backends.start("a");
    Backends.Backend b = backends.start("b");
    start("    sticky: {mode: cookie, secret: s3cret-s3cret-s3cret}\n", a, b);
    CookieClient user = new CookieClient(tether);
    String first = user.get("/").body();
    String other = first.equals("a") ? "b" : "a";
    backends.stop(first);
    // its pooled connection closed too (else the first event is the keep-alive race: "retried a reused_connection")
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
        .until(() -> tether.tether().metrics().connections(server(first).state()) == 0);
    recorder.events.clear();
    assertThat(user.get("/").body()).isEqualTo(other);
    awaitEnded();
    assertThat(recorder.events).containsExactly(
        "failed " + first + " connect_failed",
        "repinned connect_failed",
        "retried " + first + " connect_failed",
        "responded " + other + " 200",
        "ended 200 " + other + " sticky=repin attempts=2");
    recorder.events.clear();
    assertThat(user.get("/").body()).isEqualTo(other);
    awaitEnded();
    assertThat(recorder.events).containsExactly("responded " + other + " 200",
        "ended 200 " + other + " sticky=hit attempts=1");
  }

  /** Issue 12: primaries back up, a user pinned to the backup moves to a primary at its next request. */
  @Test
  void aUserOnTheBackupIsHandedBackToAPrimaryAtItsNextRequest() {
    Backends.Backend a = backends.start("a");
    Backends.Backend spare = backends.start("spare");
    start("    sticky: {mode: cookie, secret: s3cret-s3cret-s3cret}\n", a, spare);
    server("a").admin(AdminState.DISABLED, 0, "test"); // primaries out
    CookieClient user = new CookieClient(tether);
    assertThat(user.get("/").body()).isEqualTo("spare");
    assertThat(user.get("/").body()).isEqualTo("spare");
    assertThat(user.debug()).isEqualTo("spare; sticky=hit");
    server("a").admin(AdminState.ACTIVE, 0, "test"); // and back
    assertThat(user.get("/").body()).isEqualTo("a");
    assertThat(user.debug()).isEqualTo("a; sticky=repin");
    assertThat(recorder.events).contains("repinned backup_handback");
    assertThat(user.get("/").body()).isEqualTo("a");
    assertThat(user.debug()).isEqualTo("a; sticky=hit");
  }

  /** Issue 12: when the pinned server dies, a page's parallel requests (one session) all land on one server. */
  @Test
  void aBurstFromOneSessionFailsOverToOneServer() throws Exception {
    Backends.Backend[] servers = {backends.start("a"), backends.start("b"), backends.start("c"), backends.start("d")};
    start("    sticky: {mode: cookie, secret: s3cret-s3cret-s3cret}\n", servers);
    for (int user = 0; user < 8; user++) {
      CookieClient pinned = new CookieClient(tether);
      String home = pinned.get("/").body();
      server(home).admin(AdminState.DISABLED, 0, "test");
      String cookie = pinned.cookieHeader();
      List<CompletableFuture<HttpResponse<String>>> burst = IntStream.range(0, 12)
          .mapToObj(i -> tether.http().sendAsync(HttpRequest.newBuilder(URI.create(tether.url("/asset" + i)))
              .header("Cookie", cookie).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()))
          .toList();
      List<String> landed = burst.stream().map(f -> f.join().body()).distinct().toList();
      assertThat(landed).as("user " + user + " moved from " + home).hasSize(1).doesNotContain(home);
      server(home).admin(AdminState.ACTIVE, 0, "test");
    }
  }

  /** A GET that reached a server which then died: sent elsewhere by default, never with retry_after_send: never. */
  @Test
  void retryAfterSendDecidesWhetherARequestThatReachedADyingServerRunsTwice() {
    for (String policy : List.of("idempotent", "never")) {
      List<String> ran = Collections.synchronizedList(new ArrayList<>());
      Backends.Backend dying = backends.start("dying-" + policy, req -> {
        ran.add("dying");
        req.connection().close(); // it ran, then the server died before answering
      });
      Backends.Backend healthy = backends.start("healthy-" + policy, req -> {
        ran.add("healthy");
        req.response().end("ok");
      });
      start("    retry_after_send: " + policy + "\n    balance: round_robin\n", dying, healthy);
      int dyingFirst = 0;
      for (int i = 0; i < 4; i++) {
        ran.clear();
        HttpResponse<String> r = tether.get("/counter");
        if (ran.get(0).equals("dying")) {
          dyingFirst++;
          if (policy.equals("never")) {
            assertThat(r.statusCode()).as(policy).isEqualTo(502);
            assertThat(ran).as("at most once").containsExactly("dying");
          } else {
            assertThat(r.statusCode()).as(policy).isEqualTo(200);
            assertThat(ran).as("at least once: it ran twice").containsExactly("dying", "healthy");
          }
        }
      }
      assertThat(dyingFirst).as(policy + ": round robin sent some to the dying server first").isGreaterThan(0);
      tether.close();
      tether = null;
    }
  }
}
