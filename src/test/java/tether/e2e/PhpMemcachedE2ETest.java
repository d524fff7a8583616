package tether.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import tether.e2e.PhpUser.Reply;
import tether.proxy.ProxyListener;
import tether.testing.PrometheusText;
import tether.testing.TetherHarness;
import tether.upstream.Backend;

/**
 * The scenario Tether exists for, with the real pieces: Tether (in-process) in front of three Apache + mod_php
 * servers running demo-app/php, whose sessions live in a real memcached. Servers are killed (SIGKILL), hung
 * (SIGSTOP) and brought back while users click; each scenario runs in the sticky modes that fit PHP.
 */
@Timeout(120) // each test; every wait inside is bounded much tighter: this only stops a hang from stalling CI
class PhpMemcachedE2ETest {

  @RegisterExtension
  static final PhpStack php = PhpStack.of("web1", "web2", "web3");
  @RegisterExtension
  static final Figures figures = new Figures();

  /** The configured timeouts (see {@link #startTether}). */
  private static final Duration CONNECT = Duration.ofSeconds(1);
  private static final Duration RESPONSE_HEADER = Duration.ofSeconds(2);

  /** The sticky modes that fit a PHP app (route mode needs a server suffix in the session id: not PHP's). */
  enum Sticky {
    COOKIE("{mode: cookie, secret: e2e-secret}"),
    LEARN("{mode: learn, cookie: PHPSESSID}"),
    HASH("{mode: hash, key: \"cookie:PHPSESSID\"}");

    final String yaml;

    Sticky(String yaml) {
      this.yaml = yaml;
    }

    @Override
    public String toString() {
      return name().toLowerCase();
    }
  }

  private TetherHarness tether;
  private TetherStatus status;

  @AfterEach
  void stopTether() {
    if (tether != null) {
      tether.close();
    }
  }

  private void startTether(Sticky sticky, ProxyListener... listeners) {
    StringBuilder y = new StringBuilder("""
        workers: 2
        admin: {address: 127.0.0.1, port: 0}
        upstreams:
          app:
            debug_header: true
            servers:
        """);
    for (Apache a : php.servers()) {
      y.append("      - {name: ").append(a.name()).append(", address: \"").append(a.address()).append("\"}\n");
    }
    y.append("    sticky: ").append(sticky.yaml).append('\n')
        .append("    health: {path: /health.php, interval: 500ms, timeout: 500ms, rise: 1, fall: 1}\n")
        .append("timeouts: {connect: ").append(CONNECT.toMillis()).append("ms, response_header: ")
        .append(RESPONSE_HEADER.toMillis()).append("ms}\n");
    tether = TetherHarness.start(y.toString(), 2, List.of(listeners));
    status = new TetherStatus(tether);
    assertThat(tether.admin("GET", "/status").statusCode()).isEqualTo(200); // the first call is slow (cold): not now
  }

  // 0 -----------------------------------------------------------------------------------------------------------

  /**
   * Issue 12, unexplained moves: 5 of 20 users in learn mode changed server within 5 s while nothing failed. Each
   * such move was a re-pin off a server that one health check had taken down (fall 1): the probe timed out on a
   * starved machine while the server kept answering its users. Such a timeout no longer counts: nothing fails,
   * nobody moves. (The other modes: the 5 s before the kill in
   * {@link #twentyUsersLoseNothingWhenAServerIsKilledAndStartedAgain}.)
   */
  @Test
  void twentyUsersInLearnModeStayOnTheirServersWhileNothingFails() throws Exception {
    Map<String, Long> moves = new ConcurrentSkipListMap<>();
    startTether(Sticky.LEARN, new ProxyListener() {
      @Override
      public void repinned(String upstream, String reason) {
        moves.merge("re-pinned: " + reason, 1L, Long::sum);
      }

      @Override
      public void retried(Backend failed, String reason) {
        moves.merge("retried off " + failed.name() + ": " + reason, 1L, Long::sum);
      }
    });
    try (LoadRun load = new LoadRun(tether, 20)) {
      Chaos chaos = load.clickFor(Duration.ofSeconds(5), nothing -> { });
      LoadRun.Stats stats = load.stats(chaos);
      assertThat(stats.failures()).as("failed or non-2xx replies%s", php.errorLogs()).isEmpty();
      assertThat(moves).as("re-pins and retries by reason; outages seen: %s", load.outages()).isEmpty();
      load.checkNobodyMoved(chaos);
      long failedChecks = PrometheusText.parse(tether.admin("GET", "/metrics").body()).entrySet().stream()
          .filter(e -> e.getKey().startsWith("tether_health_checks_total{result=\"failed\"")).mapToLong(e -> e
              .getValue().longValue()).sum();
      figures.add("learn: 20 users x 5s, nothing failing: %d requests, 0 moves, 0 re-pins; served %s; health checks "
          + "failed: %d, servers taken out of service: %s", stats.requests(), stats.perServer(), failedChecks,
          load.outages());
    }
  }

  // 1 and 2 -----------------------------------------------------------------------------------------------------

  @ParameterizedTest(name = "sticky {0}")
  @EnumSource(Sticky.class)
  void aUserSticksToOneServerAndItsSessionSurvivesTheKillOfThatServer(Sticky sticky) throws Exception {
    startTether(sticky);
    PhpUser user = new PhpUser(tether);
    for (int i = 0; i < 20; i++) {
      user.get();
    }
    String home = user.replies.get(0).server();
    String session = user.replies.get(0).session();
    assertThat(user.replies).as("20 requests: one server, one session").allSatisfy(r -> {
      assertThat(r.status()).as(r.toString()).isEqualTo(200);
      assertThat(r.server()).as(r.toString()).isEqualTo(home);
      assertThat(r.session()).as(r.toString()).isEqualTo(session);
    });
    assertThat(user.replies).extracting(Reply::count).containsExactlyElementsOf(IntStream.rangeClosed(1, 20).boxed()
        .toList());

    php.server(home).kill();
    boolean downBefore = !status.healthy(home);
    Reply moved = user.get();
    assertThat(moved.status()).as("the request that finds %s dead: %s%s", home, moved, php.errorLogs())
        .isEqualTo(200);
    assertThat(moved.server()).isNotEqualTo(home);
    assertThat(moved.count()).as("same session, nothing lost: %s", moved).isEqualTo(21);
    assertThat(moved.session()).isEqualTo(session);
    assertThat(moved.debug()).isEqualTo(moved.server() + "; sticky=repin");

    for (int i = 22; i <= 30; i++) {
      Reply r = user.get();
      assertThat(r.status()).as(r.toString()).isEqualTo(200);
      assertThat(r.server()).as("the user sticks to its new server: %s", r).isEqualTo(moved.server());
      assertThat(r.count()).as(r.toString()).isEqualTo(i);
    }
    long restart = System.currentTimeMillis();
    php.server(home).start();
    Duration up = status.awaitHealth(home, true, restart);
    for (int i = 31; i <= 40; i++) {
      Reply r = user.get();
      assertThat(r.server()).as("%s is back, the user stays where it is: %s", home, r).isEqualTo(moved.server());
      assertThat(r.count()).as(r.toString()).isEqualTo(i);
    }
    figures.add("%s: kill of a user's server: the next request answered 200 by %s, count 21, in %d ms "
        + "(health check had%s marked %s down); restarted %s marked up after %d ms, user stayed", sticky,
        moved.server(), moved.millis(), downBefore ? "" : " not yet", home, home, up.toMillis());
  }

  // 3 -----------------------------------------------------------------------------------------------------------

  @ParameterizedTest(name = "sticky {0}")
  @EnumSource(Sticky.class)
  void twentyUsersLoseNothingWhenAServerIsKilledAndStartedAgain(Sticky sticky) throws Exception {
    startTether(sticky);
    Duration run = Duration.ofSeconds(11);
    Duration killAt = Duration.ofSeconds(3);
    Duration restartAt = Duration.ofSeconds(7);
    try (LoadRun load = new LoadRun(tether, 20)) {
      Apache victim = php.server(load.firstServer());
      Chaos chaos = load.clickFor(run, c -> {
        c.at(killAt);
        c.hit(victim, Apache::kill);
        c.at(restartAt);
        c.heal(victim, Apache::start);
      });
      LoadRun.Stats stats = load.stats(chaos);
      assertThat(stats.failures()).as("failed or non-2xx replies%s", php.errorLogs()).isEmpty();
      LoadRun.Moves moves = load.checkCountersAndMoves(victim.name(), chaos);
      assertThat(load.outages()).as("the watch saw %s out of service", victim.name())
          .anyMatch(o -> o.server().equals(victim.name()));
      assertThat(moves.victims()).as("users of %s", victim.name()).isPositive();
      figures.add("%s: 20 users x %ds, %s SIGKILLed at %ds and started at %ds: %d requests, %d non-2xx, "
          + "%d users moved off %s (none back), %d re-pinned requests, %d of them had run on %s before the kill "
          + "(counter +2); max latency %d ms overall, %d ms for requests started within 1 s of the kill; its port "
          + "refused connections %d ms after the SIGKILL, marked down %d ms after it, up %d ms after the start; "
          + "served %s; other servers out of service: %s (%d moves)", sticky, run.toSeconds(), victim.name(),
          killAt.toSeconds(), restartAt.toSeconds(), stats.requests(), stats.failures().size(), moves.victims(),
          victim.name(), stats.repins(), moves.replayed(), victim.name(), stats.maxMillis(),
          stats.maxMillisAroundEvent(), (chaos.eventDoneNanos - chaos.eventNanos) / 1_000_000,
          chaos.noticed.toMillis(), chaos.back.toMillis(), stats.perServer(), moves.otherOutages(),
          moves.movedByOtherOutages());
    }
  }

  // 4 -----------------------------------------------------------------------------------------------------------

  @ParameterizedTest(name = "sticky {0}")
  @EnumSource(Sticky.class)
  void aHungServerIsSkippedWithinTheTimeoutsAndMarkedDown(Sticky sticky) throws Exception {
    startTether(sticky);
    Duration run = Duration.ofSeconds(6);
    Duration stopAt = Duration.ofSeconds(1);
    LoadRun load = new LoadRun(tether, 10);
    Apache victim = php.server(load.firstServer());
    Chaos chaos;
    LoadRun.Stats stats;
    LoadRun.Moves moves;
    try (load) {
      chaos = load.clickFor(run, c -> {
        c.at(stopAt);
        c.hit(victim, Apache::pause);
      });
      stats = load.stats(chaos);
      assertThat(stats.failures()).as("failed or non-2xx replies while %s hung", victim.name()).isEmpty();
      // a hung server writes nothing: counters are exact (but for a request in flight at the SIGSTOP, see there)
      moves = load.checkCountersAndMoves(victim.name(), chaos);
    }
    assertThat(Duration.ofMillis(stats.maxMillis())).as("nobody waits longer than response_header, then one retry")
        .isLessThan(CONNECT.plus(RESPONSE_HEADER).plusMillis(500));
    assertThat(chaos.noticed).as("health check (interval 500ms, timeout 500ms, fall 1) marks a hung server down")
        .isLessThan(Duration.ofMillis(2500)); // (worst case ~1.3 s: a probe in flight, the next, its timeout)
    assertThat(moves.victims()).as("users of %s", victim.name()).isPositive();
    long timedOut = load.users().stream().flatMap(u -> u.replies.stream())
        .filter(r -> r.millis() >= RESPONSE_HEADER.toMillis()).count();

    chaos.heal(victim, Apache::resume);
    int skipped = 0;
    int wentBack = 0;
    for (PhpUser u : load.users()) {
      Reply before = u.last();
      for (int i = 0; i < 3; i++) {
        Reply r = u.get();
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        assertThat(r.server()).as("%s is back, users stay where they are: %s", victim.name(), r)
            .isEqualTo(before.server());
      }
      int step = u.replies.get(u.replies.size() - 3).count() - before.count();
      skipped += step > 1 ? 1 : 0;
      wentBack += step < 1 ? 1 : 0;
    }
    figures.add("%s: %s SIGSTOPped with 10 users clicking: %d requests, 0 non-2xx, %d waited for the "
        + "response_header timeout then moved (max latency %d ms), %d had run on %s before it froze (counter +2); "
        + "marked down %d ms after SIGSTOP, up %d ms after SIGCONT; after SIGCONT %d users' counters skipped one (a "
        + "request Tether had given up on ran late on %s) and %d went back (a request frozen mid-PHP wrote its stale "
        + "session); other servers out of service: %s", sticky, victim.name(), stats.requests(), timedOut,
        stats.maxMillis(), moves.replayed(), victim.name(), chaos.noticed.toMillis(), chaos.back.toMillis(), skipped,
        victim.name(), wentBack, moves.otherOutages());
  }

  // 5 -----------------------------------------------------------------------------------------------------------

  @ParameterizedTest(name = "sticky {0}")
  @EnumSource(Sticky.class)
  void aFiveMegabyteUploadAndATwentyMegabyteDownloadArriveIntact(Sticky sticky) throws Exception {
    startTether(sticky);
    PhpUser user = new PhpUser(tether);
    String home = user.get().server();
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    byte[] upload = new byte[5 << 20];
    new Random(7).nextBytes(upload);
    long t0 = System.nanoTime();
    HttpResponse<String> posted = http.send(HttpRequest.newBuilder(URI.create(tether.url("/upload.php")))
        .header("Cookie", user.client.cookieHeader()).header("Content-Type", "application/octet-stream")
        .timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.ofByteArray(upload)).build(),
        HttpResponse.BodyHandlers.ofString());
    long uploadMillis = (System.nanoTime() - t0) / 1_000_000;
    assertThat(posted.statusCode()).as(posted.body()).isEqualTo(200);
    assertThat(posted.body().strip()).isEqualTo("sha256=" + sha256(upload) + " length=" + upload.length);
    assertThat(posted.headers().firstValue("x-tether-upstream").orElse("")).startsWith(home + ";");

    int mb = 20;
    t0 = System.nanoTime();
    HttpResponse<InputStream> got = http.send(HttpRequest.newBuilder(URI.create(tether.url("/big.php?mb=" + mb)))
        .header("Cookie", user.client.cookieHeader()).timeout(Duration.ofSeconds(60)).build(),
        HttpResponse.BodyHandlers.ofInputStream());
    assertThat(got.statusCode()).isEqualTo(200);
    MessageDigest digest = MessageDigest.getInstance("SHA-256");
    long length = 0;
    try (InputStream in = got.body()) {
      byte[] buf = new byte[1 << 16];
      int n;
      while ((n = in.read(buf)) >= 0) {
        digest.update(buf, 0, n);
        length += n;
      }
    }
    long downloadMillis = (System.nanoTime() - t0) / 1_000_000;
    assertThat(length).isEqualTo((long) mb << 20);
    assertThat(HexFormat.of().formatHex(digest.digest())).isEqualTo(sha256(bigPhpBytes(mb)));
    assertThat(got.headers().firstValue("x-tether-upstream").orElse("")).startsWith(home + ";");
    figures.add("%s: 5 MB POST intact in %d ms, 20 MB download intact in %d ms (%.0f MB/s), both on the user's server",
        sticky, uploadMillis, downloadMillis, mb * 1000.0 / Math.max(1, downloadMillis));
  }

  // 6 -----------------------------------------------------------------------------------------------------------

  @ParameterizedTest(name = "sticky {0}")
  @EnumSource(Sticky.class)
  void allServersDownIsA503AtOnceAndServiceResumesWithoutRestartingTether(Sticky sticky) throws Exception {
    startTether(sticky);
    PhpUser user = new PhpUser(tether);
    for (int i = 0; i < 3; i++) {
      assertThat(user.get().status()).isEqualTo(200);
    }
    long kill = System.currentTimeMillis();
    for (Apache a : php.servers()) {
      a.kill();
    }
    Reply atOnce = user.get(); // before or after the health checks noticed: an answer, at once
    long allDown = 0;
    for (Apache a : php.servers()) {
      allDown = Math.max(allDown, status.awaitHealth(a.name(), false, kill).toMillis());
    }
    long maxMillis = 0;
    for (int i = 0; i < 10; i++) {
      long t0 = System.nanoTime();
      HttpResponse<String> r = tether.get("/", "Cookie", user.client.cookieHeader());
      long millis = (System.nanoTime() - t0) / 1_000_000;
      maxMillis = Math.max(maxMillis, millis);
      assertThat(r.statusCode()).isEqualTo(503);
      assertThat(r.headers().firstValue("retry-after")).hasValue("1");
      assertThat(Duration.ofMillis(millis)).isLessThan(Duration.ofSeconds(1));
    }

    long start = System.nanoTime();
    for (Apache a : php.servers()) {
      a.start();
    }
    long started = System.nanoTime();
    await("service back without restarting Tether").atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(20)).until(() -> tether.get("/health.php").statusCode() == 200);
    long resumedMillis = (System.nanoTime() - started) / 1_000_000;
    Reply back = user.get();
    assertThat(back.status()).as(back.toString()).isEqualTo(200);
    assertThat(back.count()).as("the session waited in memcached: %s", back).isEqualTo(4);
    figures.add("%s: all 3 SIGKILLed: the next request %d in %d ms; all marked down %d ms after the kill; then 10 x "
        + "503 (Retry-After: 1), slowest %d ms; the 3 Apaches took %d ms to start, Tether served again %d ms later, "
        + "the user's counter went on (4)", sticky, atOnce.status(), atOnce.millis(), allDown, maxMillis,
        (started - start) / 1_000_000, resumedMillis);
  }

  // helpers -----------------------------------------------------------------------------------------------------

  private static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }

  /** What demo-app/php/big.php sends: MiB m is m (4 bytes, big-endian) then bytes 4.. of the sha256 block. */
  private static byte[] bigPhpBytes(int mb) throws Exception {
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    byte[] block = new byte[1 << 20];
    for (int k = 0; k < 32768; k++) {
      System.arraycopy(sha.digest(("tether-" + k).getBytes(StandardCharsets.US_ASCII)), 0, block, k * 32, 32);
    }
    byte[] out = new byte[mb << 20];
    for (int m = 0; m < mb; m++) {
      System.arraycopy(block, 0, out, m << 20, 1 << 20);
      out[m << 20] = (byte) (m >>> 24);
      out[(m << 20) + 1] = (byte) (m >>> 16);
      out[(m << 20) + 2] = (byte) (m >>> 8);
      out[(m << 20) + 3] = (byte) m;
    }
    return out;
  }
}
