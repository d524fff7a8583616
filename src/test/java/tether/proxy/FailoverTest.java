package tether.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import tether.testing.Backends;
import tether.testing.ProxyTestBase;
import tether.testing.CookieClient;
import tether.testing.TetherHarness;

/** What happens to requests when a backend dies, resets or hangs. */
class FailoverTest extends ProxyTestBase {


  private static String config(String extra, Backends.Backend... servers) {
    StringBuilder y = new StringBuilder("upstreams:\n  app:\n    servers:\n");
    for (Backends.Backend b : servers) {
      y.append("      - {name: ").append(b.name()).append(", address: \"").append(b.address()).append("\"}\n");
    }
    return y.append(extra).toString();
  }

  @Test
  void twentyStickyClientsLoseNothingWhenOneBackendIsKilled() throws Exception {
    Backends.Backend[] servers = {backends.start("web1"), backends.start("web2"), backends.start("web3")};
    tether = TetherHarness.start(config("    sticky: {mode: cookie, secret: s}\n", servers), 2);
    List<CookieClient> clients = new ArrayList<>();
    List<List<String>> seen = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      CookieClient c = new CookieClient(tether);
      clients.add(c);
      seen.add(new ArrayList<>(List.of(c.get("/").body())));
    }
    String victim = seen.get(0).get(0);
    AtomicInteger non2xx = new AtomicInteger();
    AtomicInteger requests = new AtomicInteger();
    AtomicBoolean killed = new AtomicBoolean();
    List<CompletableFuture<Void>> loops = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      CookieClient c = clients.get(i);
      List<String> mine = seen.get(i);
      loops.add(CompletableFuture.runAsync(() -> {
        for (int n = 0; n < 60; n++) {
          HttpResponse<String> r = c.get("/");
          requests.incrementAndGet();
          if (r.statusCode() / 100 != 2) {
            non2xx.incrementAndGet();
          }
          mine.add(r.body());
          if (n == 20 && killed.compareAndSet(false, true)) {
            backends.stop(victim);
          }
        }
      }));
    }
    loops.forEach(CompletableFuture::join);
    assertThat(killed).isTrue();
    assertThat(non2xx).hasValue(0);
    for (List<String> history : seen) {
      String home = history.get(0);
      long distinct = history.stream().distinct().count();
      if (home.equals(victim)) {
        assertThat(distinct).as("a victim's user moves once, then stays: %s", history).isEqualTo(2);
        String last = history.get(history.size() - 1);
        assertThat(history.subList(history.indexOf(last), history.size())).containsOnly(last);
      } else {
        assertThat(distinct).as("a bystander never moves: %s", history).isEqualTo(1);
      }
    }
    System.out.printf("failover: %d requests, %d non-2xx, victim %s%n", requests.get(), non2xx.get(), victim);
  }

  @Test
  void aPostIsNeverDeliveredTwiceButAGetIsRetried() {
    AtomicInteger posts = new AtomicInteger();
    AtomicInteger gets = new AtomicInteger();
    // reads the request, then drops the connection without answering
    Backends.Backend broken = backends.start("broken", req -> req.body().onSuccess(body -> {
      (req.method().name().equals("POST") ? posts : gets).incrementAndGet();
      req.connection().close();
    }));
    Backends.Backend healthy = backends.start("healthy");
    tether = TetherHarness.start(config("    passive: {max_fails: 0}\n", broken, healthy)); // keep broken in play
    int postsSeenByHealthy = 0;
    for (int i = 0; i < 6; i++) {
      HttpResponse<String> r = tether.send(HttpRequest.newBuilder(URI.create(tether.url("/pay")))
          .POST(HttpRequest.BodyPublishers.ofString("amount=10")).build());
      if (r.statusCode() == 200) {
        postsSeenByHealthy++;
      } else {
        assertThat(r.statusCode()).isEqualTo(502);
      }
    }
    assertThat(posts.get() + postsSeenByHealthy).as("each POST delivered exactly once").isEqualTo(6);
    assertThat(posts).hasValue(3);
    for (int i = 0; i < 6; i++) {
      assertThat(tether.get("/page").statusCode()).isEqualTo(200);
    }
    assertThat(gets.get()).isBetween(1, 6); // each retry advances round robin: broken may come first every time
  }

  @Test
  void aSmallIdempotentBodyIsReplayedToAnotherServer() {
    AtomicInteger resets = new AtomicInteger();
    Backends.Backend broken = backends.start("broken", req -> req.body().onSuccess(body -> {
      resets.incrementAndGet();
      req.connection().close();
    }));
    Backends.Backend echo = backends.start("echo", req -> req.body().onSuccess(body ->
        req.response().end("echo " + body)));
    tether = TetherHarness.start(config("", broken, echo));
    for (int i = 0; i < 4; i++) {
      HttpResponse<String> r = tether.send(HttpRequest.newBuilder(URI.create(tether.url("/doc")))
          .PUT(HttpRequest.BodyPublishers.ofString("v" + i)).build());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).isEqualTo("echo v" + i);
    }
    assertThat(resets.get()).isBetween(1, 4);
  }

  @Test
  void aHangingBackendSendsIdempotentRequestsElsewhereWithinTheTimeout() {
    Backends.Backend hung = backends.start("hung", req -> { /* never answers */ });
    Backends.Backend ok = backends.start("ok");
    tether = TetherHarness.start(config("timeouts: {connect: 1s, response_header: 300ms}\n", hung, ok));
    for (int i = 0; i < 4; i++) {
      long start = System.nanoTime();
      HttpResponse<String> r = tether.get("/");
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).isEqualTo("ok");
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
    }
    HttpResponse<String> post = tether.send(HttpRequest.newBuilder(URI.create(tether.url("/")))
        .POST(HttpRequest.BodyPublishers.ofString("x")).build());
    assertThat(post.statusCode()).isIn(200, 504);
  }
}
