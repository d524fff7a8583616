package tether.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.StreamResetException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tether.testing.Backends;
import tether.testing.Cli;
import tether.testing.ProxyTestBase;
import tether.testing.RawH2;
import tether.testing.TestCertificates;
import tether.testing.TetherHarness;

/** HTTP/2 from clients (issue 13, "HTTP/2 to clients"): real clients, one pin per stream, the limits that hold. */
class Http2ClientsTest extends ProxyTestBase {

  @TempDir
  Path dir;

  private TestCertificates.Pair cert;
  private HttpClientAgent client;

  @BeforeEach
  void makeCertificate() {
    cert = TestCertificates.in(dir).leaf("localhost", "localhost", "127.0.0.1");
  }

  @AfterEach
  void closeClient() {
    if (client != null) {
      client.close().await();
    }
  }

  private String tls() {
    return "listen: [{address: 127.0.0.1, port: 0, tls: {cert: \"" + cert.cert() + "\", key: \"" + cert.key() + "\"}}]\n";
  }

  private static final String H2C = "listen: [{address: 127.0.0.1, port: 0, h2c: true}]\n";

  /** A backend answering its name, the protocol Tether spoke to it and the request body's length and framing. */
  private Backends.Backend echo(String name) {
    return backends.start(name, req -> req.body().onSuccess(body -> req.response().putHeader("X-Served-By", name)
        .end(name + " " + req.version() + " " + body.length() + (req.isExpectMultipart() ? "" : "")
            + (req.headers().contains("Transfer-Encoding") ? " chunked" : ""))));
  }

  /** One HTTP/2 connection at most (streams multiplexed on it), over TLS trusting anything, or h2c. */
  private HttpClientAgent h2Client(boolean tls) {
    HttpClientOptions options = new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2)
        .setHttp2ClearTextUpgrade(false);
    if (tls) {
      options.setSsl(true).setUseAlpn(true).setTrustAll(true).setVerifyHost(false);
    }
    return backends.vertx().httpClientBuilder().with(options).with(new PoolOptions().setHttp2MaxSize(1)).build();
  }

  private record Answer(int status, String body, String setCookie, HttpConnection connection, HttpVersion version) {}

  private Future<Answer> get(String path, String cookie) {
    RequestOptions options = new RequestOptions().setHost("localhost").setPort(tether.port()).setURI(path);
    if (cookie != null) {
      options.putHeader("Cookie", cookie);
    }
    return client.request(options).compose(req -> req.send().compose(resp -> resp.body().map(body ->
        new Answer(resp.statusCode(), body.toString(), resp.getHeader("set-cookie"), req.connection(), resp.version()))));
  }

  @Test
  void curlAndH2loadOverTls() {
    Backends.Backend a = echo("a");
    tether = TetherHarness.start(tls() + upstream("", a));
    String url = "https://localhost:" + tether.port() + "/";
    Cli.Result curl = Cli.run(20, "curl", "-sS", "-k", "--http2", "-D", "-", url);
    assertThat(curl.output()).as(curl.output()).startsWith("HTTP/2 200").endsWith("a HTTP_1_1 0");
    Cli.Result post = Cli.run(20, "curl", "-sS", "-k", "--http2", "-D", "-", "--data-binary", "x".repeat(100_000), url);
    assertThat(post.output()).as("a body with a length").startsWith("HTTP/2 200").endsWith("a HTTP_1_1 100000");
    Cli.Result load = Cli.run(120, "h2load", "-n", "2000", "-c", "10", "-m", "10", url);
    assertThat(load.output()).as(load.output()).contains("2000 succeeded, 0 failed, 0 errored")
        .contains("status codes: 2000 2xx").contains("Application protocol: h2");
  }

  @Test
  void h2cWithPriorKnowledgeNextToHttp11() {
    Backends.Backend a = echo("a");
    tether = TetherHarness.start(H2C + upstream("", a));
    String url = "http://127.0.0.1:" + tether.port() + "/";
    Cli.Result h2 = Cli.run(20, "curl", "-sS", "--http2-prior-knowledge", "-D", "-", url);
    assertThat(h2.output()).as(h2.output()).startsWith("HTTP/2 200").endsWith("a HTTP_1_1 0");
    Cli.Result h1 = Cli.run(20, "curl", "-sS", "-D", "-", url);
    assertThat(h1.output()).as(h1.output()).startsWith("HTTP/1.1 200").endsWith("a HTTP_1_1 0");
    Cli.Result upgrade = Cli.run(20, "curl", "-sS", "--http2", "-D", "-", url); // HTTP/1.1 Upgrade: h2c
    assertThat(upgrade.output()).as(upgrade.output()).startsWith("HTTP/1.1 101").contains("HTTP/2 200")
        .endsWith("a HTTP_1_1 0");
    Cli.Result load = Cli.run(120, "h2load", "-n", "2000", "-c", "10", "-m", "10", url);
    assertThat(load.output()).as(load.output()).contains("2000 succeeded, 0 failed, 0 errored")
        .contains("Application protocol: h2c");
  }

  @Test
  void aPlainListenerWithoutH2cSpeaksNoHttp2() {
    Backends.Backend a = echo("a");
    tether = TetherHarness.start(upstream("", a));
    Cli.Result h2 = Cli.run(20, "curl", "-sS", "--http2-prior-knowledge", "http://127.0.0.1:" + tether.port() + "/");
    assertThat(h2.exit()).as(h2.output()).isNotZero();
  }

  @Test
  void streamsOfOneConnectionCarryingOnePinReachThePinnedServerAndMoveTogether() throws Exception {
    List<Backends.Backend> servers = List.of(echo("web1"), echo("web2"), echo("web3"));
    tether = TetherHarness.start(tls() + upstream("    sticky: {mode: cookie, cookie: TETHER, secret: [k1]}\n",
        servers.toArray(Backends.Backend[]::new)));
    client = h2Client(true);
    Answer first = get("/", null).await(10, TimeUnit.SECONDS);
    assertThat(first.version()).isEqualTo(HttpVersion.HTTP_2);
    String pinned = first.body().split(" ")[0];
    String cookie = first.setCookie().split(";")[0];
    List<Answer> answers = all(40, cookie);
    assertThat(answers).extracting(a -> a.body().split(" ")[0]).containsOnly(pinned);
    assertThat(connections(answers)).as("one connection, many streams").hasSize(1);

    backends.stop(pinned);
    answers = all(40, cookie);
    assertThat(answers).extracting(Answer::status).containsOnly(200);
    Set<String> movedTo = new HashSet<>();
    answers.forEach(a -> movedTo.add(a.body().split(" ")[0]));
    assertThat(movedTo).as("the failover moves them all to one server").hasSize(1).doesNotContain(pinned);
    assertThat(answers).extracting(Answer::setCookie).as("and re-pins the user there").allSatisfy(c -> assertThat(c)
        .startsWith("TETHER=").contains("Secure"));
    assertThat(connections(answers)).hasSize(1);
  }

  private List<Answer> all(int n, String cookie) throws Exception {
    List<Future<Answer>> pending = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      pending.add(get("/?i=" + i, cookie));
    }
    Future.all(pending).await(20, TimeUnit.SECONDS);
    return pending.stream().map(Future::result).toList();
  }

  private static Set<HttpConnection> connections(List<Answer> answers) {
    Set<HttpConnection> set = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    answers.forEach(a -> set.add(a.connection()));
    return set;
  }

  @Test
  void aBodyWithoutLengthGoesToTheBackendChunkedAndAnEmptyGetWithoutOne() throws Exception {
    Backends.Backend a = echo("a");
    tether = TetherHarness.start(H2C + upstream("", a));
    client = h2Client(false);
    String body = client.request(new RequestOptions().setMethod(HttpMethod.POST).setHost("localhost")
            .setPort(tether.port()).setURI("/"))
        .compose(req -> {
          req.setChunked(true); // HTTP/2: DATA frames, no content-length
          req.write("x".repeat(50_000));
          return req.end("y".repeat(50_000)).compose(v -> req.response()).compose(r -> r.body());
        }).await(10, TimeUnit.SECONDS).toString();
    assertThat(body).isEqualTo("a HTTP_1_1 100000 chunked");
    assertThat(get("/", null).await(10, TimeUnit.SECONDS).body()).isEqualTo("a HTTP_1_1 0");
  }

  /**
   * Flow control is the backpressure: a client that stops reading its stream holds Tether's read of the backend,
   * so the backend's writes stall instead of Tether buffering the response; reading again finishes it whole.
   */
  @Test
  void aClientThatStopsReadingStallsTheBackendAndResumes() throws Exception {
    long total = 256L << 20;
    java.util.concurrent.atomic.AtomicLong written = new java.util.concurrent.atomic.AtomicLong();
    Backends.Backend a = backends.start("a", req -> {
      var resp = req.response().putHeader("Content-Length", String.valueOf(total));
      Buffer chunk = Buffer.buffer(new byte[64 * 1024]);
      Runnable[] pump = new Runnable[1];
      pump[0] = () -> {
        while (written.get() < total && !resp.writeQueueFull()) {
          written.addAndGet(chunk.length());
          resp.write(chunk);
        }
        if (written.get() >= total) {
          resp.end();
        } else {
          resp.drainHandler(v -> pump[0].run());
        }
      };
      pump[0].run();
    });
    tether = TetherHarness.start(H2C + upstream("", a));
    client = h2Client(false);
    java.util.concurrent.atomic.AtomicLong received = new java.util.concurrent.atomic.AtomicLong();
    var response = client.request(new RequestOptions().setHost("localhost").setPort(tether.port()).setURI("/big"))
        .compose(req -> req.send().map(r -> r.pause().handler(b -> received.addAndGet(b.length()))))
        .await(10, TimeUnit.SECONDS);
    long stalledAt = stalled(written);
    assertThat(written.get()).as("the backend is held while the client does not read").isEqualTo(stalledAt);
    assertThat(stalledAt).as("bytes in flight: windows and socket buffers, not the body").isLessThan(48L << 20);
    Future<Void> end = response.end();
    response.resume();
    end.await(60, TimeUnit.SECONDS);
    assertThat(received.get()).isEqualTo(total);
  }

  /** The other way: a backend that does not read the request body stops the client's DATA (no WINDOW_UPDATE). */
  @Test
  void aBackendThatDoesNotReadStallsTheClientsUpload() throws Exception {
    long total = 128L << 20;
    java.util.concurrent.atomic.AtomicLong read = new java.util.concurrent.atomic.AtomicLong();
    java.util.concurrent.atomic.AtomicReference<io.vertx.core.http.HttpServerRequest> held =
        new java.util.concurrent.atomic.AtomicReference<>();
    Backends.Backend a = backends.start("a", req -> {
      req.pause(); // not reading, until the test says so
      req.handler(b -> read.addAndGet(b.length()));
      req.endHandler(v -> req.response().end("got " + read.get()));
      held.set(req);
    });
    tether = TetherHarness.start(H2C + "limits: {max_body_bytes: 1GB}\n" + upstream("", a));
    client = h2Client(false);
    java.util.concurrent.atomic.AtomicLong sent = new java.util.concurrent.atomic.AtomicLong();
    var request = client.request(new RequestOptions().setMethod(HttpMethod.POST).setHost("localhost")
        .setPort(tether.port()).setURI("/upload").putHeader("Content-Length", String.valueOf(total)))
        .await(10, TimeUnit.SECONDS);
    Future<String> answer = request.response().compose(r -> r.body()).map(Buffer::toString);
    Buffer chunk = Buffer.buffer(new byte[64 * 1024]);
    long[] queued = {0};
    Runnable[] pump = new Runnable[1];
    pump[0] = () -> {
      while (queued[0] < total && !request.writeQueueFull()) {
        queued[0] += chunk.length();
        request.write(chunk).onSuccess(v -> sent.addAndGet(chunk.length()));
      }
      if (queued[0] >= total) {
        request.end();
      } else {
        request.drainHandler(v -> pump[0].run());
      }
    };
    backends.vertx().runOnContext(v -> pump[0].run()); // (any thread will do for the client; keep it off the test's)
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> held.get() != null);
    long stalledAt = stalled(sent);
    assertThat(sent.get()).as("the client is held while the backend does not read").isEqualTo(stalledAt);
    assertThat(stalledAt).as("bytes in flight: windows and socket buffers, not the body").isLessThan(48L << 20);
    held.get().resume();
    assertThat(answer.await(60, TimeUnit.SECONDS)).isEqualTo("got " + total);
  }

  /** A broken response resets its own stream (as nginx does); the connection's other streams go on. */
  @Test
  void aTruncatedResponseResetsItsStreamNotTheConnection() throws Exception {
    Backends.Backend a = backends.start("a", req -> {
      if (req.path().equals("/broken")) {
        req.response().setChunked(true).write("part of it");
        backends.vertx().setTimer(50, t -> req.connection().close());
      } else {
        req.response().end("fine");
      }
    });
    tether = TetherHarness.start(tls() + upstream("    max_attempts: 1\n", a));
    client = h2Client(true);
    Answer before = get("/", null).await(10, TimeUnit.SECONDS);
    Throwable broken = get("/broken", null).transform(ar -> Future.succeededFuture(ar.cause()))
        .await(10, TimeUnit.SECONDS);
    assertThat(broken).isInstanceOf(StreamResetException.class);
    assertThat(((StreamResetException) broken).getCode()).isEqualTo(2); // INTERNAL_ERROR
    Answer after = get("/", null).await(10, TimeUnit.SECONDS);
    assertThat(after.body()).isEqualTo("fine");
    assertThat(after.connection()).isSameAs(before.connection());
  }

  /** A 413 for a body too large ends that stream (RST_STREAM NO_ERROR after the answer), not the connection. */
  @Test
  void aRefusedBodyEndsItsStreamOnly() throws Exception {
    Backends.Backend a = echo("a");
    tether = TetherHarness.start(tls() + "limits: {max_body_bytes: 1000}\n" + upstream("", a));
    client = h2Client(true);
    Answer before = get("/", null).await(10, TimeUnit.SECONDS);
    int status = client.request(new RequestOptions().setMethod(HttpMethod.POST).setHost("localhost")
            .setPort(tether.port()).setURI("/").putHeader("Content-Length", "5000"))
        .compose(req -> {
          req.write(Buffer.buffer("x".repeat(2000)));
          return req.response().map(r -> r.statusCode());
        }).await(10, TimeUnit.SECONDS);
    assertThat(status).isEqualTo(413);
    Answer after = get("/", null).await(10, TimeUnit.SECONDS);
    assertThat(after.status()).isEqualTo(200);
    assertThat(after.connection()).isSameAs(before.connection());
  }

  /**
   * CVE-2023-44487: open a stream, reset it, again and again. Under the limit (200 resets in 30 s) the connection
   * lives; past it the client gets GOAWAY ENHANCE_YOUR_CALM and is closed, and everyone else is served.
   */
  @Test
  void aRapidResetClientIsCutOffAndOthersAreServed() throws Exception {
    Backends.Backend a = echo("a");
    tether = TetherHarness.start(H2C + upstream("", a));
    byte[] get = RawH2.get("127.0.0.1:" + tether.port());
    try (RawH2 attacker = new RawH2(tether.port())) {
      int stream = 1;
      for (int i = 0; i < 150; i++, stream += 2) {
        attacker.headers(stream, get, true);
        attacker.reset(stream, RawH2.CANCEL);
      }
      attacker.flush();
      assertThat(attacker.awaitClose(1000)).as("150 resets: still open").isFalse();
      attacker.rapidReset(stream, get, 5_000);
      assertThat(attacker.awaitClose(10_000)).as("closed past the limit").isTrue();
      assertThat(attacker.goAway()).as("GOAWAY ENHANCE_YOUR_CALM").isEqualTo(RawH2.ENHANCE_YOUR_CALM);
    }
    assertThat(a.served().get()).as("streams reset at once cost the backend little").isLessThan(400);
    Cli.Result other = Cli.run(20, "curl", "-sS", "--http2-prior-knowledge", "http://127.0.0.1:" + tether.port() + "/");
    assertThat(other.output()).isEqualTo("a HTTP_1_1 0");
  }

  /**
   * The CONTINUATION flood (2024): a header block that never ends. Netty holds at most 1.25x the header list
   * size (limits.max_header_bytes) of it, then GOAWAY and close.
   */
  @Test
  void aHeaderBlockThatNeverEndsIsCutOffAtTheHeaderListSize() throws Exception {
    Backends.Backend a = echo("a");
    tether = TetherHarness.start(H2C + "limits: {max_header_bytes: 16KB}\n" + upstream("", a));
    try (RawH2 attacker = new RawH2(tether.port())) {
      assertThat(attacker.awaitSettings(5000)).as("SETTINGS exchanged, so the header list size applies").isTrue();
      Thread.sleep(200);
      byte[] chunk = new byte[4096];
      java.util.Arrays.fill(chunk, (byte) 0x40); // literal with incremental indexing, never completed
      attacker.frame(RawH2.HEADERS, 0, 1, RawH2.get("x")); // no END_HEADERS
      for (int i = 0; i < 3; i++) { // 12 KB
        attacker.frame(RawH2.CONTINUATION, 0, 1, chunk);
      }
      attacker.flush();
      assertThat(attacker.awaitClose(1000)).as("12 KB of header block: still open (%s)", attacker.goAwayDebug())
          .isFalse();
      try {
        for (int i = 0; i < 3; i++) { // 24 KB > 1.25 x 16 KB
          attacker.frame(RawH2.CONTINUATION, 0, 1, chunk);
        }
        attacker.flush();
      } catch (IOException e) {
        // closed under us
      }
      assertThat(attacker.awaitClose(10_000)).as("closed past 20 KB").isTrue();
      assertThat(attacker.goAway()).as("with a GOAWAY").isNotEqualTo(-1L);
    }
    Cli.Result other = Cli.run(20, "curl", "-sS", "--http2-prior-knowledge", "http://127.0.0.1:" + tether.port() + "/");
    assertThat(other.output()).isEqualTo("a HTTP_1_1 0");
  }

  /**
   * The count once it stops moving (windows and socket buffers full; on a busy machine that may take seconds), then
   * a second with no progress: the caller asserts it is still that.
   */
  private static long stalled(java.util.concurrent.atomic.AtomicLong count) throws InterruptedException {
    java.util.concurrent.atomic.AtomicLong last = new java.util.concurrent.atomic.AtomicLong(-1);
    org.awaitility.Awaitility.await("the transfer stalls").atMost(java.time.Duration.ofSeconds(30))
        .pollInterval(java.time.Duration.ofMillis(500)).until(() -> count.get() == last.getAndSet(count.get()));
    long stalledAt = count.get();
    Thread.sleep(1000); // (the scenario: a second in which a held transfer must not move)
    return stalledAt;
  }
}
