package tether.health;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import tether.config.ConfigLoader;
import tether.upstream.Attempts;
import tether.upstream.Upstream;
import tether.upstream.UpstreamRegistry;

/** The slow-start ramp, measured on the balancer itself: a returning server's share grows with time. */
class SlowStartTest {

  @Test
  void aReturningServerRampsUpLinearly() throws Exception {
    var config = new ConfigLoader(n -> null).parse("t.yaml", """
        upstreams:
          app:
            slow_start: 10s
            servers:
              - {name: a, address: "127.0.0.1:1"}
              - {name: b, address: "127.0.0.1:2"}
        """);
    Upstream u = new UpstreamRegistry().build(config).get("app");
    var a = u.byName("a").state();
    long now = System.nanoTime();
    a.observeProbe(false, "down", 0, 1, 1, now);
    a.observeProbe(true, "ok", 0, 1, 1, now - 1_000_000_000L); // came back 1 s ago: 10 % into the ramp
    double early = shareOfA(u);
    a.observeProbe(false, "down", 0, 1, 1, now);
    a.observeProbe(true, "ok", 0, 1, 1, now - 5_000_000_000L); // 50 % into the ramp
    double middle = shareOfA(u);
    a.observeProbe(false, "down", 0, 1, 1, now);
    a.observeProbe(true, "ok", 0, 1, 1, now - 11_000_000_000L); // ramp over
    double late = shareOfA(u);
    assertThat(early).isBetween(0.03, 0.08); // a tenth of its fair share
    assertThat(middle).isBetween(0.21, 0.29); // half of its fair share of 0.5
    assertThat(late).isBetween(0.48, 0.52);
  }

  private static double shareOfA(Upstream u) {
    int a = 0;
    for (int i = 0; i < 20_000; i++) {
      if (u.pick(0, new Attempts(3)).name().equals("a")) {
        a++;
      }
    }
    return a / 20_000.0;
  }
}
