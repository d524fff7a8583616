package tether.limits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tether.proxy.ExchangeRecord;
import tether.proxy.ProxyListener;
import tether.testing.Backends;
import tether.testing.PrometheusText;
import tether.testing.ProxyTestBase;
import tether.testing.TetherHarness;

/**
 * {@code rate_limit} and {@code conn_limit} on real sockets. Rates are slow ({@code 1/m}) so no token comes back
 * during a test: the counts are exact, never a matter of timing.
 */
class RouteLimitsProxyTest extends ProxyTestBase {

  @TempDir
  Path dir;

  /** What the access log is handed: one record per request, limited ones included. */
  private final List<ExchangeRecord> records = new CopyOnWriteArrayList<>();
  private final ProxyListener recorder = new ProxyListener() {
    @Override
    public void exchangeEnded(ExchangeRecord r) {
      records.add(r);
    }
  };

  private static String config(Backends.Backend web, String route) {
    return "upstreams:\n  app:\n    servers: [{name: " + web.name() + ", address: \"" + web.address() + "\"}]\n"
        + "routes:\n  - {path: /, upstream: app, " + route + "}\n";
  }

  private void start(String yaml, int workers) {
    tether = TetherHarness.start(yaml, workers, List.of(recorder));
  }

  private List<Integer> statuses(int requests, String... headers) {
    List<Integer> out = new ArrayList<>();
    for (int i = 0; i < requests; i++) {
      out.add(tether.get("/", headers).statusCode());
    }
    return out;
  }

  @Test
  void aBurstGetsBurstPlusOneThrough_theRest429WithRetryAfter_andNoneReachesTheBackend() {
    Backends.Backend web = backends.start("web1");
    start(config(web, "rate_limit: {rate: 1/m, burst: 3}"), 1);
    List<HttpResponse<String>> answers = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      answers.add(tether.get("/"));
    }
    assertThat(answers).extracting(HttpResponse::statusCode).containsExactly(200, 200, 200, 200, 429, 429, 429, 429);
    for (HttpResponse<String> limited : answers.subList(4, 8)) {
      // the next token is one interval (60 s) after the burst began, rounded up to whole seconds
      assertThat(Long.parseLong(limited.headers().firstValue("Retry-After").orElseThrow())).isBetween(50L, 60L);
      assertThat(limited.body()).startsWith("429 Too Many Requests");
    }
    assertThat(web.served().get()).isEqualTo(4);
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(records).hasSize(8));
    assertThat(records).filteredOn(r -> r.status() == 429).hasSize(4)
        .allSatisfy(r -> {
          assertThat(r.upstream()).isEqualTo("app");
          assertThat(r.server()).isNull(); // logged with its route's upstream, and no server
        });
  }

  /** A 429 is one of the route's answers: its response header rules and the Server policy apply, as to a 404. */
  @Test
  void a429CarriesTheRoutesResponseHeadersAndServerHeader() {
    Backends.Backend web = backends.start("web1");
    start(config(web, "rate_limit: {rate: 1/m, burst: 0}, headers: {response: {set: {X-Frame-Options: DENY}}}"), 1);
    assertThat(tether.get("/").statusCode()).isEqualTo(200);
    HttpResponse<String> limited = tether.get("/");
    assertThat(limited.statusCode()).isEqualTo(429);
    assertThat(limited.headers().firstValue("X-Frame-Options")).hasValue("DENY");
    assertThat(limited.headers().firstValue("Server")).hasValue("tether");
  }

  /** Four event loops, thirty requests at once on several connections: one key, one bucket, exactly burst + 1. */
  @Test
  void everyEventLoopCountsInTheSameBucket() {
    Backends.Backend web = backends.start("web1");
    start(config(web, "rate_limit: {rate: 1/m, burst: 9}"), 4);
    List<CompletableFuture<HttpResponse<String>>> inFlight = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      inFlight.add(tether.http().sendAsync(HttpRequest.newBuilder(URI.create(tether.url("/")))
          .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString()));
    }
    List<Integer> statuses = inFlight.stream().map(f -> f.join().statusCode()).toList();
    assertThat(statuses).filteredOn(s -> s == 200).hasSize(10);
    assertThat(statuses).filteredOn(s -> s == 429).hasSize(20);
    assertThat(web.served().get()).isEqualTo(10);
  }

  @Test
  void headerKeysAreIndependentAndARequestWithoutTheHeaderIsNotCounted() {
    Backends.Backend web = backends.start("web1");
    start(config(web, "rate_limit: {rate: 1/m, burst: 1, key: \"header:X-Api-Key\"}"), 1);
    assertThat(statuses(4, "X-Api-Key", "k1")).containsExactly(200, 200, 429, 429);
    assertThat(statuses(4, "X-Api-Key", "k2")).containsExactly(200, 200, 429, 429);
    assertThat(statuses(4)).containsOnly(200); // nginx: an empty key is not accounted
  }

  @Test
  void behindATrustedProxyEachForwardedClientHasItsOwnBucket_fromAnyoneElseTheSocketIsTheKey() {
    Backends.Backend web = backends.start("web1");
    String route = "rate_limit: {rate: 1/m, burst: 0}";
    start("trusted_proxies: [127.0.0.1]\n" + config(web, route), 1);
    assertThat(statuses(2, "X-Forwarded-For", "203.0.113.1")).containsExactly(200, 429);
    assertThat(statuses(2, "X-Forwarded-For", "203.0.113.2")).containsExactly(200, 429);
    // what a client wrote before the proxy's hop is not believed: the proxy reported 203.0.113.1 again
    assertThat(statuses(1, "X-Forwarded-For", "198.51.100.9, 203.0.113.1")).containsExactly(429);
    tether.close();

    start("trusted_proxies: [10.0.0.0/8]\n" + config(web, route), 1); // 127.0.0.1 is now an ordinary client
    tether.get("/", "X-Forwarded-For", "203.0.113.1");
    assertThat(statuses(2, "X-Forwarded-For", "203.0.113.2")).containsExactly(429, 429);
    assertThat(statuses(1)).containsExactly(429);
  }

  @Test
  void connLimitAdmitsMaxInFlightAndRefusesOneMoreAtOnce() {
    Queue held = new Queue();
    Backends.Backend slow = backends.start("slow", held::handle);
    start(config(slow, "conn_limit: {max: 2}"), 1);
    List<CompletableFuture<HttpResponse<String>>> first = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      first.add(tether.http().sendAsync(HttpRequest.newBuilder(URI.create(tether.url("/")))
          .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString()));
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> slow.served().get() == 2);
    HttpResponse<String> third = tether.get("/");
    assertThat(third.statusCode()).isEqualTo(429);
    assertThat(third.headers().firstValue("Retry-After")).hasValue("1");
    assertThat(slow.served().get()).isEqualTo(2); // never reached the backend
    held.releaseAll();
    assertThat(first).allSatisfy(f -> assertThat(f.join().statusCode()).isEqualTo(200));
    // the slots come back as the two requests end
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(statuses(2)).containsOnly(200));
  }

  @Test
  void refusalsAreCountedByRouteAndLimit() {
    Backends.Backend web = backends.start("web1");
    tether = TetherHarness.start("admin: {address: 127.0.0.1, port: 0}\nupstreams:\n  app:\n    servers: [{name: "
        + "web1, address: \"" + web.address() + "\"}]\nroutes:\n"
        + "  - {path: /login, upstream: app, rate_limit: {rate: 1/m, burst: 1}, conn_limit: {max: 5}}\n"
        + "  - {path: /, upstream: app}\n");
    String rate = "tether_limited_requests_total{limit=\"rate\",route=\"*/login\"}";
    String conn = "tether_limited_requests_total{limit=\"conn\",route=\"*/login\"}";
    Map<String, Double> before = PrometheusText.parse(tether.admin("GET", "/metrics").body());
    assertThat(before).containsEntry(rate, 0.0).containsEntry(conn, 0.0); // zeros show before the first refusal
    for (int i = 0; i < 5; i++) {
      tether.get("/login");
      tether.get("/other"); // not limited, not counted
    }
    Map<String, Double> after = PrometheusText.parse(tether.admin("GET", "/metrics").body());
    assertThat(after).containsEntry(rate, 3.0).containsEntry(conn, 0.0);
    assertThat(after.keySet()).filteredOn(k -> k.startsWith("tether_limited_requests_total")).hasSize(2);
  }

  @Test
  void aReloadKeepsABucketWhileItsRouteAndLimitAreUnchanged() throws Exception {
    Backends.Backend web = backends.start("web1");
    Path file = dir.resolve("tether.yaml");
    String head = "listen: [{address: 127.0.0.1, port: 0}]\nadmin: {address: 127.0.0.1, port: 0}\nworkers: 1\n"
        + "access_log: {enabled: false}\n";
    Files.writeString(file, head + config(web, "rate_limit: {rate: 1/m, burst: 0}"));
    tether = TetherHarness.startFromFile(file);
    assertThat(statuses(2)).containsExactly(200, 429);
    Files.writeString(file, head + "timeouts: {connect: 3s}\n" + config(web, "rate_limit: {rate: 1/m, burst: 0}"));
    assertThat(tether.admin("POST", "/reload").statusCode()).isEqualTo(200);
    assertThat(statuses(1)).containsExactly(429); // not forgiven by a reload
    Files.writeString(file, head + config(web, "rate_limit: {rate: 1/m, burst: 1}"));
    assertThat(tether.admin("POST", "/reload").statusCode()).isEqualTo(200);
    assertThat(statuses(3)).containsExactly(200, 200, 429); // a new limit starts afresh
  }

  /** A backend that holds requests until released, answering each on its own event loop. */
  private static final class Queue {
    private final ConcurrentLinkedQueue<Map.Entry<Context, HttpServerRequest>> held = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean holding = new AtomicBoolean(true);

    void handle(HttpServerRequest req) {
      if (holding.get()) {
        held.add(Map.entry(Vertx.currentContext(), req));
      } else {
        req.response().end("ok");
      }
    }

    void releaseAll() {
      holding.set(false);
      held.forEach(e -> e.getKey().runOnContext(v -> e.getValue().response().end("ok")));
    }
  }
}
