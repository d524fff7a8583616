package tether.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import tether.config.ConfigLoader;
import tether.config.TetherConfig;
import tether.upstream.Backend;
import tether.upstream.UpstreamRegistry;

/** A pinned user counts for {@link PinnedUsers#WINDOW} after its last request, whether its first or a later one. */
class PinnedUsersTest {

  @Test
  void aUserCountsUntilTheWindowAfterItsLastRequest() throws Exception {
    TetherConfig c = new ConfigLoader(n -> null).parse("t.yaml",
        "upstreams:\n  app:\n    servers:\n      - {name: web1, address: \"127.0.0.1:1\"}\n");
    Backend web1 = new UpstreamRegistry().build(c).get("app").byName("web1");
    AtomicLong nanos = new AtomicLong(1_000_000_000L);
    PinnedUsers pinned = new PinnedUsers(nanos::get);
    long minute = Duration.ofMinutes(1).toNanos();

    pinned.stickyHit(web1, "alice");
    pinned.stickyHit(web1, "bob");
    assertThat(pinned.recent(web1.state())).isEqualTo(2);
    nanos.addAndGet(4 * minute);
    pinned.stickyHit(web1, "alice"); // alice again, bob not
    nanos.addAndGet(2 * minute); // 6 minutes after both first came, 2 after alice's last
    assertThat(pinned.recent(web1.state())).as("alice only").isEqualTo(1);
    pinned.stickyHit(web1, "alice");
    nanos.addAndGet(4 * minute + 59 * 1_000_000_000L);
    assertThat(pinned.recent(web1.state())).as("4m59s after her last request").isEqualTo(1);
    nanos.addAndGet(2_000_000_000L);
    assertThat(pinned.recent(web1.state())).as("5m01s after it").isZero();
  }
}
