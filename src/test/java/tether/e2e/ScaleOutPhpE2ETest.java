package tether.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import tether.testing.TetherHarness;

/**
 * Issue 16's figures: the PHP scenario (three Apache + mod_php, sessions in memcached) behind two Tether instances
 * with the same configuration, every user sending each request to the other instance in turn. A server is killed
 * and started again while they click: no request fails, no session loses a request, only the dead server's users
 * move, and none of them goes back. Learn and hash modes share their tables through the scenario's own memcached.
 */
@Timeout(90)
class ScaleOutPhpE2ETest {

  @RegisterExtension
  static final PhpStack php = PhpStack.of("web1", "web2", "web3");
  @RegisterExtension
  static final Figures figures = new Figures();

  enum Sticky {
    COOKIE("{mode: cookie, secret: [e2e-new, e2e-old]}"),
    LEARN("{mode: learn, cookie: PHPSESSID, store: {memcached: [\"MEMCACHED\"]}}"),
    HASH("{mode: hash, key: \"cookie:PHPSESSID\", store: {memcached: [\"MEMCACHED\"]}}");

    final String yaml;

    Sticky(String yaml) {
      this.yaml = yaml;
    }

    @Override
    public String toString() {
      return name().toLowerCase();
    }
  }

  private final List<TetherHarness> tethers = new ArrayList<>();

  @AfterEach
  void stop() {
    tethers.forEach(TetherHarness::close);
  }

  private void start(Sticky sticky) {
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
    y.append("    sticky: ").append(sticky.yaml.replace("MEMCACHED", "127.0.0.1:" + php.memcachedPort()))
        .append('\n')
        .append("    health: {path: /health.php, interval: 500ms, timeout: 500ms, rise: 1, fall: 1}\n")
        .append("timeouts: {connect: 1s, response_header: 2s}\n");
    for (int i = 0; i < 2; i++) {
      TetherHarness t = TetherHarness.start(y.toString(), 2, List.of());
      assertThat(t.admin("GET", "/status").statusCode()).isEqualTo(200); // the first call is slow (cold): not now
      tethers.add(t);
    }
  }

  @ParameterizedTest(name = "sticky {0}")
  @EnumSource(Sticky.class)
  void twoInstancesUsersAlternatingAServerKilledAndStartedAgain(Sticky sticky) throws Exception {
    start(sticky);
    Duration run = Duration.ofSeconds(6);
    Duration killAt = Duration.ofSeconds(2);
    Duration restartAt = Duration.ofSeconds(4);
    try (LoadRun load = new LoadRun(tethers, 12)) {
      Apache victim = php.server(load.firstServer());
      Chaos chaos = load.clickFor(run, c -> {
        c.at(killAt);
        c.hit(victim, Apache::kill);
        c.at(restartAt);
        c.heal(victim, Apache::start);
      });
      LoadRun.Stats stats = load.stats(chaos);
      assertThat(stats.failures()).as("failed or non-2xx replies%s", php.errorLogs()).isEmpty();
      // one session per user, its counter +1 per request; only the victim's users moved, none went back
      LoadRun.Moves moves = load.checkCountersAndMoves(victim.name(), chaos);
      assertThat(moves.victims()).as("users of %s", victim.name()).isPositive();
      long users = load.users().size();
      figures.add("%s, 2 Tether instances, %d users alternating between them for %ds, %s SIGKILLed at %ds and"
          + " started at %ds: %d requests, %d non-2xx, 0 lost sessions (counter +1 per request, %d requests ran"
          + " twice on the kill), %d of %d users moved (all of them %s's, none back), %d re-pinned requests;"
          + " max latency %d ms (%d ms within 1 s of the kill); served %s; other outages: %s", sticky, users,
          run.toSeconds(), victim.name(),
          killAt.toSeconds(), restartAt.toSeconds(), stats.requests(), stats.failures().size(), moves.replayed(),
          moves.victims(), users, victim.name(), stats.repins(), stats.maxMillis(), stats.maxMillisAroundEvent(),
          stats.perServer(),
          moves.otherOutages());
    }
  }
}
