package tether.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.json.JsonObject;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import tether.testing.CookieClient;
import tether.testing.TetherHarness;

/**
 * The scenario Tether exists for, with the real pieces: Tether (in-process) in front of three Apache + mod_php
 * servers running demo-app/php, whose sessions live in a real memcached. Servers are killed (SIGKILL), hung
 * (SIGSTOP) and brought back while users click; each scenario runs in the sticky modes that fit PHP.
 */
@Timeout(120) // each test; every wait inside is bounded much tighter: this only stops a hang from stalling CI
class PhpMemcachedE2ETest {

  @RegisterExtension
  static final PhpStack php = PhpStack.of("web1", "web2", "web3");

  /** The configured timeouts (see {@link #startTether}). */
  private static final Duration CONNECT = Duration.ofSeconds(1);
  private static final Duration RESPONSE_HEADER = Duration.ofSeconds(2);
  /** Health checks: interval 500ms, timeout 500ms, fall 1: a dead or hung server is marked down well within this. */
  private static final Duration HEALTH_NOTICES = Duration.ofSeconds(3);
  /** Think time of the looping users: about 20 x 40 = 800 requests/s at most, on a 2-core machine. */
  private static final long THINK_MILLIS = 25;

  private static final List<String> FIGURES = new CopyOnWriteArrayList<>();

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

  @AfterEach
  void stopTether() {
    if (tether != null) {
      tether.close();
    }
  }

  @AfterAll
  static void printFigures() {
    System.out.println("e2e figures:");
    FIGURES.forEach(f -> System.out.println("  " + f));
  }

  private void startTether(Sticky sticky) {
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
    tether = TetherHarness.start(y.toString());
    assertThat(tether.admin("GET", "/status").statusCode()).isEqualTo(200); // the first call is slow (cold): not now
  }

  // 1 and 2 -----------------------------------------------------------------------------------------------------

  @ParameterizedTest(name = "sticky {0}")
  @EnumSource(Sticky.class)
  void aUserSticksToOneServerAndItsSessionSurvivesTheKillOfThatServer(Sticky sticky) throws Exception {
    startTether(sticky);
    User user = new User();
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
    boolean downBefore = !healthy(home);
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
    Duration up = awaitHealth(home, true, restart);
    for (int i = 31; i <= 40; i++) {
      Reply r = user.get();
      assertThat(r.server()).as("%s is back, the user stays where it is: %s", home, r).isEqualTo(moved.server());
      assertThat(r.count()).as(r.toString()).isEqualTo(i);
    }
    figure("%s: kill of a user's server: the next request answered 200 by %s, count 21, in %d ms "
        + "(health check had%s marked %s down); restarted %s marked up after %d ms, user stayed", sticky,
        moved.server(), moved.millis(), downBefore ? "" : " not yet", home, home, up.toMillis());
  }

  // 3 -----------------------------------------------------------------------------------------------------------

  @ParameterizedTest(name = "sticky {0}")
  @EnumSource(Sticky.class)
  void twentyUsersLoseNothingWhenAServerIsKilledAndStartedAgain(Sticky sticky) throws Exception {
    startTether(sticky);
    Duration run = Duration.ofSeconds(18);
    Duration killAt = Duration.ofSeconds(5);
    Duration restartAt = Duration.ofSeconds(12);
    List<User> users = users(20);
    String victim = users.get(0).last().server();
    Chaos chaos = new Chaos();
    Stats stats;
    Moves moves;
    try (StatusWatch watch = new StatusWatch(tether.adminUrl("/status"))) {
      long start = System.nanoTime();
      runLoops(users, start, run, () -> {
        sleepUntil(start, killAt);
        chaos.eventMillis = System.currentTimeMillis();
        chaos.eventNanos = System.nanoTime();
        php.server(victim).kill();
        chaos.eventDoneNanos = System.nanoTime();
        chaos.noticed = awaitHealth(victim, false, chaos.eventMillis);
        sleepUntil(start, restartAt);
        long restart = System.currentTimeMillis();
        php.server(victim).start();
        chaos.back = awaitHealth(victim, true, restart);
      });
      stats = Stats.of(users, chaos.eventNanos);
      assertThat(stats.failures).as("failed or non-2xx replies%s", php.errorLogs()).isEmpty();
      moves = checkCountersAndMoves(users, victim, chaos, watch);
      assertThat(watch.all()).as("the watch saw %s out of service", victim).anyMatch(o -> o.server().equals(victim));
    }
    assertThat(moves.victims()).as("users of %s", victim).isPositive();
    figure("%s: 20 users x %ds, %s SIGKILLed at %ds and started at %ds: %d requests, %d non-2xx, "
        + "%d users moved off %s (none back), %d re-pinned requests, %d of them had run on %s before the kill "
        + "(counter +2); max latency %d ms overall, %d ms for requests started within 1 s of the kill; its port "
        + "refused connections %d ms after the SIGKILL, marked down %d ms after it, up %d ms after the start; served "
        + "%s; other servers out of service: %s (%d moves)", sticky, run.toSeconds(), victim, killAt.toSeconds(),
        restartAt.toSeconds(), stats.requests, stats.failures.size(), moves.victims(), victim, stats.repins,
        moves.replayed(), victim, stats.maxMillis, stats.maxMillisAroundEvent,
        (chaos.eventDoneNanos - chaos.eventNanos) / 1_000_000, chaos.noticed.toMillis(), chaos.back.toMillis(),
        stats.perServer, moves.otherOutages(), moves.movedByOtherOutages());
  }

  // 4 -----------------------------------------------------------------------------------------------------------

  @ParameterizedTest(name = "sticky {0}")
  @EnumSource(Sticky.class)
  void aHungServerIsSkippedWithinTheTimeoutsAndMarkedDown(Sticky sticky) throws Exception {
    startTether(sticky);
    Duration run = Duration.ofSeconds(6);
    Duration stopAt = Duration.ofSeconds(1);
    List<User> users = users(10);
    String victim = users.get(0).last().server();
    Chaos chaos = new Chaos();
    Stats stats;
    Moves moves;
    try (StatusWatch watch = new StatusWatch(tether.adminUrl("/status"))) {
      long start = System.nanoTime();
      runLoops(users, start, run, () -> {
        sleepUntil(start, stopAt);
        chaos.eventMillis = System.currentTimeMillis();
        chaos.eventNanos = System.nanoTime();
        php.server(victim).pause();
        chaos.eventDoneNanos = System.nanoTime();
        chaos.noticed = awaitHealth(victim, false, chaos.eventMillis);
      });
      stats = Stats.of(users, chaos.eventNanos);
      assertThat(stats.failures).as("failed or non-2xx replies while %s hung", victim).isEmpty();
      // a hung server writes nothing: counters are exact (but for a request in flight at the SIGSTOP, see there)
      moves = checkCountersAndMoves(users, victim, chaos, watch);
    }
    assertThat(Duration.ofMillis(stats.maxMillis)).as("nobody waits longer than response_header, then one retry")
        .isLessThan(CONNECT.plus(RESPONSE_HEADER).plusMillis(500));
    assertThat(chaos.noticed).as("health check (interval 500ms, timeout 500ms, fall 1) marks a hung server down")
        .isLessThan(Duration.ofMillis(1500));
    assertThat(moves.victims()).as("users of %s", victim).isPositive();
    long timedOut = users.stream().flatMap(u -> u.replies.stream())
        .filter(r -> r.millis() >= RESPONSE_HEADER.toMillis()).count();

    long resume = System.currentTimeMillis();
    php.server(victim).resume();
    Duration back = awaitHealth(victim, true, resume);
    int skipped = 0;
    int wentBack = 0;
    for (User u : users) {
      Reply before = u.last();
      for (int i = 0; i < 3; i++) {
        Reply r = u.get();
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        assertThat(r.server()).as("%s is back, users stay where they are: %s", victim, r).isEqualTo(before.server());
      }
      int step = u.replies.get(u.replies.size() - 3).count() - before.count();
      skipped += step > 1 ? 1 : 0;
      wentBack += step < 1 ? 1 : 0;
    }
    figure("%s: %s SIGSTOPped with 10 users clicking: %d requests, 0 non-2xx, %d waited for the response_header "
        + "timeout then moved (max latency %d ms), %d had run on %s before it froze (counter +2); marked down %d ms "
        + "after SIGSTOP, up %d ms after SIGCONT; after SIGCONT %d users' counters skipped one (a request Tether had "
        + "given up on ran late on %s) and %d went back (a request frozen mid-PHP wrote its stale session); other "
        + "servers out of service: %s", sticky, victim, stats.requests, timedOut, stats.maxMillis, moves.replayed(),
        victim, chaos.noticed.toMillis(), back.toMillis(), skipped, victim, wentBack, moves.otherOutages());
  }

  // 5 -----------------------------------------------------------------------------------------------------------

  @ParameterizedTest(name = "sticky {0}")
  @EnumSource(Sticky.class)
  void aFiveMegabyteUploadAndATwentyMegabyteDownloadArriveIntact(Sticky sticky) throws Exception {
    startTether(sticky);
    User user = new User();
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
    figure("%s: 5 MB POST intact in %d ms, 20 MB download intact in %d ms (%.0f MB/s), both on the user's server",
        sticky, uploadMillis, downloadMillis, mb * 1000.0 / Math.max(1, downloadMillis));
  }

  // 6 -----------------------------------------------------------------------------------------------------------

  @ParameterizedTest(name = "sticky {0}")
  @EnumSource(Sticky.class)
  void allServersDownIsA503AtOnceAndServiceResumesWithoutRestartingTether(Sticky sticky) throws Exception {
    startTether(sticky);
    User user = new User();
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
      allDown = Math.max(allDown, awaitHealth(a.name(), false, kill).toMillis());
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
    figure("%s: all 3 SIGKILLed: the next request %d in %d ms; all marked down %d ms after the kill; then 10 x 503 "
        + "(Retry-After: 1), slowest %d ms; the 3 Apaches took %d ms to start, Tether served again %d ms later, the "
        + "user's counter went on (4)", sticky, atOnce.status(), atOnce.millis(), allDown, maxMillis,
        (started - start) / 1_000_000, resumedMillis);
  }

  // helpers -----------------------------------------------------------------------------------------------------

  private static void figure(String format, Object... args) {
    String line = String.format(format, args);
    FIGURES.add(line);
    System.out.println("e2e figure: " + line);
  }

  /** Reads /status: whether Tether's health checks consider the server up. */
  private boolean healthy(String server) {
    return serverStatus(server).getBoolean("healthy");
  }

  private JsonObject serverStatus(String server) {
    JsonObject status = new JsonObject(tether.admin("GET", "/status").body());
    for (Object o : status.getJsonArray("upstreams").getJsonObject(0).getJsonArray("servers")) {
      JsonObject s = (JsonObject) o;
      if (s.getString("name").equals(server)) {
        return s;
      }
    }
    throw new IllegalArgumentException("no server " + server + " in /status");
  }

  /**
   * Waits (bounded) until the health checks mark the server up or down, and returns how long after
   * {@code sinceMillis} (wall clock) the check that did it ran: with rise 1 and fall 1, the first check with that
   * outcome, read from /status ({@code last_check_at}, polled every 10ms while checks run every 200ms).
   */
  private Duration awaitHealth(String server, boolean up, long sinceMillis) {
    long[] first = {Long.MAX_VALUE};
    await(server + " marked " + (up ? "up" : "down")).atMost(HEALTH_NOTICES).pollInterval(Duration.ofMillis(10))
        .until(() -> {
          JsonObject s = serverStatus(server);
          String at = s.getString("last_check_at");
          String check = s.getString("last_check", "");
          if (at != null && check.startsWith("ok") == up) {
            long atMillis = Instant.parse(at).toEpochMilli();
            if (atMillis >= sinceMillis) {
              first[0] = Math.min(first[0], atMillis);
            }
          }
          return s.getBoolean("healthy") == up;
        });
    return Duration.ofMillis(first[0] == Long.MAX_VALUE ? System.currentTimeMillis() - sinceMillis
        : first[0] - sinceMillis);
  }

  private List<User> users(int n) {
    List<User> users = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      User u = new User();
      Reply first = u.get();
      assertThat(first.status()).as(first.toString()).isEqualTo(200);
      users.add(u);
    }
    return users;
  }

  /**
   * Every user clicks in its own thread until {@code run} has passed since {@code start} (at most 2,000 requests
   * each), while {@code chaos} runs its schedule in another thread.
   */
  private static void runLoops(List<User> users, long start, Duration run, ThrowingRunnable chaos) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(users.size() + 1);
    try {
      List<Future<?>> loops = new ArrayList<>();
      for (User u : users) {
        loops.add(pool.submit(() -> {
          while (System.nanoTime() - start < run.toNanos() && u.replies.size() < 2000) {
            u.get();
            Thread.sleep(THINK_MILLIS);
          }
          return null;
        }));
      }
      Future<?> schedule = pool.submit(() -> {
        chaos.run();
        return null;
      });
      schedule.get(run.toSeconds() + 60, TimeUnit.SECONDS);
      for (Future<?> f : loops) {
        f.get(run.toSeconds() + 60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  private static void sleepUntil(long start, Duration at) throws InterruptedException {
    long left = start + at.toNanos() - System.nanoTime();
    if (left > 0) {
      TimeUnit.NANOSECONDS.sleep(left);
    }
  }

  /** What {@link #checkCountersAndMoves} found. */
  private record Moves(long victims, long replayed, List<String> otherOutages, long movedByOtherOutages) {}

  /**
   * Every user's counter went up by exactly one per request, in one session; every user of {@code victim} moved
   * away from it; and every move had a cause: away from the victim once it was hit, or away from a server Tether
   * had marked down or ejected at that moment ({@code watch}). So nobody else moved, and nobody went back to the
   * victim when it returned, unless a server was really taken out of service meanwhile (a health check timing
   * out on a starved machine, say: fall is 1): such outages are allowed, reported, and their moves counted.
   *
   * <p>One exception to +1: the request of a victim's user that was in flight when the victim was hit (sent before
   * the signal was delivered, answered after) and was re-pinned may count +2. PHP writes the session to memcached
   * before the response leaves Apache; hit between the two, the victim had run the GET whose answer never came,
   * and Tether, as documented, retried the GET (idempotent by HTTP) on another server. That request ran twice: an
   * at-least-once retry of a GET that is not really idempotent, not a lost session. Counted and reported.
   */
  private static Moves checkCountersAndMoves(List<User> users, String victim, Chaos chaos, StatusWatch watch) {
    long victims = 0;
    long replayed = 0;
    long movedByOtherOutages = 0;
    Duration slack = Duration.ofMillis(250);
    for (User u : users) {
      List<Reply> replies = u.replies;
      StringBuilder changes = new StringBuilder();
      for (int i = 1; i < replies.size(); i++) {
        Reply a = replies.get(i - 1);
        Reply b = replies.get(i);
        if (!b.ok() || !a.ok() || !b.server().equals(a.server()) || b.count() != a.count() + 1) {
          changes.append(String.format("%n  #%d %s:%d -> %s:%d [%s] started %+d ms after the event, took %d ms", i,
              a.server(), a.count(), b.server(), b.count(), b.debug(), (b.startNanos() - chaos.eventNanos) / 1_000_000,
              b.millis()));
        }
      }
      String history = replies.size() + " replies, changes:" + changes + "\n  outages seen: " + outages(watch);
      boolean movedOffVictim = false;
      for (int i = 1; i < replies.size(); i++) {
        Reply a = replies.get(i - 1);
        Reply b = replies.get(i);
        assertThat(b.session()).as("one session: %s", history).isEqualTo(replies.get(0).session());
        if (!b.server().equals(a.server())) {
          boolean offVictim = a.server().equals(victim) && b.endNanos() > chaos.eventNanos;
          boolean outage = watch.unavailableDuring(a.server(), b.startNanos(), b.endNanos(), slack);
          assertThat(offVictim || outage).as("a move needs a cause (%s hit, or %s out of service): %s", victim,
              a.server(), history).isTrue();
          movedOffVictim |= offVictim;
          movedByOtherOutages += offVictim ? 0 : 1;
        }
        boolean inFlightAtTheEvent = a.server().equals(victim) && !b.server().equals(victim)
            && b.debug().endsWith("sticky=repin") && b.startNanos() < chaos.eventDoneNanos
            && b.endNanos() > chaos.eventNanos;
        if (inFlightAtTheEvent && b.count() == a.count() + 2) {
          replayed++;
          continue;
        }
        assertThat(b.count()).as("counter +1 per request, user %s: %s", u, history).isEqualTo(a.count() + 1);
      }
      if (replies.get(0).server().equals(victim)) {
        victims++;
        assertThat(movedOffVictim).as("a user of %s moves away: %s", victim, history).isTrue();
      }
    }
    List<String> others = watch.all().stream().filter(o -> !o.server().equals(victim))
        .map(o -> o.server() + " " + o.state() + " at " + (o.fromNanos() - chaos.eventNanos) / 1_000_000 + " ms")
        .toList();
    return new Moves(victims, replayed, others, movedByOtherOutages);
  }

  private static String outages(StatusWatch watch) {
    return watch.all().stream().map(o -> String.format("%s %s for %s ms", o.server(), o.state(),
        o.toNanos() == Long.MAX_VALUE ? "(still)" : (o.toNanos() - o.fromNanos()) / 1_000_000)).toList().toString();
  }

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

  @FunctionalInterface
  private interface ThrowingRunnable {
    void run() throws Exception;
  }

  /** When the schedule hit a server, and how long the health checks took to notice, then to see it back. */
  private static final class Chaos {
    volatile long eventMillis;
    volatile long eventNanos;
    volatile long eventDoneNanos;
    volatile Duration noticed = Duration.ZERO;
    volatile Duration back = Duration.ZERO;
  }

  /** One reply as a user saw it. */
  record Reply(int status, String server, int count, String session, String debug, long startNanos, long endNanos,
               String error) {

    private static final Pattern BODY = Pattern.compile("server=(\\S+) count=(\\d+) session=(\\S+)\\s*");

    static Reply of(HttpResponse<String> r, String debug, long start, long end) {
      Matcher m = BODY.matcher(r.body());
      if (r.statusCode() == 200 && m.matches()) {
        return new Reply(200, m.group(1), Integer.parseInt(m.group(2)), m.group(3), debug, start, end, null);
      }
      return new Reply(r.statusCode(), null, -1, null, debug, start, end, r.body().strip());
    }

    boolean ok() {
      return status / 100 == 2 && server != null;
    }

    long millis() {
      return (endNanos - startNanos) / 1_000_000;
    }
  }

  /** One browser: keeps its cookies (PHPSESSID, TETHER) and every reply it got, in order. */
  private final class User {
    final CookieClient client = new CookieClient(tether);
    final List<Reply> replies = new ArrayList<>();

    Reply get() {
      long start = System.nanoTime();
      Reply reply;
      try {
        HttpResponse<String> r = client.get("/");
        reply = Reply.of(r, client.debug(), start, System.nanoTime());
      } catch (RuntimeException e) {
        reply = new Reply(-1, null, -1, null, "", start, System.nanoTime(), e.toString());
      }
      replies.add(reply);
      return reply;
    }

    Reply last() {
      return replies.get(replies.size() - 1);
    }

    @Override
    public String toString() {
      return replies.isEmpty() ? "new user" : "session " + replies.get(0).session();
    }
  }

  /** Figures over every user's replies. */
  private record Stats(long requests, List<Reply> failures, long repins, long maxMillis, long maxMillisAroundEvent,
                       Map<String, Long> perServer) {

    static Stats of(List<User> users, long eventNanos) {
      List<Reply> all = users.stream().flatMap(u -> u.replies.stream()).toList();
      Map<String, Long> perServer = new TreeMap<>();
      all.stream().filter(Reply::ok).forEach(r -> perServer.merge(r.server(), 1L, Long::sum));
      long around = all.stream().filter(r -> Math.abs(r.startNanos() - eventNanos) <= 1_000_000_000L)
          .mapToLong(Reply::millis).max().orElse(0);
      return new Stats(all.size(), all.stream().filter(r -> !r.ok()).toList(),
          all.stream().filter(r -> r.debug().endsWith("sticky=repin")).count(),
          all.stream().mapToLong(Reply::millis).max().orElse(0), around, perServer);
    }
  }
}
